package main

import (
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
)

// TestAsyncActionCompletedByProvider: the first action answers TIMEOUT_LENGTH, the activation waits, the
// provider completes it with a result that the second action then maps.
func TestAsyncActionCompletedByProvider(t *testing.T) {
	tokens := make(chan string, 4)
	prov := testprovider.Start(t, map[string]testprovider.Handler{
		"lookup_coupon": func(c testprovider.Call) testprovider.Reply {
			tokens <- c.ActivationContext["invocationToken"].(string)
			return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{},
				"invokeTimeoutType": "TIMEOUT_LENGTH", "timeoutLengthOptions": map[string]any{"timeoutInMinutes": 5}}}
		},
	})
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))
	id := app.must("POST", "/automations/v1/events/report", map[string]any{"triggerKey": "form_submitted",
		"payload": map[string]any{"name": "Ed", "email": "ed@example.com"}})["activationIds"].([]any)[0].(string)
	token := <-tokens

	// The activation is parked with the action INVOKED_ASYNC.
	deadline := time.Now().Add(5 * time.Second)
	for {
		logs := owner.must("GET", "/v2/activation-action-logs?activationId="+id, nil)["activationActionLogs"].([]any)
		if len(logs) == 1 && logs[0].(map[string]any)["activationStatus"] == "INVOKED_ASYNC" {
			if dig(logs[0], "invokedAsyncInfo.appDefinedActionInfo.timeoutDate") == nil {
				t.Fatalf("invokedAsyncInfo lacks timeoutDate: %v", logs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("action never became INVOKED_ASYNC: %v", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	complete := map[string]any{"invocationToken": token, "status": "SUCCESS", "successInfo": map[string]any{"result": map[string]any{"code": "LATE5"}}}
	var e map[string]any
	if code := owner.call("POST", "/automations_runtime/v1/report-action-invocation-completed", complete, &e); code != 403 {
		t.Fatalf("owner completed an app's invocation: %d %v", code, e)
	}
	if out := app.must("POST", "/automations_runtime/v1/report-action-invocation-completed", complete); out["alreadyCompleted"] != nil {
		t.Fatalf("first completion = %v", out)
	}
	if out := app.must("POST", "/automations_runtime/v1/report-action-invocation-completed", complete); out["alreadyCompleted"] != true {
		t.Fatalf("repeated completion = %v, want alreadyCompleted", out)
	}
	bad := map[string]any{"invocationToken": token + "x", "status": "SUCCESS"}
	if code := app.call("POST", "/automations_runtime/v1/report-action-invocation-completed", bad, &e); code != 404 {
		t.Fatalf("forged token: %d %v", code, e)
	}
	log := owner.waitStatus(id, 10*time.Second)
	if log["status"] != "ENDED" {
		t.Fatalf("activation = %v", log)
	}
	if sms := prov.CallsFor("send_sms"); len(sms) != 1 || sms[0].ActionParams["text"] != "Hi Ed, your code is LATE5!" {
		t.Fatalf("send_sms = %+v", sms)
	}
}

// TestAsyncActionTimesOut: without a completion by the provider's timeout date the action FAILS and the
// flow continues.
func TestAsyncActionTimesOut(t *testing.T) {
	prov := testprovider.Start(t, map[string]testprovider.Handler{
		"lookup_coupon": func(c testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{},
				"invokeTimeoutType": "TIMEOUT_DATE", "timeoutDateOptions": map[string]any{"timeoutDate": time.Now().Add(700 * time.Millisecond).UTC().Format(time.RFC3339Nano)}}}
		},
	})
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))
	id := app.must("POST", "/automations/v1/events/report", map[string]any{"triggerKey": "form_submitted",
		"payload": map[string]any{"name": "Flo", "email": "flo@example.com"}})["activationIds"].([]any)[0].(string)
	log := owner.waitStatus(id, 10*time.Second)
	if log["status"] != "ENDED" || dig(log, "endedInfo.withFailedActions") != true {
		t.Fatalf("activation = %v", log)
	}
	logs := owner.must("GET", "/v2/activation-action-logs?activationId="+id, nil)["activationActionLogs"].([]any)
	first := logs[0].(map[string]any)
	if first["activationStatus"] != "FAILED" || dig(first, "invokedAsyncInfo.appDefinedActionInfo.timeoutDate") == nil {
		t.Fatalf("timed-out action = %v", first)
	}
	if len(prov.CallsFor("send_sms")) != 1 {
		t.Fatal("the flow did not continue after the timeout")
	}
}
