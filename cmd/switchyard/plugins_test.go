package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/provider"
)

// TestServicePlugins drives the built server with a provider that implements every service-plugin
// method Switchyard calls: send_sms's validate-configuration and quota-info, and the trigger's
// refresh-payload and cancellation through it.
func TestServicePlugins(t *testing.T) {
	prov := testprovider.Start(t, map[string]testprovider.Handler{"send_sms": testprovider.Result(map[string]any{"messageId": "m-1"})},
		testprovider.On(provider.PathValidateConfiguration, "send_sms", func(c testprovider.Call) testprovider.Reply {
			var m map[string]string
			json.Unmarshal([]byte(c.Request["inputMapping"].(string)), &m)
			if m["text"] == "" {
				return testprovider.Reply{Status: 200, Body: map[string]any{"valid": false, "configurationErrors": []any{
					map[string]any{"fieldKey": "text", "message": "The message is empty", "title": "Empty SMS"}}}}
			}
			return testprovider.Reply{Status: 200, Body: map[string]any{"valid": true}}
		}),
		testprovider.On(provider.PathQuotaInfo, "send_sms", func(testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: json.RawMessage(`{"actionQuotaInfo":{"enforced":false,"quotaInfo":[{"plans":[{"id":"p","name":"Pro"}],
				"quotas":[{"featureName":"sms","renewalDate":"2026-12-01T00:00:00Z","currentUsage":3,"limit":"1000"}]}]}}`)}
		}),
		testprovider.On(provider.PathRefreshPayload, "form_submitted", func(c testprovider.Call) testprovider.Reply {
			p := c.Request["payload"].(map[string]any)
			if p["name"] == "Gone" {
				return testprovider.Reply{Status: 200, Body: map[string]any{"cancelActivation": true}}
			}
			p["name"] = p["name"].(string) + " (refreshed)"
			return testprovider.Reply{Status: 200, Body: map[string]any{"payload": p}}
		}),
	)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, _ := setupSite(t, base, prov.URL)
	admin := client{t: t, base: base, key: testAdminKey}
	admin.must("POST", "/v1/actions", map[string]any{"action": map[string]any{
		"appId": testApp, "actionKey": "send_sms", "displayName": "Send SMS",
		"inputSchema":        map[string]any{"type": "object", "properties": map[string]any{"text": map[string]any{"type": "string"}}},
		"implementedMethods": map[string]any{"validateConfiguration": true, "getQuotaInfo": true}}})
	admin.must("POST", "/v1/triggers", map[string]any{"trigger": map[string]any{
		"appId": testApp, "triggerKey": "form_submitted", "displayName": "Form submitted",
		"payloadDataSchema":  map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}},
		"implementedMethods": []string{"refreshPayload"}}})

	// Validation: the provider's verdict, unless skipped.
	bad := delayedAutomation("ACTIVE")
	dig(bad, "automation.configuration.actions."+actionSend+".appDefinedInfo").(map[string]any)["inputMapping"] = map[string]any{"text": ""}
	res := owner.must("POST", "/v2/automations/validate", bad)
	infos, _ := res["actionValidationInfo"].([]any)
	if res["valid"] != false || len(infos) != 1 || dig(infos[0], "actionId") != actionSend {
		t.Fatalf("validate = %v", res)
	}
	errs := dig(infos[0], "validationErrors").([]any)
	if len(errs) != 1 || dig(errs[0], "errorType") != "PROVIDER_ERROR" || dig(errs[0], "providerConfigurationError.title") != "Empty SMS" ||
		dig(errs[0], "providerConfigurationError.fieldKey") != "text" {
		t.Fatalf("validation errors = %v", errs)
	}
	bad["validationSettings"] = map[string]any{"skipProviderValidations": true}
	if res := owner.must("POST", "/v2/automations/validate", bad); res["valid"] != true {
		t.Fatalf("with skipProviderValidations: %v", res)
	}

	// Saving is never blocked by a provider's verdict.
	id := owner.must("POST", "/v2/automations", delayedAutomation("INACTIVE"))["automation"].(map[string]any)["id"].(string)

	// A test run skips the delay, and the trigger's refresh-payload runs before the SMS.
	for _, tc := range []struct{ name, status, text string }{
		{"Ivy", "ENDED", "Reminder for Ivy (refreshed)"},
		{"Gone", "CANCELLED", ""},
	} {
		before := len(prov.CallsFor("send_sms"))
		act := owner.must("POST", "/automations/v1/events/test-automation", map[string]any{"identifierType": "AUTOMATION",
			"automationIdentifier": map[string]any{"automationId": id}, "payload": map[string]any{"name": tc.name}})["activationId"].(string)
		log := owner.waitStatus(act, 5*time.Second)
		if log["status"] != tc.status {
			t.Fatalf("%s: activation %v", tc.name, log)
		}
		calls := prov.CallsFor("send_sms")[before:]
		if tc.text == "" {
			if len(calls) != 0 || dig(log, "cancelledInfo.reason") != "CANCELLED_BY_REFRESH_PAYLOAD" {
				t.Fatalf("%s: sms %v, log %v", tc.name, calls, log)
			}
			continue
		}
		if len(calls) != 1 || calls[0].ActionParams["text"] != tc.text {
			t.Fatalf("%s: sms calls %+v", tc.name, calls)
		}
	}
	if n := len(prov.MethodCalls(provider.PathRefreshPayload)); n != 2 {
		t.Fatalf("refresh-payload calls = %d, want 2", n)
	}

	// Quota: the provider of send_sms, which the site's automation uses.
	q := owner.must("GET", "/v2/automations/actions/quota", nil)
	entries, _ := q["actionProviderQuotaInfo"].([]any)
	if len(entries) != 1 || dig(entries[0], "actionKey") != "send_sms" || dig(entries[0], "appId") != testApp {
		t.Fatalf("quota = %v", q)
	}
	quotas, _ := dig(entries[0], "actionQuotaInfo.quotaInfo").([]any)
	if len(quotas) != 1 || dig(quotas[0], "plans") == nil {
		t.Fatalf("quota info = %v", entries[0])
	}
	if got, _ := json.Marshal(dig(quotas[0], "quotas")); string(got) != `[{"currentUsage":"3","featureName":"sms","limit":"1000","renewalDate":"2026-12-01T00:00:00Z"}]` {
		t.Fatalf("quotas = %s (usage normalised to a string)", got)
	}
}
