package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/provider"
)

// memCatalog holds registered apps and definitions, as the stores would.
type memCatalog struct {
	apps     map[string]*catalog.App
	actions  map[string]*catalog.Action
	triggers map[string]*catalog.Trigger
}

func newCatalog() *memCatalog {
	return &memCatalog{apps: map[string]*catalog.App{}, actions: map[string]*catalog.Action{}, triggers: map[string]*catalog.Trigger{}}
}

func (m *memCatalog) GetApp(_ context.Context, id string) (*catalog.App, error) {
	if a, ok := m.apps[id]; ok {
		return a, nil
	}
	return nil, errs.ErrNotFound
}

func (m *memCatalog) GetAction(_ context.Context, app, key string) (*catalog.Action, error) {
	if a, ok := m.actions[app+"/"+key]; ok {
		return a, nil
	}
	return nil, errs.ErrNotFound
}

func (m *memCatalog) GetTrigger(_ context.Context, app, key string) (*catalog.Trigger, error) {
	if t, ok := m.triggers[app+"/"+key]; ok {
		return t, nil
	}
	return nil, errs.ErrNotFound
}

func (m *memCatalog) action(app *catalog.App, key string, methods ...string) {
	im := catalog.ImplementedMethods{}
	for _, k := range methods {
		im[k] = true
	}
	m.actions[app.ID+"/"+key] = &catalog.Action{AppID: app.ID, ActionKey: key, ImplementedMethods: im}
}

func client() *provider.Client {
	return provider.NewClient(provider.Options{Guard: &provider.AddressGuard{AllowLoopback: true},
		ResponseTimeout: 300 * time.Millisecond, Retry: provider.RetryPolicy{MaxAttempts: 1}})
}

const (
	appA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	appB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

func appDefined(appID, key string, mapping map[string]any, posts ...string) *automation.Action {
	return &automation.Action{Type: automation.TypeAppDefined, AppDefinedInfo: &automation.AppDefinedInfo{
		AppID: appID, ActionKey: key, InputMapping: mapping, PostActionIDs: posts}}
}

// chain builds an automation whose actions run in the given order, ids a1, a2, ….
func chain(trigger *automation.Trigger, acts ...*automation.Action) *automation.Automation {
	cfg := &automation.Configuration{Trigger: trigger, Actions: map[string]*automation.Action{}}
	for i, a := range acts {
		id := fmt.Sprintf("a%d", i+1)
		a.ID = id
		if i+1 < len(acts) {
			a.AppDefinedInfo.PostActionIDs = []string{fmt.Sprintf("a%d", i+2)}
		}
		cfg.Actions[id] = a
	}
	cfg.RootActionIDs = []string{"a1"}
	return &automation.Automation{Configuration: cfg}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	stall := make(chan struct{})
	prov := testprovider.Start(t, nil,
		testprovider.On(provider.PathValidateConfiguration, "send_sms", func(c testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: map[string]any{"valid": false, "configurationErrors": []any{
				map[string]any{"fieldKey": "to", "message": "Enter a phone number", "title": "Missing recipient",
					"ctaLabel": "Fix", "ctaUrl": "https://sms.example.com/fix"}}}}
		}),
		testprovider.On(provider.PathValidateConfiguration, "valid_warn", func(c testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: map[string]any{"valid": true, "configurationErrors": []any{
				map[string]any{"message": "Sender name is long", "title": "Check sender"}}}}
		}),
		testprovider.On(provider.PathValidateConfiguration, "invalid_bare", func(c testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: map[string]any{"valid": false}}
		}),
		testprovider.On(provider.PathValidateConfiguration, "down", func(c testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 503, Body: map[string]any{"message": "maintenance"}}
		}),
		testprovider.On(provider.PathValidateConfiguration, "garbled", func(c testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: json.RawMessage(`<html>oops</html>`)}
		}),
		testprovider.On(provider.PathValidateConfiguration, "slow", func(c testprovider.Call) testprovider.Reply {
			<-stall
			return testprovider.Reply{Status: 200, Body: map[string]any{"valid": true}}
		}),
	)
	t.Cleanup(func() { close(stall) }) // runs before the server's Close, which waits for the stalled handler
	cat := newCatalog()
	app := &catalog.App{ID: appA, ProviderBaseURI: prov.URL}
	cat.apps[appA] = app
	for _, k := range []string{"send_sms", "valid_warn", "invalid_bare", "down", "garbled", "slow"} {
		cat.action(app, k, catalog.MethodValidateConfiguration)
	}
	cat.action(app, "no_method") // declares nothing: never asked, always valid
	ck := &Checker{Catalog: cat, Caller: client()}

	tests := []struct {
		name   string
		act    *automation.Action
		want   []Finding
		called bool
	}{
		{name: "provider says invalid", called: true,
			act: appDefined(appA, "send_sms", map[string]any{"to": "{{var(\"phone\")}}"}),
			want: []Finding{{ActionID: "a1", AppID: appA, Key: "send_sms", Severity: "ERROR", Error: provider.ConfigurationError{
				FieldKey: "to", Message: "Enter a phone number", Title: "Missing recipient", CTALabel: "Fix", CTAURL: "https://sms.example.com/fix"}}}},
		{name: "errors of a valid answer are warnings", called: true, act: appDefined(appA, "valid_warn", nil),
			want: []Finding{{ActionID: "a1", AppID: appA, Key: "valid_warn", Severity: "WARNING",
				Error: provider.ConfigurationError{Message: "Sender name is long", Title: "Check sender"}}}},
		{name: "invalid without errors", called: true, act: appDefined(appA, "invalid_bare", nil),
			want: []Finding{{ActionID: "a1", AppID: appA, Key: "invalid_bare", Severity: "ERROR",
				Error: provider.ConfigurationError{Title: "Invalid configuration", Message: "The provider reported this configuration as invalid."}}}},
		{name: "5xx is reported as a failed provider", called: true, act: appDefined(appA, "down", nil),
			want: []Finding{{ActionID: "a1", AppID: appA, Key: "down", Severity: "WARNING", Failed: true,
				Error: provider.ConfigurationError{Title: "Provider unavailable",
					Message: `validate-configuration could not be completed: provider answered HTTP 503: {"message":"maintenance"}`}}}},
		{name: "bad JSON is reported", called: true, act: appDefined(appA, "garbled", nil),
			want: []Finding{{ActionID: "a1", AppID: appA, Key: "garbled", Severity: "WARNING", Failed: true,
				Error: provider.ConfigurationError{Title: "Provider unavailable",
					Message: "validate-configuration could not be completed: provider answered HTTP 200 with a body that is not JSON: <html>oops</html>"}}}},
		{name: "timeout is reported", called: true, act: appDefined(appA, "slow", nil),
			want: []Finding{{ActionID: "a1", AppID: appA, Key: "slow", Severity: "WARNING", Failed: true,
				Error: provider.ConfigurationError{Title: "Provider unavailable",
					Message: "validate-configuration could not be completed: provider did not answer within 300ms"}}}},
		{name: "no validateConfiguration declared: valid, not called", act: appDefined(appA, "no_method", nil)},
		{name: "unknown action: not called", act: appDefined(appA, "nope", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.act.AppDefinedInfo.ActionKey
			before := len(callsFor(prov, key))
			got := ck.Validate(context.Background(), chain(nil, tt.act), Scope{})
			if a, b := mustJSON(t, got), mustJSON(t, tt.want); a != b {
				t.Errorf("findings\n got %s\nwant %s", a, b)
			}
			calls := callsFor(prov, key)[before:]
			if tt.called != (len(calls) == 1) {
				t.Fatalf("provider called %d times, want called=%v", len(calls), tt.called)
			}
			if tt.called {
				want := map[string]any{"actionKey": key, "inputMapping": mustJSON(t, orEmpty(tt.act.AppDefinedInfo.InputMapping))}
				if a, b := mustJSON(t, calls[0].Request), mustJSON(t, want); a != b {
					t.Errorf("request\n got %s\nwant %s", a, b)
				}
			}
		})
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func callsFor(p *testprovider.Server, key string) []testprovider.Call {
	var out []testprovider.Call
	for _, c := range p.MethodCalls(provider.PathValidateConfiguration) {
		if c.ActionKey == key {
			out = append(out, c)
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValidateScopeAndTrigger(t *testing.T) {
	t.Parallel()
	ok := func(testprovider.Call) testprovider.Reply {
		return testprovider.Reply{Status: 200, Body: map[string]any{"valid": true}}
	}
	prov := testprovider.Start(t, nil,
		testprovider.On(provider.PathValidateConfiguration, "one", ok),
		testprovider.On(provider.PathValidateConfiguration, "two", ok),
		testprovider.On(provider.PathTriggerValidateConfiguration, "form_submitted", func(c testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: map[string]any{"valid": false, "configurationErrors": []any{
				map[string]any{"fieldKey": "formId", "message": "Form f2 was deleted", "title": "Unknown form"}}}}
		}))
	cat := newCatalog()
	a := &catalog.App{ID: appA, ProviderBaseURI: prov.URL}
	b := &catalog.App{ID: appB, ProviderBaseURI: prov.URL}
	cat.apps[appA], cat.apps[appB] = a, b
	cat.action(a, "one", catalog.MethodValidateConfiguration)
	cat.action(b, "two", catalog.MethodValidateConfiguration)
	cat.triggers[appA+"/form_submitted"] = &catalog.Trigger{AppID: appA, TriggerKey: "form_submitted",
		ImplementedMethods: catalog.ImplementedMethods{catalog.MethodValidateConfiguration: true}}
	trig := &automation.Trigger{AppID: appA, TriggerKey: "form_submitted",
		Filters:                 []automation.Filter{{ID: "flt1", FieldKey: "formId", FilterExpression: "{{true}}"}},
		FilterValueSelection:    &automation.FilterValueSelection{SelectedFilterValues: []string{"flt1__f1", "flt1__f2", "other__x"}},
		AutomationConfigMapping: map[string]any{"notify": true}}
	auto := chain(trig, appDefined(appA, "one", nil), appDefined(appB, "two", nil))
	ck := &Checker{Catalog: cat, Caller: client()}

	got := ck.Validate(context.Background(), auto, Scope{})
	want := []Finding{{AppID: appA, Key: "form_submitted", Severity: "ERROR",
		Error: provider.ConfigurationError{FieldKey: "formId", Message: "Form f2 was deleted", Title: "Unknown form"}}}
	if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
		t.Errorf("findings\n got %s\nwant %s", a, b)
	}
	tc := prov.MethodCalls(provider.PathTriggerValidateConfiguration)
	var triggerCalls []testprovider.Call
	for _, c := range tc {
		if c.TriggerKey != "" {
			triggerCalls = append(triggerCalls, c)
		}
	}
	if len(triggerCalls) != 1 {
		t.Fatalf("trigger validate calls = %d, want 1", len(triggerCalls))
	}
	wantReq := `{"automationConfigMapping":{"notify":true},"selectedFilterOptions":[{"fieldKey":"formId","values":["f1","f2"]},{"fieldKey":"other","values":["x"]}],"triggerKey":"form_submitted"}`
	if g := mustJSON(t, triggerCalls[0].Request); g != wantReq {
		t.Errorf("trigger request\n got %s\nwant %s", g, wantReq)
	}

	// actionIds: only those actions, and no trigger; apps not installed are not asked.
	before := len(prov.MethodCalls(provider.PathValidateConfiguration))
	got = ck.Validate(context.Background(), auto, Scope{ActionIDs: []string{"a2"}})
	if len(got) != 0 {
		t.Errorf("findings %s", mustJSON(t, got))
	}
	calls := prov.MethodCalls(provider.PathValidateConfiguration)[before:]
	if len(calls) != 1 || calls[0].ActionKey != "two" {
		t.Errorf("with actionIds [a2]: calls %v", calls)
	}
	before = len(prov.MethodCalls(provider.PathValidateConfiguration))
	ck.Validate(context.Background(), auto, Scope{Installed: func(id string) bool { return id == appB }})
	calls = prov.MethodCalls(provider.PathValidateConfiguration)[before:]
	if len(calls) != 1 || calls[0].ActionKey != "two" {
		t.Errorf("only app B installed: calls %v", calls)
	}
}

func TestValidateCallsConcurrentlyWithinBound(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	var mu sync.Mutex
	h := func(testprovider.Call) testprovider.Reply {
		n := inFlight.Add(1)
		mu.Lock()
		if n > peak.Load() {
			peak.Store(n)
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // keep the call open so that others overlap it if allowed
		inFlight.Add(-1)
		return testprovider.Reply{Status: 200, Body: map[string]any{"valid": true}}
	}
	var opts []testprovider.Option
	cat := newCatalog()
	app := &catalog.App{ID: appA}
	cat.apps[appA] = app
	var acts []*automation.Action
	for i := range 7 {
		k := fmt.Sprintf("k%d", i)
		opts = append(opts, testprovider.On(provider.PathValidateConfiguration, k, h))
		cat.action(app, k, catalog.MethodValidateConfiguration)
		acts = append(acts, appDefined(appA, k, nil))
	}
	prov := testprovider.Start(t, nil, opts...)
	app.ProviderBaseURI = prov.URL
	ck := &Checker{Catalog: cat, Caller: client(), Concurrency: 2}
	if got := ck.Validate(context.Background(), chain(nil, acts...), Scope{}); len(got) != 0 {
		t.Fatalf("findings %s", mustJSON(t, got))
	}
	if n := len(prov.MethodCalls(provider.PathValidateConfiguration)); n != 7 {
		t.Fatalf("calls = %d, want 7", n)
	}
	if p := peak.Load(); p > 2 {
		t.Fatalf("%d calls in flight at once, bound is 2", p)
	}
}

func TestQuotas(t *testing.T) {
	t.Parallel()
	quota := func(feature string, usage int) testprovider.Handler {
		return func(testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: map[string]any{"actionQuotaInfo": map[string]any{"enforced": false,
				"quotaInfo": []any{map[string]any{"plans": []any{map[string]any{"id": "free", "name": "Free"}},
					"quotas": []any{map[string]any{"featureName": feature, "currentUsage": usage, "limit": "100"}}}}}}}
		}
	}
	provA := testprovider.Start(t, nil, testprovider.On(provider.PathQuotaInfo, "send_sms", quota("sms", 42)))
	provB := testprovider.Start(t, nil,
		testprovider.On(provider.PathQuotaInfo, "send_email", quota("emails", 7)),
		testprovider.On(provider.PathQuotaInfo, "broken", func(testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 500, Body: map[string]any{}}
		}))
	cat := newCatalog()
	a := &catalog.App{ID: appA, ProviderBaseURI: provA.URL}
	b := &catalog.App{ID: appB, ProviderBaseURI: provB.URL}
	cat.apps[appA], cat.apps[appB] = a, b
	cat.action(a, "send_sms", catalog.MethodGetQuotaInfo)
	cat.action(a, "no_quota") // invoke only
	cat.action(b, "send_email", catalog.MethodGetQuotaInfo, catalog.MethodValidateConfiguration)
	cat.action(b, "broken", catalog.MethodGetQuotaInfo)
	autos := []*automation.Automation{
		chain(nil, appDefined(appB, "send_email", nil), appDefined(appA, "send_sms", nil), appDefined(appA, "no_quota", nil)),
		chain(nil, appDefined(appA, "send_sms", nil), appDefined(appB, "broken", nil)),
		chain(nil, appDefined(appB, "send_email", nil)),
	}
	ck := &Checker{Catalog: cat, Caller: client()}
	got := ck.Quotas(context.Background(), "", autos)
	want := `[{"appId":"` + appA + `","actionKey":"send_sms","actionQuotaInfo":{"enforced":false,"quotaInfo":[{"plans":[{"id":"free","name":"Free"}],"quotas":[{"featureName":"sms","currentUsage":"42","limit":"100"}]}]}},` +
		`{"appId":"` + appB + `","actionKey":"send_email","actionQuotaInfo":{"enforced":false,"quotaInfo":[{"plans":[{"id":"free","name":"Free"}],"quotas":[{"featureName":"emails","currentUsage":"7","limit":"100"}]}]}}]`
	if g := mustJSON(t, got); g != want {
		t.Errorf("quotas\n got %s\nwant %s", g, want)
	}
	if n := len(provA.MethodCalls(provider.PathQuotaInfo)); n != 1 {
		t.Errorf("send_sms used twice but asked %d times, want once", n)
	}
	for _, c := range append(provA.MethodCalls(provider.PathQuotaInfo), provB.MethodCalls(provider.PathQuotaInfo)...) {
		if c.ActionKey == "no_quota" {
			t.Errorf("quota-info called for an action that does not declare getQuotaInfo")
		}
	}
	if got := ck.Quotas(context.Background(), "", nil); got == nil || len(got) != 0 {
		t.Errorf("no automations: %v, want an empty list", got)
	}
}
