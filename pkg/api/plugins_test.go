package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

const (
	smsApp   = "5a5a5a5a-5a5a-4a5a-8a5a-5a5a5a5a5a5a"
	mailApp  = "6b6b6b6b-6b6b-4b6b-8b6b-6b6b6b6b6b6b"
	actSMS   = "c1c1c1c1-c1c1-4c1c-8c1c-c1c1c1c1c1c1"
	actMail  = "c2c2c2c2-c2c2-4c2c-8c2c-c2c2c2c2c2c2"
	actPlain = "c3c3c3c3-c3c3-4c3c-8c3c-c3c3c3c3c3c3"
)

// pluginFixture is the API with a real provider client, and two provider apps on 127.0.0.1: "SMS"
// (send_sms validates and has a quota; plain declares nothing) and "Mail" (send_mail has a quota).
type pluginFixture struct {
	*fixture
	sms, mail *testprovider.Server
}

func newPluginFixture(t *testing.T, sms, mail []testprovider.Option) *pluginFixture {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	client := provider.NewClient(provider.Options{Guard: &provider.AddressGuard{AllowLoopback: true},
		ResponseTimeout: 500 * time.Millisecond, Retry: provider.RetryPolicy{MaxAttempts: 1}})
	eng := engine.New(engine.Config{Store: store, Invoker: client})
	srv := httptest.NewServer(api.NewServer(api.Config{Store: store, Engine: eng, AdminKeyHash: access.Hash(adminKey), Providers: client}))
	t.Cleanup(srv.Close)
	f := &pluginFixture{fixture: &fixture{t: t, url: srv.URL},
		sms: testprovider.Start(t, nil, sms...), mail: testprovider.Start(t, nil, mail...)}
	f.mustOK("POST", "/v1/apps", adminKey, "", `{"app":{"id":"`+appID+`","name":"Forms"}}`)
	f.mustOK("POST", "/v1/apps", adminKey, "", `{"app":{"id":"`+smsApp+`","name":"SMS","providerBaseUri":"`+f.sms.URL+`"}}`)
	f.mustOK("POST", "/v1/apps", adminKey, "", `{"app":{"id":"`+mailApp+`","name":"Mail","providerBaseUri":"`+f.mail.URL+`"}}`)
	f.mustOK("POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"`+appID+`","triggerKey":"form_submitted","displayName":"Form submitted",
		"payloadDataSchema":{"type":"object","properties":{"phone":{"type":"string"}}}}}`)
	f.mustOK("POST", "/v1/actions", adminKey, "", `{"action":{"appId":"`+smsApp+`","actionKey":"send_sms","displayName":"Send SMS",
		"inputSchema":{"type":"object","properties":{"to":{"type":"string"}}},"implementedMethods":{"validateConfiguration":true,"getQuotaInfo":true}}}`)
	f.mustOK("POST", "/v1/actions", adminKey, "", `{"action":{"appId":"`+smsApp+`","actionKey":"plain","displayName":"Plain","inputSchema":{}}}`)
	f.mustOK("POST", "/v1/actions", adminKey, "", `{"action":{"appId":"`+mailApp+`","actionKey":"send_mail","displayName":"Send mail",
		"inputSchema":{},"implementedMethods":["getQuotaInfo"]}}`)
	f.ownerA = f.key(`{"apiKey":{"siteId":"` + siteA + `","name":"owner A"}}`)
	f.ownerB = f.key(`{"apiKey":{"siteId":"` + siteB + `","name":"owner B"}}`)
	for _, owner := range []string{f.ownerA, f.ownerB} {
		for _, app := range []string{appID, smsApp, mailApp} {
			f.mustOK("POST", "/v1/installations", owner, "", `{"appId":"`+app+`"}`)
		}
	}
	return f
}

// smsAutomation: send_sms → plain → send_mail.
func smsAutomation(to string) string {
	return `{"name":"n","origin":"USER","configuration":{"status":"ACTIVE",
	"trigger":{"appId":"` + appID + `","triggerKey":"form_submitted"},"rootActionIds":["` + actSMS + `"],
	"actions":{"` + actSMS + `":{"type":"APP_DEFINED","appDefinedInfo":{"appId":"` + smsApp + `","actionKey":"send_sms",
		"inputMapping":{"to":"` + to + `"},"postActionIds":["` + actPlain + `"]}},
	"` + actPlain + `":{"type":"APP_DEFINED","appDefinedInfo":{"appId":"` + smsApp + `","actionKey":"plain","postActionIds":["` + actMail + `"]}},
	"` + actMail + `":{"type":"APP_DEFINED","appDefinedInfo":{"appId":"` + mailApp + `","actionKey":"send_mail"}}}}}`
}

// smsValidator rejects an empty recipient and fails (HTTP 500) for "+0".
func smsValidator(c testprovider.Call) testprovider.Reply {
	var m map[string]any
	json.Unmarshal([]byte(c.Request["inputMapping"].(string)), &m)
	switch m["to"] {
	case "":
		return testprovider.Reply{Status: 200, Body: map[string]any{"valid": false, "configurationErrors": []any{map[string]any{
			"fieldKey": "to", "message": "Enter a phone number", "title": "Missing recipient", "ctaLabel": "Fix", "ctaUrl": "https://sms.example.com/fix"}}}}
	case "+0":
		return testprovider.Reply{Status: 500, Body: map[string]any{"error": "database down"}}
	}
	return testprovider.Reply{Status: 200, Body: map[string]any{"valid": true}}
}

func TestValidateWithProviders(t *testing.T) {
	f := newPluginFixture(t, []testprovider.Option{testprovider.On(provider.PathValidateConfiguration, "send_sms", smsValidator)}, nil)
	missingRecipient := `{"errorType":"PROVIDER_ERROR","severity":"ERROR","providerConfigurationError":{"fieldKey":"to","message":"Enter a phone number","ctaLabel":"Fix","ctaUrl":"https://sms.example.com/fix","title":"Missing recipient"}}`
	tests := []struct {
		name     string
		to       string
		settings string
		want     string // the whole response
		calls    int    // validate-configuration calls expected
	}{
		{name: "provider finds an error", to: "", calls: 1,
			want: `{"actionValidationInfo":[{"actionId":"` + actSMS + `","appId":"` + smsApp + `","actionKey":"send_sms","validationErrors":[` + missingRecipient + `]}],"automationValidationErrors":[],"triggerValidationErrors":[],"valid":false}`},
		{name: "valid configuration", to: "{{var(\\\"phone\\\")}}", calls: 1,
			want: `{"actionValidationInfo":[],"automationValidationErrors":[],"triggerValidationErrors":[],"valid":true}`},
		{name: "skipProviderValidations", to: "", settings: `,"validationSettings":{"skipProviderValidations":true}`, calls: 0,
			want: `{"actionValidationInfo":[],"automationValidationErrors":[],"triggerValidationErrors":[],"valid":true}`},
		{name: "actionIds without the provider's action", to: "", settings: `,"validationSettings":{"actionIds":["` + actMail + `"]}`, calls: 0,
			want: `{"actionValidationInfo":[],"automationValidationErrors":[],"triggerValidationErrors":[],"valid":true}`},
		{name: "failing provider is reported, not fatal", to: "+0", calls: 1,
			want: `{"actionValidationInfo":[{"actionId":"` + actSMS + `","appId":"` + smsApp + `","actionKey":"send_sms","validationErrors":[{"errorType":"PROVIDER_ERROR","severity":"WARNING","providerConfigurationError":{"message":"validate-configuration could not be completed: provider answered HTTP 500: {\"error\":\"database down\"}","title":"Provider unavailable"}}]}],"automationValidationErrors":[],"triggerValidationErrors":[],"valid":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.sms.MethodCalls(provider.PathValidateConfiguration))
			body := f.mustOK("POST", "/v2/automations/validate", f.ownerA, "", `{"automation":`+smsAutomation(tt.to)+tt.settings+`}`)
			if got := canonical(t, body); got != canonical(t, []byte(tt.want)) {
				t.Errorf("response\n got %s\nwant %s", got, canonical(t, []byte(tt.want)))
			}
			calls := f.sms.MethodCalls(provider.PathValidateConfiguration)[before:]
			if len(calls) != tt.calls {
				t.Fatalf("validate-configuration calls = %d, want %d", len(calls), tt.calls)
			}
			if tt.calls == 1 {
				if c := calls[0]; c.ActionKey != "send_sms" || c.Request["inputMapping"] != `{"to":"`+tt.to+`"}` {
					t.Errorf("request %s", c.Body)
				}
			}
			// plain declares no validateConfiguration and send_mail only getQuotaInfo: never asked.
			for _, c := range append(f.sms.MethodCalls(provider.PathValidateConfiguration), f.mail.MethodCalls(provider.PathValidateConfiguration)...) {
				if c.ActionKey != "send_sms" {
					t.Errorf("validate-configuration called for %s, which does not declare it", c.ActionKey)
				}
			}
		})
	}

	t.Run("by id, and saving warns without blocking", func(t *testing.T) {
		req, _ := http.NewRequest("POST", f.url+"/v2/automations", strings.NewReader(`{"automation":`+smsAutomation("")+`}`))
		req.Header.Set("Authorization", f.ownerA)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var created struct{ Automation struct{ ID, Revision string } }
		json.NewDecoder(resp.Body).Decode(&created)
		resp.Body.Close()
		if resp.StatusCode != 200 || created.Automation.ID == "" {
			t.Fatalf("create: %d", resp.StatusCode)
		}
		if h := resp.Header.Get(api.HeaderProviderWarnings); h != actSMS+"=INVALID" {
			t.Errorf("%s = %q, want %q", api.HeaderProviderWarnings, h, actSMS+"=INVALID")
		}
		id := created.Automation.ID
		body := f.mustOK("POST", "/v2/automations/"+id+"/validate", f.ownerA, "", `{}`)
		if !strings.Contains(string(body), missingRecipient) || !strings.Contains(string(body), `"valid":false`) {
			t.Errorf("validate by id: %s", body)
		}
		// An update that fixes the recipient carries no warning; one whose provider fails says so.
		for _, tc := range []struct{ to, header string }{{"+1555", ""}, {"+0", actSMS + "=PROVIDER_FAILED"}} {
			cur := map[string]any{}
			json.Unmarshal(f.mustOK("GET", "/v2/automations/"+id, f.ownerA, "", ""), &cur)
			rev := cur["automation"].(map[string]any)["revision"].(string)
			upd := strings.Replace(smsAutomation(tc.to), `{"name":"n",`, `{"name":"n","revision":"`+rev+`",`, 1)
			req, _ := http.NewRequest("PATCH", f.url+"/v2/automations/"+id, strings.NewReader(`{"automation":`+upd+`}`))
			req.Header.Set("Authorization", f.ownerA)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("update to %q: %d", tc.to, resp.StatusCode)
			}
			if h := resp.Header.Get(api.HeaderProviderWarnings); h != tc.header {
				t.Errorf("update to %q: header %q, want %q", tc.to, h, tc.header)
			}
		}
	})
}

func TestValidateTriggerProvider(t *testing.T) {
	f := newPluginFixture(t, nil, nil)
	forms := testprovider.Start(t, nil, testprovider.On(provider.PathTriggerValidateConfiguration, "form_submitted", func(c testprovider.Call) testprovider.Reply {
		return testprovider.Reply{Status: 200, Body: map[string]any{"valid": false, "configurationErrors": []any{
			map[string]any{"fieldKey": "formId", "message": "Form f9 no longer exists", "title": "Unknown form"}}}}
	}))
	const forms2 = "7c7c7c7c-7c7c-4c7c-8c7c-7c7c7c7c7c7c"
	f.mustOK("POST", "/v1/apps", adminKey, "", `{"app":{"id":"`+forms2+`","name":"Forms 2","providerBaseUri":"`+forms.URL+`"}}`)
	f.mustOK("POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"`+forms2+`","triggerKey":"form_submitted","displayName":"Form submitted",
		"payloadDataSchema":{"type":"object"},"implementedMethods":{"validateConfiguration":true,"refreshPayload":false}}}`)
	f.mustOK("POST", "/v1/installations", f.ownerA, "", `{"appId":"`+forms2+`"}`)
	auto := strings.Replace(smsAutomation("+1555"), `"trigger":{"appId":"`+appID+`","triggerKey":"form_submitted"}`,
		`"trigger":{"appId":"`+forms2+`","triggerKey":"form_submitted","filters":[{"id":"f1","fieldKey":"formId","filterExpression":"{{true}}"}],
		"filterValueSelection":{"selectedFilterValues":["f1__f9"]}}`, 1)
	body := f.mustOK("POST", "/v2/automations/validate", f.ownerA, "", `{"automation":`+auto+`}`)
	want := `[{"errorType":"PROVIDER_ERROR","severity":"ERROR","providerConfigurationError":{"fieldKey":"formId","message":"Form f9 no longer exists","title":"Unknown form"}}]`
	var out struct {
		Valid                   bool
		TriggerValidationErrors json.RawMessage
	}
	json.Unmarshal(body, &out)
	if out.Valid || string(out.TriggerValidationErrors) != want {
		t.Errorf("response %s", body)
	}
	calls := forms.MethodCalls(provider.PathTriggerValidateConfiguration)
	if len(calls) != 1 || string(calls[0].Body) != `{"triggerKey":"form_submitted","selectedFilterOptions":[{"fieldKey":"formId","values":["f9"]}]}` {
		t.Errorf("trigger calls %v", calls)
	}
}

func TestActionsQuotaInfo(t *testing.T) {
	quota := func(feature, usage string) testprovider.Handler {
		return func(testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: map[string]any{"actionQuotaInfo": map[string]any{"enforced": true, "quotaInfo": []any{
				map[string]any{"plans": []any{map[string]any{"id": "basic", "name": "Basic"}}, "quotas": []any{map[string]any{
					"featureName": feature, "renewalDate": "2026-02-01T00:00:00Z", "currentUsage": usage, "limit": "100"}}}}}}}
		}
	}
	f := newPluginFixture(t,
		[]testprovider.Option{testprovider.On(provider.PathQuotaInfo, "send_sms", quota("sms", "42"))},
		[]testprovider.Option{testprovider.On(provider.PathQuotaInfo, "send_mail", quota("emails", "7"))})

	empty := f.mustOK("GET", "/v2/automations/actions/quota", f.ownerA, "", "")
	if string(empty) != `{"actionProviderQuotaInfo":[]}` {
		t.Errorf("no automations: %s", empty)
	}
	// Two automations of site A share send_sms; site B uses send_mail only.
	f.mustOK("POST", "/v2/automations", f.ownerA, "", `{"automation":`+smsAutomation("+1555")+`}`)
	f.mustOK("POST", "/v2/automations", f.ownerA, "", `{"automation":`+smsAutomation("+1666")+`}`)
	onlyMail := `{"name":"m","origin":"USER","configuration":{"status":"ACTIVE","trigger":{"appId":"` + appID + `","triggerKey":"form_submitted"},
		"rootActionIds":["` + actMail + `"],"actions":{"` + actMail + `":{"type":"APP_DEFINED","appDefinedInfo":{"appId":"` + mailApp + `","actionKey":"send_mail"}}}}}`
	f.mustOK("POST", "/v2/automations", f.ownerB, "", `{"automation":`+onlyMail+`}`)

	smsEntry := `{"appId":"` + smsApp + `","actionKey":"send_sms","actionQuotaInfo":{"enforced":true,"quotaInfo":[{"plans":[{"id":"basic","name":"Basic"}],"quotas":[{"featureName":"sms","renewalDate":"2026-02-01T00:00:00Z","currentUsage":"42","limit":"100"}]}]}}`
	mailEntry := `{"appId":"` + mailApp + `","actionKey":"send_mail","actionQuotaInfo":{"enforced":true,"quotaInfo":[{"plans":[{"id":"basic","name":"Basic"}],"quotas":[{"featureName":"emails","renewalDate":"2026-02-01T00:00:00Z","currentUsage":"7","limit":"100"}]}]}}`
	for _, tc := range []struct{ name, key, path, want string }{
		{"site A: both apps, send_sms once", f.ownerA, "/v2/automations/actions/quota", `{"actionProviderQuotaInfo":[` + smsEntry + `,` + mailEntry + `]}`},
		{"other prefix", f.ownerA, "/automations-service/v2/automations/actions/quota", `{"actionProviderQuotaInfo":[` + smsEntry + `,` + mailEntry + `]}`},
		{"site B sees only its own", f.ownerB, "/v2/automations/actions/quota", `{"actionProviderQuotaInfo":[` + mailEntry + `]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.mustOK("GET", tc.path, tc.key, "", ""); string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	// Each request asks each provider once per (app, action), and never for plain (no getQuotaInfo).
	if n := len(f.sms.MethodCalls(provider.PathQuotaInfo)); n != 2 {
		t.Errorf("send_sms quota-info calls = %d over two site-A requests, want 2", n)
	}

	t.Run("failing provider is left out", func(t *testing.T) {
		f.sms.Close()
		if got := f.mustOK("GET", "/v2/automations/actions/quota", f.ownerA, "", ""); string(got) != `{"actionProviderQuotaInfo":[`+mailEntry+`]}` {
			t.Errorf("got %s", got)
		}
	})
}

func canonical(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
