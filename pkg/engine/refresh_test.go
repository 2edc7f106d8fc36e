package engine_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

// refreshHarness runs the engine against a real provider on 127.0.0.1 that serves both the trigger
// ("order", refresh-payload by the given handler) and the action ("act", echoing its input).
func refreshHarness(t *testing.T, methods catalog.ImplementedMethods, refresh testprovider.Handler) (*harness, *testprovider.Server) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	prov := testprovider.Start(t, map[string]testprovider.Handler{"act": func(c testprovider.Call) testprovider.Reply {
		return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{"echo": c.ActionParams}}}
	}}, testprovider.On(provider.PathRefreshPayload, "order", refresh))
	client := provider.NewClient(provider.Options{Guard: &provider.AddressGuard{AllowLoopback: true},
		ResponseTimeout: 2 * time.Second, Retry: provider.RetryPolicy{MaxAttempts: 1}})
	h := &harness{t: t, store: st, clock: &clock{t: time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)}}
	h.eng = engine.New(engine.Config{Store: st, Invoker: client, Now: h.clock.Now})
	must(t, st.CreateApp(ctx, &catalog.App{ID: app, Name: "Shop", ProviderBaseURI: prov.URL}))
	must(t, st.PutTrigger(ctx, &catalog.Trigger{AppID: app, TriggerKey: "order", PayloadDataSchema: json.RawMessage(`{"type":"object"}`),
		ImplementedMethods: methods}))
	must(t, st.PutAction(ctx, &catalog.Action{AppID: app, ActionKey: "act", InputSchema: json.RawMessage(`{"type":"object"}`)}))
	if _, err := st.PutInstallation(ctx, &catalog.Installation{SiteID: site, AppID: app}); err != nil {
		t.Fatal(err)
	}
	return h, prov
}

// runOrder reports an "order" event for act → 1-hour delay → act, and runs it past the delay.
func runOrder(h *harness) string {
	h.t.Helper()
	hour := "1"
	a := &automation.Automation{ID: "f0f0f0f0-0000-4000-8000-00000000000f", Revision: "1", Name: "n", Origin: "USER",
		Configuration: &automation.Configuration{Status: "ACTIVE", Trigger: &automation.Trigger{AppID: app, TriggerKey: "order"},
			RootActionIDs: []string{a1}, Actions: map[string]*automation.Action{
				a1: appAction(a1, map[string]any{"status": `{{var("status")}}`}, a2),
				a2: {ID: a2, Type: automation.TypeDelay, DelayInfo: &automation.DelayInfo{OffsetExpression: &hour, OffsetTimeUnit: "HOURS", PostActionIDs: []string{a3}}},
				a3: appAction(a3, map[string]any{"status": `{{var("status")}}`, "before": `{{var("act-1.echo.status")}}`}),
			}}}
	automation.Normalize(a)
	must(h.t, automation.ValidateForSave(a))
	must(h.t, h.store.CreateAutomation(context.Background(), site, a))
	ids, err := h.eng.Report(context.Background(), engine.Event{SiteID: site, AppID: app, TriggerKey: "order",
		ExternalEntityID: "order-7", Payload: map[string]any{"status": "new", "total": 12.0}})
	must(h.t, err)
	h.drain(ids[0])
	h.clock.Advance(time.Hour)
	h.drain(ids[0])
	return ids[0]
}

func TestRefreshPayloadAfterDelay(t *testing.T) {
	declared := catalog.ImplementedMethods{catalog.MethodRefreshPayload: true}
	reply := func(status int, body any) testprovider.Handler {
		return func(testprovider.Call) testprovider.Reply { return testprovider.Reply{Status: status, Body: body} }
	}
	tests := []struct {
		name         string
		methods      catalog.ImplementedMethods
		refresh      testprovider.Handler
		wantRefresh  bool
		wantStatus   run.Status
		wantA3       string // a3's input, "" when it must not run
		wantPayload  string // the DELAY's endedInfo payload, "" when it must not end
		wantWarnings string
	}{
		{name: "refreshed payload replaces the trigger's part", methods: declared, wantRefresh: true,
			refresh:     reply(200, map[string]any{"payload": map[string]any{"status": "paid", "total": 12}}),
			wantStatus:  run.StatusEnded,
			wantA3:      `{"before":"new","status":"paid"}`,
			wantPayload: `{"act-1":{"echo":{"status":"new"}},"status":"paid","total":12}`},
		{name: "cancelActivation cancels", methods: declared, wantRefresh: true,
			refresh:    reply(200, map[string]any{"cancelActivation": true}),
			wantStatus: run.StatusCancelled},
		{name: "failing provider keeps the payload and warns", methods: declared, wantRefresh: true,
			refresh:      reply(503, map[string]any{"message": "try later"}),
			wantStatus:   run.StatusEnded,
			wantA3:       `{"before":"new","status":"new"}`,
			wantPayload:  `{"act-1":{"echo":{"status":"new"}},"status":"new","total":12}`,
			wantWarnings: `[{"warningDate":"2026-01-31T11:00:00Z","errorDescription":"provider answered HTTP 503: {\"message\":\"try later\"}","errorCode":"SERVER_ERROR","reason":"REFRESH_PAYLOAD_FAILED"}]`},
		{name: "answer without payload is a failure", methods: declared, wantRefresh: true,
			refresh:      reply(200, map[string]any{}),
			wantStatus:   run.StatusEnded,
			wantA3:       `{"before":"new","status":"new"}`,
			wantPayload:  `{"act-1":{"echo":{"status":"new"}},"status":"new","total":12}`,
			wantWarnings: `[{"warningDate":"2026-01-31T11:00:00Z","errorDescription":"provider answered HTTP 200: refresh-payload answer has no payload object","errorCode":"MALFORMED","reason":"REFRESH_PAYLOAD_FAILED"}]`},
		{name: "trigger without refreshPayload is not asked", methods: catalog.ImplementedMethods{catalog.MethodValidateConfiguration: true},
			refresh:     reply(200, map[string]any{"cancelActivation": true}),
			wantStatus:  run.StatusEnded,
			wantA3:      `{"before":"new","status":"new"}`,
			wantPayload: `{"act-1":{"echo":{"status":"new"}},"status":"new","total":12}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, prov := refreshHarness(t, tt.methods, tt.refresh)
			id := runOrder(h)

			calls := prov.MethodCalls(provider.PathRefreshPayload)
			if !tt.wantRefresh {
				if len(calls) != 0 {
					t.Fatalf("refresh-payload called %d times", len(calls))
				}
			} else {
				if len(calls) != 1 {
					t.Fatalf("refresh-payload calls = %d, want 1", len(calls))
				}
				// Only the trigger's part of the payload is sent: not the first action's output.
				if want := `{"triggerKey":"order","externalEntityId":"order-7","payload":{"status":"new","total":12}}`; string(calls[0].Body) != want {
					t.Errorf("request\n got %s\nwant %s", calls[0].Body, want)
				}
			}
			act, err := h.store.GetActivation(context.Background(), id)
			must(t, err)
			if act.Status != tt.wantStatus {
				t.Fatalf("status %s, want %s", act.Status, tt.wantStatus)
			}
			if got := mustJSON(t, act.Warnings); tt.wantWarnings != "" && got != tt.wantWarnings || tt.wantWarnings == "" && len(act.Warnings) != 0 {
				t.Errorf("warnings\n got %s\nwant %s", got, tt.wantWarnings)
			}
			invokes := prov.CallsFor("act")
			logs := h.logs(id)
			if tt.wantA3 == "" {
				if len(invokes) != 1 {
					t.Errorf("invokes = %d, want only the first action's", len(invokes))
				}
				if c := act.Infos.Cancelled; c == nil || c.Reason != run.CancelByRefreshPayload || c.Initiator == nil || c.Initiator.AppID != app {
					t.Errorf("cancelledInfo %+v", c)
				}
				if _, ran := logs[a3]; ran {
					t.Errorf("a3 has a log after the cancellation")
				}
				return
			}
			if len(invokes) != 2 {
				t.Fatalf("invokes = %d, want 2", len(invokes))
			}
			if got := mustJSON(t, invokes[1].ActionParams); got != tt.wantA3 {
				t.Errorf("a3 input %s, want %s", got, tt.wantA3)
			}
			d := logs[a2]
			if d.Status != run.ActionEnded || d.EndedInfo == nil || d.EndedInfo.DelayActionInfo == nil {
				t.Fatalf("delay log %+v", d)
			}
			if got := mustJSON(t, d.EndedInfo.DelayActionInfo.Payload); got != tt.wantPayload {
				t.Errorf("delay's payload in the run log\n got %s\nwant %s", got, tt.wantPayload)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRefreshKeepsThePlatformsContactAndTheSchema: the enriched contact is the platform's — never sent to
// the trigger's provider nor taken from its answer — and a refreshed payload that breaks the trigger's
// schema is not used.
func TestRefreshKeepsThePlatformsContactAndTheSchema(t *testing.T) {
	declared := catalog.ImplementedMethods{catalog.MethodRefreshPayload: true}
	const schema = `{"type":"object","properties":{"contactId":{"type":"string","identityType":"contact"},"status":{"type":"string"}}}`
	for _, tc := range []struct {
		name, answer, wantA3, wantWarning string
	}{
		{"a contact in the answer is ignored", `{"payload":{"contactId":"` + contactID + `","status":"paid","contact":{"email":"attacker@evil.example"}}}`,
			`{"before":"new","email":"ada@example.com","status":"paid"}`, ""},
		{"an answer breaking the schema keeps the payload", `{"payload":{"contactId":"` + contactID + `","status":5}}`,
			`{"before":"new","email":"ada@example.com","status":"new"}`, "INVALID_PAYLOAD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var answer map[string]any
			must(t, json.Unmarshal([]byte(tc.answer), &answer))
			h, prov := refreshHarness(t, declared, func(testprovider.Call) testprovider.Reply { return testprovider.Reply{Status: 200, Body: answer} })
			ctx := context.Background()
			must(t, h.store.PutTrigger(ctx, &catalog.Trigger{AppID: app, TriggerKey: "order", PayloadDataSchema: json.RawMessage(schema), ImplementedMethods: declared}))
			must(t, h.store.CreateContact(ctx, site, &contacts.Contact{ID: contactID, Revision: "1", Email: "ada@example.com",
				CreatedDate: h.clock.Now(), UpdatedDate: h.clock.Now()}))
			client := provider.NewClient(provider.Options{Guard: &provider.AddressGuard{AllowLoopback: true}, Retry: provider.RetryPolicy{MaxAttempts: 1}})
			h.eng = engine.New(engine.Config{Store: h.store, Invoker: client, Contacts: h.store, Now: h.clock.Now})

			hour := "1"
			a := &automation.Automation{ID: "f0f0f0f0-0000-4000-8000-00000000000f", Revision: "1", Name: "n", Origin: "USER",
				Configuration: &automation.Configuration{Status: "ACTIVE", Trigger: &automation.Trigger{AppID: app, TriggerKey: "order"},
					RootActionIDs: []string{a1}, Actions: map[string]*automation.Action{
						a1: appAction(a1, map[string]any{"status": `{{var("status")}}`}, a2),
						a2: {ID: a2, Type: automation.TypeDelay, DelayInfo: &automation.DelayInfo{OffsetExpression: &hour, OffsetTimeUnit: "HOURS", PostActionIDs: []string{a3}}},
						a3: appAction(a3, map[string]any{"status": `{{var("status")}}`, "before": `{{var("act-1.echo.status")}}`, "email": `{{var("contact.email")}}`}),
					}}}
			automation.Normalize(a)
			must(t, h.store.CreateAutomation(ctx, site, a))
			ids, err := h.eng.Report(ctx, engine.Event{SiteID: site, AppID: app, TriggerKey: "order", Payload: map[string]any{"contactId": contactID, "status": "new"}})
			must(t, err)
			h.drain(ids[0])
			h.clock.Advance(time.Hour)
			h.drain(ids[0])

			calls := prov.MethodCalls(provider.PathRefreshPayload)
			if len(calls) != 1 || strings.Contains(string(calls[0].Body), "ada@example.com") {
				t.Fatalf("refresh-payload requests = %d, first %s: the contact must not be sent", len(calls), calls)
			}
			invokes := prov.CallsFor("act")
			if len(invokes) != 2 {
				t.Fatalf("invokes = %d", len(invokes))
			}
			if got := mustJSON(t, invokes[1].ActionParams); got != tc.wantA3 {
				t.Errorf("a3 input %s, want %s", got, tc.wantA3)
			}
			act, err := h.store.GetActivation(ctx, ids[0])
			must(t, err)
			if got := mustJSON(t, act.Warnings); (tc.wantWarning == "") != (len(act.Warnings) == 0) || tc.wantWarning != "" && !strings.Contains(got, tc.wantWarning) {
				t.Errorf("warnings %s, want %q", got, tc.wantWarning)
			}
		})
	}
}
