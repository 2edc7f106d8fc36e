package main

import (
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
)

const (
	testAdminKey = "sy_test_admin_key_for_e2e"
	testSite     = "11111111-1111-4111-8111-111111111111"
	testApp      = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	actionLookup = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	actionSend   = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
)

// setupSite registers an app with a trigger and two actions against provider, installs it on testSite and
// returns an owner client and an app client for that site.
func setupSite(t testing.TB, base, providerURL string) (owner, app client) {
	admin := client{t: t, base: base, key: testAdminKey}
	admin.must("POST", "/v1/apps", map[string]any{"app": map[string]any{"id": testApp, "name": "Forms", "providerBaseUri": providerURL}})
	admin.must("POST", "/v1/triggers", map[string]any{"trigger": map[string]any{
		"appId": testApp, "triggerKey": "form_submitted", "displayName": "Form submitted",
		"payloadDataSchema": map[string]any{"type": "object", "required": []string{"name", "email"},
			"properties": map[string]any{"name": map[string]any{"type": "string"}, "email": map[string]any{"type": "string", "format": "email"}}},
	}})
	admin.must("POST", "/v1/actions", map[string]any{"action": map[string]any{
		"appId": testApp, "actionKey": "lookup_coupon", "displayName": "Look up coupon",
		"inputSchema":  map[string]any{"type": "object", "required": []string{"email"}, "properties": map[string]any{"email": map[string]any{"type": "string"}}},
		"outputSchema": map[string]any{"type": "object", "properties": map[string]any{"code": map[string]any{"type": "string"}}},
	}})
	admin.must("POST", "/v1/actions", map[string]any{"action": map[string]any{
		"appId": testApp, "actionKey": "send_sms", "displayName": "Send SMS",
		"inputSchema": map[string]any{"type": "object", "required": []string{"text"}, "properties": map[string]any{"text": map[string]any{"type": "string"}}},
		"uiSchema":    map[string]any{"text": map[string]any{"ui:widget": "textarea"}},
	}})
	ownerKey := admin.must("POST", "/v1/api-keys", map[string]any{"apiKey": map[string]any{"siteId": testSite, "name": "owner"}})["key"].(string)
	appKey := admin.must("POST", "/v1/api-keys", map[string]any{"apiKey": map[string]any{"siteId": testSite, "appId": testApp, "name": "forms app"}})["key"].(string)
	owner = client{t: t, base: base, key: ownerKey}
	app = client{t: t, base: base, key: "Bearer " + appKey}
	owner.must("POST", "/v1/installations", map[string]any{"appId": testApp})
	return owner, app
}

func twoActionAutomation(status string) map[string]any {
	return map[string]any{"automation": map[string]any{
		"name": "Coupon by SMS", "origin": "USER",
		"configuration": map[string]any{
			"status":        status,
			"trigger":       map[string]any{"appId": testApp, "triggerKey": "form_submitted"},
			"rootActionIds": []string{actionLookup},
			"actions": map[string]any{
				actionLookup: map[string]any{"type": "APP_DEFINED", "appDefinedInfo": map[string]any{
					"appId": testApp, "actionKey": "lookup_coupon",
					"inputMapping":  map[string]any{"email": `{{var("email")}}`},
					"postActionIds": []string{actionSend}}},
				actionSend: map[string]any{"type": "APP_DEFINED", "namespace": "sms", "appDefinedInfo": map[string]any{
					"appId": testApp, "actionKey": "send_sms",
					"inputMapping": map[string]any{"text": `Hi {{var("name")}}, your code is {{var("lookup_coupon-1.code")}}!`}}},
			},
		},
	}}
}

func TestEndToEndTwoActionAutomation(t *testing.T) {
	prov := testprovider.Start(t, map[string]testprovider.Handler{
		"lookup_coupon": testprovider.Result(map[string]any{"code": "WELCOME10"}),
		"send_sms":      testprovider.Result(map[string]any{"messageId": "m-1"}),
	})
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)

	created := owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))["automation"].(map[string]any)
	if created["revision"] != "1" || created["createdDate"] == nil || dig(created, "createdBy.userId") == nil {
		t.Fatalf("created automation lacks revision/createdDate/createdBy: %v", created)
	}
	if ns := dig(created, "configuration.actions."+actionLookup+".namespace"); ns != "lookup_coupon-1" {
		t.Fatalf("default namespace = %v, want lookup_coupon-1", ns)
	}
	id := created["id"].(string)
	got := owner.must("GET", "/automations-service/v2/automations/"+id+"?automationId="+id, nil)["automation"].(map[string]any)
	if got["name"] != "Coupon by SMS" || got["id"] != id {
		t.Fatalf("get under /automations-service = %v", got)
	}

	rep := app.must("POST", "/automations/v1/events/report", map[string]any{
		"triggerKey": "form_submitted", "payload": map[string]any{"name": "Ada", "email": "ada@example.com"},
		"externalEntityId": "dddddddd-dddd-4ddd-8ddd-dddddddddddd"})
	ids := rep["activationIds"].([]any)
	if len(ids) != 1 {
		t.Fatalf("activationIds = %v, want one", ids)
	}
	actID := ids[0].(string)
	log := owner.waitStatus(actID, 10*time.Second)
	if log["status"] != "ENDED" || dig(log, "endedInfo.withFailedActions") != false {
		t.Fatalf("activation log = %v, want ENDED without failed actions", log)
	}
	if dig(log, "initiatedInfo.payload.name") != "Ada" || dig(log, "startedInfo.payload.email") != "ada@example.com" {
		t.Fatalf("activation log infos = %v", log)
	}

	sms := prov.CallsFor("send_sms")
	if len(sms) != 1 {
		t.Fatalf("send_sms calls = %d, want 1", len(sms))
	}
	if txt := sms[0].ActionParams["text"]; txt != "Hi Ada, your code is WELCOME10!" {
		t.Fatalf("send_sms text = %q", txt)
	}
	ac := sms[0].ActivationContext
	if ac["activationId"] != actID || ac["actionId"] != actionSend || ac["triggerKey"] != "form_submitted" ||
		ac["triggerAppId"] != testApp || ac["actionAppId"] != testApp || str(ac["invocationToken"]) == "" {
		t.Fatalf("activationContext = %v", ac)
	}
	if dig(ac, "payload.lookup_coupon-1.code") != "WELCOME10" {
		t.Fatalf("payload seen by second action lacks the first action's output: %v", ac["payload"])
	}
	if k := sms[0].Header.Get("Idempotency-Key"); k != actID+":"+actionSend {
		t.Fatalf("Idempotency-Key = %q", k)
	}

	logs := owner.must("GET", "/v2/activation-action-logs?activationId="+actID, nil)["activationActionLogs"].([]any)
	if len(logs) != 2 {
		t.Fatalf("action logs = %v, want 2", logs)
	}
	first, second := logs[0].(map[string]any), logs[1].(map[string]any)
	if first["id"] != actionLookup || first["activationStatus"] != "ENDED" ||
		dig(first, "startedInfo.appDefinedActionInfo.input.email") != "ada@example.com" ||
		dig(first, "endedInfo.appDefinedActionInfo.output.code") != "WELCOME10" {
		t.Fatalf("first action log = %v", first)
	}
	if second["id"] != actionSend || second["activationStatus"] != "ENDED" || second["type"] != "APP_DEFINED" ||
		dig(second, "endedInfo.appDefinedActionInfo.output.messageId") != "m-1" {
		t.Fatalf("second action log = %v", second)
	}
}

func TestProviderFailureFailsActionAndFlowContinues(t *testing.T) {
	prov := testprovider.Start(t, map[string]testprovider.Handler{
		"lookup_coupon": func(testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 400, Body: map[string]any{"message": "unknown customer"}}
		},
	})
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))
	ids := app.must("POST", "/automations/v1/events/report", map[string]any{
		"triggerKey": "form_submitted", "payload": map[string]any{"name": "Bo", "email": "bo@example.com"}})["activationIds"].([]any)
	log := owner.waitStatus(ids[0].(string), 10*time.Second)
	if log["status"] != "ENDED" || dig(log, "endedInfo.withFailedActions") != true {
		t.Fatalf("activation = %v, want ENDED with failed actions", log)
	}
	logs := owner.must("GET", "/v2/activation-action-logs?activationId="+ids[0].(string), nil)["activationActionLogs"].([]any)
	first := logs[0].(map[string]any)
	if first["activationStatus"] != "FAILED" || str(dig(first, "failedInfo.errorDescription")) == "" {
		t.Fatalf("first action = %v, want FAILED with a description", first)
	}
	// The flow goes on: the second action still ran, with the missing output mapped as empty text.
	if sms := prov.CallsFor("send_sms"); len(sms) != 1 || sms[0].ActionParams["text"] != "Hi Bo, your code is !" {
		t.Fatalf("send_sms calls = %+v", sms)
	}
}

func TestInactiveAutomationDoesNotRun(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	owner.must("POST", "/v2/automations", twoActionAutomation("INACTIVE"))
	ids := app.must("POST", "/automations/v1/events/report", map[string]any{
		"triggerKey": "form_submitted", "payload": map[string]any{"name": "Cy", "email": "cy@example.com"}})["activationIds"].([]any)
	if len(ids) != 0 {
		t.Fatalf("inactive automation started activations %v", ids)
	}
}

// TestGracefulShutdownFinishesInFlightStep stops the server (as SIGTERM does) while a provider call is
// in flight: the step finishes and commits before the process exits, and after a restart the activation
// completes without invoking that action a second time.
func TestGracefulShutdownFinishesInFlightStep(t *testing.T) {
	called := make(chan struct{}, 1)
	prov := testprovider.Start(t, map[string]testprovider.Handler{
		"lookup_coupon": func(testprovider.Call) testprovider.Reply {
			called <- struct{}{}
			time.Sleep(300 * time.Millisecond)
			return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{"code": "SLOW"}}}
		},
	})
	data := t.TempDir()
	env := map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey}
	base, stop := startStoppableServer(t, data, env)
	owner, app := setupSite(t, base, prov.URL)
	owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))
	ids := app.must("POST", "/automations/v1/events/report", map[string]any{
		"triggerKey": "form_submitted", "payload": map[string]any{"name": "Di", "email": "di@example.com"}})["activationIds"].([]any)
	<-called
	stop()

	owner.base = startServer(t, data, env)
	log := owner.waitStatus(ids[0].(string), 10*time.Second)
	if log["status"] != "ENDED" {
		t.Fatalf("activation = %v", log)
	}
	if n := len(prov.CallsFor("lookup_coupon")); n != 1 {
		t.Fatalf("lookup_coupon invoked %d times; the in-flight step should have finished before exit", n)
	}
	if sms := prov.CallsFor("send_sms"); len(sms) != 1 || sms[0].ActionParams["text"] != "Hi Di, your code is SLOW!" {
		t.Fatalf("send_sms = %+v", sms)
	}
}
