package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
)

const delayAction = "dededede-dede-4ede-8ede-dededededede"

// delayedAutomation waits a day, then sends an SMS; filters, when given, gate the trigger.
func delayedAutomation(status string, filters ...map[string]any) map[string]any {
	trig := map[string]any{"appId": testApp, "triggerKey": "form_submitted"}
	if len(filters) > 0 {
		trig["filters"] = filters
	}
	return map[string]any{"automation": map[string]any{"name": "Reminder", "origin": "USER",
		"configuration": map[string]any{"status": status, "trigger": trig, "rootActionIds": []string{delayAction},
			"actions": map[string]any{
				delayAction: map[string]any{"type": "DELAY", "delayInfo": map[string]any{"offsetExpression": "{{1}}", "offsetTimeUnit": "DAYS",
					"postActionIds": []string{actionSend}}},
				actionSend: map[string]any{"type": "APP_DEFINED", "appDefinedInfo": map[string]any{"appId": testApp, "actionKey": "send_sms",
					"inputMapping": map[string]any{"text": `Reminder for {{var("name")}}`}}},
			}}}}
}

func report(app client, name, entity string, extra map[string]any) []any {
	body := map[string]any{"triggerKey": "form_submitted", "payload": map[string]any{"name": name, "email": name + "@example.com"}}
	if entity != "" {
		body["externalEntityId"] = entity
	}
	for k, v := range extra {
		body[k] = v
	}
	return app.must("POST", "/automations/v1/events/report", body)["activationIds"].([]any)
}

func TestIdempotentReportStartsOnceUnderConcurrency(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))
	idem := map[string]any{"idempotency": map[string]any{"key": "evt-1", "ttlInMilliseconds": "60000"}}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := report(app, "Gil", "", idem)
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				seen[id.(string)]++
			}
		}()
	}
	wg.Wait()
	if len(seen) != 1 {
		t.Fatalf("8 concurrent duplicates started %d activations: %v", len(seen), seen)
	}
	for id := range seen {
		owner.waitStatus(id, 10*time.Second)
	}
	if n := len(prov.CallsFor("lookup_coupon")); n != 1 {
		t.Fatalf("lookup invoked %d times", n)
	}
	other := report(app, "Gil", "", map[string]any{"idempotency": map[string]any{"key": "evt-2"}})
	if _, dup := seen[other[0].(string)]; dup || len(other) != 1 {
		t.Fatalf("another key reused activations: %v", other)
	}
}

func TestTriggerFiltersSkip(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	a := twoActionAutomation("ACTIVE")
	a["automation"].(map[string]any)["configuration"].(map[string]any)["trigger"].(map[string]any)["filters"] = []map[string]any{
		{"id": "f0000000-0000-4000-8000-000000000001", "fieldKey": "name", "filterExpression": `{{contains(["Ann","Bob"];var("name"))}}`}}
	owner.must("POST", "/v2/automations", a)
	skipped := report(app, "Zed", "", nil)
	log := owner.waitStatus(skipped[0].(string), 5*time.Second)
	if log["status"] != "SKIPPED" || dig(log, "skippedInfo.reason") != "TRIGGER_FILTERS_NOT_PASSED" || dig(log, "skippedInfo.payload.name") != "Zed" {
		t.Fatalf("filtered-out activation = %v", log)
	}
	passed := report(app, "Ann", "", nil)
	if log := owner.waitStatus(passed[0].(string), 5*time.Second); log["status"] != "ENDED" {
		t.Fatalf("matching activation = %v", log)
	}
	if len(prov.CallsFor("lookup_coupon")) != 1 {
		t.Fatal("the skipped activation invoked an action")
	}
}

func TestBulkReportAndCancelWaitingActivations(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	owner.must("POST", "/v2/automations", delayedAutomation("ACTIVE"))
	e1, e2 := "e1e1e1e1-0000-4000-8000-000000000001", "e2e2e2e2-0000-4000-8000-000000000002"
	out := app.must("POST", "/automations/v1/events/bulk-report", map[string]any{"triggerKey": "form_submitted", "eventsInfo": []any{
		map[string]any{"payload": map[string]any{"name": "a", "email": "a@x.io"}, "externalEntityId": e1},
		map[string]any{"payload": map[string]any{"name": "b"}, "externalEntityId": e2}, // misses email: fails alone
		map[string]any{"payload": map[string]any{"name": "c", "email": "c@x.io"}, "externalEntityId": e2},
	}})
	if dig(out, "bulkActionMetadata.totalSuccesses") != 2.0 || dig(out, "bulkActionMetadata.totalFailures") != 1.0 {
		t.Fatalf("bulk metadata = %v", out["bulkActionMetadata"])
	}
	results := out["results"].([]any)
	bad := results[1].(map[string]any)
	if dig(bad, "itemMetadata.success") != false || dig(bad, "itemMetadata.originalIndex") != 1.0 || dig(bad, "itemMetadata.error.code") == nil {
		t.Fatalf("failed item = %v", bad)
	}
	first := results[0].(map[string]any)["activationIds"].([]any)[0].(string)
	third := results[2].(map[string]any)["activationIds"].([]any)[0].(string)

	// Both wait in their day-long delay; cancel the entity of the first.
	for _, id := range []string{first, third} {
		waitFor(t, func() bool {
			return owner.must("GET", "/v2/activation-logs/"+id, nil)["activationLog"].(map[string]any)["status"] == "STARTED"
		})
	}
	var e map[string]any
	if code := owner.call("POST", "/automations/v1/events/cancel", map[string]any{"triggerKey": "form_submitted", "externalEntityId": e1}, &e); code != http.StatusForbidden {
		t.Fatalf("owner cancelled an app's event: %d", code)
	}
	app.must("POST", "/automations/v1/events/cancel", map[string]any{"triggerKey": "form_submitted", "externalEntityId": e1})
	log := owner.must("GET", "/v2/activation-logs/"+first, nil)["activationLog"].(map[string]any)
	if log["status"] != "CANCELLED" || dig(log, "cancelledInfo.reason") != "EVENT_CANCELLED" {
		t.Fatalf("cancelled activation = %v", log)
	}
	if s := owner.must("GET", "/v2/activation-logs/"+third, nil)["activationLog"].(map[string]any)["status"]; s != "STARTED" {
		t.Fatalf("other entity's activation = %v", s)
	}
	bc := app.must("POST", "/automations/v1/events/bulk-cancel", map[string]any{"triggerKey": "form_submitted", "externalEntityIds": []string{e2, "nope"}})
	if dig(bc, "bulkActionMetadata.totalSuccesses") != 1.0 || dig(bc, "bulkActionMetadata.totalFailures") != 1.0 {
		t.Fatalf("bulk cancel = %v", bc)
	}
	if s := owner.must("GET", "/v2/activation-logs/"+third, nil)["activationLog"].(map[string]any)["status"]; s != "CANCELLED" {
		t.Fatalf("bulk-cancelled activation = %v", s)
	}
	if len(prov.Calls()) != 0 {
		t.Fatal("a cancelled activation invoked its action")
	}
}

func TestTestRunSkipsDelaysAndRerun(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, _ := setupSite(t, base, prov.URL)
	id := owner.must("POST", "/v2/automations", delayedAutomation("INACTIVE"))["automation"].(map[string]any)["id"].(string)
	act := owner.must("POST", "/automations/v1/events/test-automation", map[string]any{"identifierType": "AUTOMATION",
		"automationIdentifier": map[string]any{"automationId": id}, "payload": map[string]any{"name": "Ivy", "email": "ivy@x.io"}})["activationId"].(string)
	if log := owner.waitStatus(act, 5*time.Second); log["status"] != "ENDED" {
		t.Fatalf("test run = %v", log)
	}
	calls := prov.CallsFor("send_sms")
	if len(calls) != 1 || calls[0].ActionParams["text"] != "Reminder for Ivy" ||
		dig(calls[0].ActivationContext, "activationSourceInfo.activationInitiationSource") != "MANUAL_ACTIVATION" ||
		dig(calls[0].ActivationContext, "activationSourceInfo.manualActivationInfo.testMode") != true ||
		dig(calls[0].ActivationContext, "initiatorInfo.initiatorUserId") == nil {
		t.Fatalf("test-run invoke = %+v", calls)
	}
	again := owner.must("POST", "/automations/v1/activations/"+act+"/rerun", map[string]any{"skipDelays": true})["activationId"].(string)
	if again == act {
		t.Fatal("rerun reused the activation id")
	}
	if log := owner.waitStatus(again, 5*time.Second); log["status"] != "ENDED" || dig(log, "initiatedInfo.payload.name") != "Ivy" {
		t.Fatalf("rerun = %v", log)
	}
	calls = prov.CallsFor("send_sms")
	if len(calls) != 2 || dig(calls[1].ActivationContext, "activationSourceInfo.rerunActivationInfo.originalActivationId") != act {
		t.Fatalf("rerun invoke = %+v", calls)
	}
}

func TestListActivationLogsPages(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	id := owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))["automation"].(map[string]any)["id"].(string)
	want := map[string]bool{}
	for i := 0; i < 5; i++ {
		want[report(app, fmt.Sprintf("p%d", i), "", nil)[0].(string)] = true
	}
	got := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		path := "/v2/activation-logs?automationIdInfo.automationId=" + id + "&cursorPaging.limit=2"
		if cursor != "" {
			path += "&cursorPaging.cursor=" + cursor
		}
		out := owner.must("GET", path, nil)
		pages++
		for _, l := range out["activationLogs"].([]any) {
			got[l.(map[string]any)["id"].(string)] = true
			if dig(l, "initiatedInfo.payload") != nil {
				t.Fatalf("payload listed without includePayload: %v", l)
			}
		}
		if dig(out, "pagingMetadata.hasNext") != true {
			break
		}
		cursor = dig(out, "pagingMetadata.cursors.next").(string)
	}
	if pages != 3 || len(got) != 5 {
		t.Fatalf("pages %d, activations %d, want 3 and 5", pages, len(got))
	}
	for id := range want {
		if !got[id] {
			t.Fatalf("activation %s missing from the list", id)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
