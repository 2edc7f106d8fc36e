package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

const actionEmail = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"

// contactSite is setupSite plus a send_email action on the provider, the system app's contact_updated
// trigger installed on the site, one contact, and an ACTIVE contact_updated automation whose single
// action maps mapping. It returns the owner client, the contact id and the automation id.
func contactSite(t *testing.T, mapping map[string]any) (owner client, contactID, automationID string, prov *testprovider.Server) {
	t.Helper()
	prov = testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, contactID, automationID = contactSetup(t, base, prov, mapping)
	return owner, contactID, automationID, prov
}

// contactSetup is contactSite on a running server.
func contactSetup(t *testing.T, base string, prov *testprovider.Server, mapping map[string]any) (owner client, contactID, automationID string) {
	t.Helper()
	owner, _ = setupSite(t, base, prov.URL)
	admin := client{t: t, base: base, key: testAdminKey}
	admin.must("POST", "/v1/actions", map[string]any{"action": map[string]any{
		"appId": testApp, "actionKey": "send_email", "displayName": "Send email",
		"inputSchema": map[string]any{"type": "object", "required": []string{"to"}, "properties": map[string]any{
			"to": map[string]any{"type": "string"}, "first": map[string]any{"type": "string"}, "points": map[string]any{"type": "number"},
			"reward": map[string]any{"type": "string"}, "phone": map[string]any{"type": "string"}}},
	}})

	c := owner.must("POST", "/v1/contacts", map[string]any{"contact": map[string]any{
		"email": "ada@example.com", "name": map[string]any{"first": "Ada", "last": "Lovelace"}}})
	contactID = dig(c, "contact.id").(string)
	a := owner.must("POST", "/v2/automations", map[string]any{"automation": map[string]any{
		"name": "Send email on birthday", "origin": "USER",
		"configuration": map[string]any{
			"status":        "ACTIVE",
			"trigger":       map[string]any{"appId": systemapp.AppID, "triggerKey": systemapp.TriggerContactUpdated},
			"rootActionIds": []string{actionEmail},
			"actions": map[string]any{actionEmail: map[string]any{"type": "APP_DEFINED", "appDefinedInfo": map[string]any{
				"appId": testApp, "actionKey": "send_email", "inputMapping": mapping}}},
		},
	}})
	return owner, contactID, dig(a, "automation.id").(string)
}

// TestPiggyRunEndToEnd: a contact, a contact_updated automation mapping data and contact.*, a run through
// Piggy's endpoint, and exactly what the provider received.
func TestPiggyRunEndToEnd(t *testing.T) {
	owner, contactID, autoID, prov := contactSite(t, map[string]any{
		"to": "{{contact.email}}", "first": "{{contact.name.first}}", "points": "{{data.points}}", "reward": "{{data.reward.name}}"})

	// The mapping checks know contact.* is in scope.
	v := owner.must("POST", "/v2/automations/"+autoID+"/validate", map[string]any{})
	if dig(v, "valid") != true {
		t.Fatalf("validate = %v, want valid (contact.* must be in scope)", v)
	}
	sch := owner.must("GET", "/v2/automations/schema/"+autoID+"/"+actionEmail, nil)
	if dig(sch, "schema.properties.contact.properties.email.type") != "string" {
		t.Fatalf("action schema lacks contact.email: %v", sch)
	}

	piggy := client{t: t, base: owner.base, key: "Bearer " + owner.key}
	var list struct {
		Data []map[string]any
		Meta []any
	}
	if code := piggy.call("GET", "/api/v3/oauth/clients/automations", nil, &list); code != 200 || len(list.Data) != 1 ||
		list.Data[0]["uuid"] != autoID || list.Data[0]["event"] != "contact_updated" || list.Data[0]["status"] != "active" {
		t.Fatalf("Piggy list = %d %+v", code, list)
	}
	var run map[string]any
	if code := piggy.call("POST", "/api/v3/oauth/clients/automations/runs", map[string]any{"contact_uuid": contactID,
		"automation_uuid": autoID, "data": map[string]any{"points": 5, "reward": map[string]any{"name": "Free coffee"}}}, &run); code != 200 {
		t.Fatalf("Piggy run = %d %v", code, run)
	}
	if b, _ := json.Marshal(run); string(b) != `{"data":[],"meta":[]}` {
		t.Fatalf("Piggy run answered %s", b)
	}

	actID := onlyActivation(t, owner, autoID)
	log := owner.waitStatus(actID, 10*time.Second)
	if log["status"] != "ENDED" || dig(log, "startedInfo.payload.contact.email") != "ada@example.com" || dig(log, "startedInfo.payload.data.points") != 5.0 {
		t.Fatalf("activation log = %v", log)
	}
	calls := prov.CallsFor("send_email")
	if len(calls) != 1 {
		t.Fatalf("send_email calls = %d, want 1", len(calls))
	}
	got, _ := json.Marshal(calls[0].ActionParams)
	if want := `{"first":"Ada","points":5,"reward":"Free coffee","to":"ada@example.com"}`; string(got) != want {
		t.Fatalf("provider received %s, want %s", got, want)
	}
	ac := calls[0].ActivationContext
	if dig(ac, "activationSourceInfo.activationInitiationSource") != "MANUAL_ACTIVATION" || dig(ac, "activationSourceInfo.manualActivationInfo.testMode") != nil ||
		dig(ac, "payload.contactId") != contactID || dig(ac, "payload.contact.name.last") != "Lovelace" {
		t.Fatalf("activationContext = %v", ac)
	}
}

// TestContactUpdateRunsAutomation: PATCH /v1/contacts/{id} reports contact_updated, and the automation
// sees the updated contact both in the trigger payload and under contact.
func TestContactUpdateRunsAutomation(t *testing.T) {
	owner, contactID, autoID, prov := contactSite(t, map[string]any{
		"to": "{{contact.email}}", "first": "{{contact.name.first}}", "phone": "{{phone}}"})

	up := owner.must("PATCH", "/v1/contacts/"+contactID, map[string]any{"revision": "1",
		"contact": map[string]any{"email": "ada@lovelace.org", "phone": "+44 20 7946 0958"}})
	ids, _ := up["activationIds"].([]any)
	if len(ids) != 1 || dig(up, "contact.revision") != "2" {
		t.Fatalf("PATCH answered %v, want revision 2 and one activation", up)
	}
	if onlyActivation(t, owner, autoID) != ids[0] {
		t.Fatalf("the activation is not the contact_updated automation's")
	}
	log := owner.waitStatus(ids[0].(string), 10*time.Second)
	if log["status"] != "ENDED" || len(prov.CallsFor("send_email")) != 1 {
		t.Fatalf("activation log = %v; calls %d", log, len(prov.CallsFor("send_email")))
	}
	got, _ := json.Marshal(prov.CallsFor("send_email")[0].ActionParams)
	if want := `{"first":"Ada","phone":"+44 20 7946 0958","to":"ada@lovelace.org"}`; string(got) != want {
		t.Fatalf("provider received %s, want %s", got, want)
	}

	// A run for a contact that no longer exists is Piggy's 55031.
	c := owner.must("POST", "/v1/contacts", map[string]any{"contact": map[string]any{"email": "grace@example.org"}})
	newID := dig(c, "contact.id").(string)
	owner.must("DELETE", "/v1/contacts/"+newID, nil)
	piggy := client{t: t, base: owner.base, key: "Bearer " + owner.key}
	var e map[string]any
	if code := piggy.call("POST", "/api/v3/oauth/clients/automations/runs", map[string]any{"contact_uuid": newID, "automation_uuid": autoID}, &e); code != 404 || e["code"] != 55031.0 {
		t.Fatalf("run for a deleted contact = %d %v, want 404 55031", code, e)
	}
}

// onlyActivation waits for the automation's single activation to be listed and returns its id.
func onlyActivation(t *testing.T, owner client, automationID string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		l := owner.must("GET", "/v2/activation-logs?automationIdInfo.automationId="+automationID, nil)
		if logs, _ := l["activationLogs"].([]any); len(logs) > 0 {
			if len(logs) != 1 {
				t.Fatalf("activations of %s = %d, want 1", automationID, len(logs))
			}
			return dig(logs[0], "id").(string)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no activation of %s listed", automationID)
	return ""
}
