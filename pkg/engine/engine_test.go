package engine_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

const (
	site = "11111111-1111-4111-8111-111111111111"
	app  = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	a1   = "a1a1a1a1-0000-4000-8000-000000000001"
	a2   = "a2a2a2a2-0000-4000-8000-000000000002"
	a3   = "a3a3a3a3-0000-4000-8000-000000000003"
)

// clock is an injected, manually advanced clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// recordingInvoker answers every invoke with {"echo": actionParams} and records the calls.
type recordingInvoker struct {
	mu    sync.Mutex
	calls []provider.InvokeRequest
}

func (r *recordingInvoker) Invoke(_ context.Context, _ provider.Target, req provider.InvokeRequest) (*provider.InvokeResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, req)
	return &provider.InvokeResponse{Result: map[string]any{"echo": req.ActionParams}}, nil
}

type harness struct {
	t     *testing.T
	store *sqlite.Store
	eng   *engine.Engine
	clock *clock
	inv   *recordingInvoker
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "e.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	h := &harness{t: t, store: st, clock: &clock{t: now}, inv: &recordingInvoker{}}
	h.eng = engine.New(engine.Config{Store: st, Invoker: h.inv, Now: h.clock.Now})
	must(t, st.CreateApp(ctx, &catalog.App{ID: app, Name: "A", ProviderBaseURI: "http://127.0.0.1:1"}))
	must(t, st.PutTrigger(ctx, &catalog.Trigger{AppID: app, TriggerKey: "t", PayloadDataSchema: json.RawMessage(`{"type":"object"}`)}))
	must(t, st.PutAction(ctx, &catalog.Action{AppID: app, ActionKey: "act", InputSchema: json.RawMessage(`{"type":"object"}`)}))
	if _, err := st.PutInstallation(ctx, &catalog.Installation{SiteID: site, AppID: app}); err != nil {
		t.Fatal(err)
	}
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func appAction(id string, mapping map[string]any, posts ...string) *automation.Action {
	return &automation.Action{ID: id, Type: automation.TypeAppDefined, AppDefinedInfo: &automation.AppDefinedInfo{
		AppID: app, ActionKey: "act", InputMapping: mapping, PostActionIDs: posts}}
}

// report creates the automation and reports one event, returning the activation id.
func (h *harness) report(roots []string, actions map[string]*automation.Action, payload map[string]any) string {
	h.t.Helper()
	a := &automation.Automation{ID: "f0f0f0f0-0000-4000-8000-00000000000f", Revision: "1", Name: "n", Origin: "USER",
		Configuration: &automation.Configuration{Status: "ACTIVE", Trigger: &automation.Trigger{AppID: app, TriggerKey: "t"},
			RootActionIDs: roots, Actions: actions}}
	automation.Normalize(a)
	if err := automation.ValidateForSave(a); err != nil {
		h.t.Fatal(err)
	}
	must(h.t, h.store.CreateAutomation(context.Background(), site, a))
	ids, err := h.eng.Report(context.Background(), engine.Event{SiteID: site, AppID: app, TriggerKey: "t", Payload: payload})
	must(h.t, err)
	if len(ids) != 1 {
		h.t.Fatalf("activations = %v", ids)
	}
	return ids[0]
}

// drain steps every branch of the activation until none is runnable now; it returns the last instruction
// of each branch.
func (h *harness) drain(actID string) map[string]engine.Instruction {
	h.t.Helper()
	out := map[string]engine.Instruction{}
	for round := 0; round < 50; round++ {
		refs, err := h.store.ClaimDue(context.Background(), h.clock.Now(), time.Minute, 100)
		must(h.t, err)
		if len(refs) == 0 {
			return out
		}
		for _, ref := range refs {
			ins, err := h.eng.Step(context.Background(), ref)
			must(h.t, err)
			out[ref.BranchID] = ins
			must(h.t, h.store.Release(context.Background(), ref, time.Time{}))
		}
	}
	h.t.Fatal("activation did not settle")
	return nil
}

func (h *harness) status(actID string) run.Status {
	a, err := h.store.GetActivation(context.Background(), actID)
	must(h.t, err)
	return a.Status
}

func (h *harness) logs(actID string) map[string]run.ActionLog {
	ls, err := h.store.ListActionLogs(context.Background(), actID)
	must(h.t, err)
	out := map[string]run.ActionLog{}
	for _, l := range ls {
		out[l.ActionID] = l
	}
	return out
}

func TestStepChainsActionsThroughTheirNamespaces(t *testing.T) {
	h := newHarness(t)
	id := h.report([]string{a1}, map[string]*automation.Action{
		a1: appAction(a1, map[string]any{"n": `{{var("x")}}`}, a2),
		a2: appAction(a2, map[string]any{"prev": `got {{var("act-1.echo.n")}}`}),
	}, map[string]any{"x": 7.0})
	if s := h.status(id); s != run.StatusInitiated {
		t.Fatalf("status before any step = %s", s)
	}
	h.drain(id)
	if s := h.status(id); s != run.StatusEnded {
		t.Fatalf("status = %s, want ENDED", s)
	}
	if got := h.inv.calls[1].ActionParams["prev"]; got != "got 7" {
		t.Fatalf("second action input = %v", got)
	}
}

func TestDelayWaitsForTheInjectedClock(t *testing.T) {
	h := newHarness(t)
	ten := "{{10}}"
	id := h.report([]string{a1}, map[string]*automation.Action{
		a1: {ID: a1, Type: automation.TypeDelay, DelayInfo: &automation.DelayInfo{OffsetExpression: &ten, OffsetTimeUnit: "DAYS", PostActionIDs: []string{a2}}},
		a2: appAction(a2, nil),
	}, nil)
	ins := h.drain(id)
	want := h.clock.Now().Add(10 * 24 * time.Hour)
	if ins[a1].Kind != engine.Wait || !ins[a1].Until.Equal(want) {
		t.Fatalf("instruction = %+v, want WAIT until %s", ins[a1], want)
	}
	if l := h.logs(id)[a1]; l.Status != run.ActionStarted || !l.StartedInfo.DelayActionInfo.Date.Equal(want) {
		t.Fatalf("delay log = %+v", l)
	}
	h.clock.Advance(10*24*time.Hour - time.Second)
	h.drain(id)
	if len(h.inv.calls) != 0 || h.status(id) != run.StatusStarted {
		t.Fatalf("delay ended early: calls %d, status %s", len(h.inv.calls), h.status(id))
	}
	h.clock.Advance(time.Second)
	h.drain(id)
	if len(h.inv.calls) != 1 || h.status(id) != run.StatusEnded || h.logs(id)[a1].Status != run.ActionEnded {
		t.Fatalf("after delay: calls %d, status %s", len(h.inv.calls), h.status(id))
	}
}

func TestMonthDelayIsCalendarMonths(t *testing.T) {
	start := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	got, err := engine.AddOffset(start, 1, "MONTHS")
	must(t, err)
	if want := start.AddDate(0, 1, 0); !got.Equal(want) {
		t.Fatalf("1 month after %s = %s, want %s", start, got, want)
	}
}

func TestConditionTakesOneSide(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order float64
		want  string
	}{{"true side", 9, a2}, {"false side", 1, a3}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			id := h.report([]string{a1}, map[string]*automation.Action{
				a1: {ID: a1, Type: automation.TypeCondition, ConditionInfo: &automation.ConditionInfo{
					OrExpressionGroups: []automation.ConditionExpressionGroup{{Operator: "AND", BooleanExpressions: []string{`{{numberGt(var("orders");5)}}`}}},
					TruePostActionIDs:  []string{a2}, FalsePostActionIDs: []string{a3}}},
				a2: appAction(a2, map[string]any{"side": "true"}),
				a3: appAction(a3, map[string]any{"side": "false"}),
			}, map[string]any{"orders": tc.order})
			h.drain(id)
			logs := h.logs(id)
			if _, ran := logs[tc.want]; !ran || len(logs) != 2 || len(h.inv.calls) != 1 {
				t.Fatalf("logs = %v", logs)
			}
			res := logs[a1].EndedInfo.ConditionActionInfo
			if res.Passed != (tc.want == a2) || len(res.ExpressionResults) != 1 {
				t.Fatalf("condition result = %+v", res)
			}
		})
	}
}

func TestParallelRootsEndTogether(t *testing.T) {
	h := newHarness(t)
	id := h.report([]string{a1, a2}, map[string]*automation.Action{
		a1: appAction(a1, nil, a3),
		a2: appAction(a2, nil),
		a3: appAction(a3, nil),
	}, nil)
	h.drain(id)
	if s := h.status(id); s != run.StatusEnded || len(h.inv.calls) != 3 {
		t.Fatalf("status %s, calls %d", s, len(h.inv.calls))
	}
}

func TestSkipConditionSkipsButPostsRun(t *testing.T) {
	h := newHarness(t)
	act := appAction(a1, nil, a2)
	act.AppDefinedInfo.SkipConditionOrExpressionGroups = []automation.ConditionExpressionGroup{{BooleanExpressions: []string{`{{boolEq(var("vip");true)}}`}}}
	id := h.report([]string{a1}, map[string]*automation.Action{a1: act, a2: appAction(a2, nil)}, map[string]any{"vip": true})
	h.drain(id)
	logs := h.logs(id)
	if logs[a1].Status != run.ActionSkipped || logs[a2].Status != run.ActionEnded || len(h.inv.calls) != 1 {
		t.Fatalf("logs = %+v", logs)
	}
}

func TestStepIsIdempotentAfterTheBranchMovedOn(t *testing.T) {
	h := newHarness(t)
	id := h.report([]string{a1}, map[string]*automation.Action{a1: appAction(a1, nil)}, nil)
	ref := run.BranchRef{ActivationID: id, BranchID: a1}
	ins, err := h.eng.Step(context.Background(), ref)
	must(t, err)
	if ins.Kind != engine.Done {
		t.Fatalf("instruction = %+v", ins)
	}
	again, err := h.eng.Step(context.Background(), ref)
	must(t, err)
	if again.Kind != engine.Done || len(h.inv.calls) != 1 {
		t.Fatalf("repeat step = %+v, calls %d", again, len(h.inv.calls))
	}
}

func TestRateLimitActionPerUniqueIdentifierAndWindow(t *testing.T) {
	h := newHarness(t)
	one, hour, who := "{{1}}", "{{1}}", `{{var("contactId")}}`
	id := h.report([]string{a1}, map[string]*automation.Action{
		a1: {ID: a1, Type: automation.TypeRateLimit, RateLimitInfo: &automation.RateLimitInfo{MaxActivationsExpression: one,
			RateLimitDurationExpression: &hour, RateLimitDurationTimeUnit: "HOURS", UniqueIdentifierExpression: &who, PostActionIDs: []string{a2}}},
		a2: appAction(a2, nil),
	}, map[string]any{"contactId": "c1"})
	h.drain(id)
	again := func(contact string) run.ActionLog {
		ids, err := h.eng.Report(context.Background(), engine.Event{SiteID: site, AppID: app, TriggerKey: "t", Payload: map[string]any{"contactId": contact}})
		must(t, err)
		h.drain(ids[0])
		if h.status(ids[0]) != run.StatusEnded {
			t.Fatalf("activation %s", h.status(ids[0]))
		}
		return h.logs(ids[0])[a1]
	}
	if l := h.logs(id)[a1]; l.Status != run.ActionEnded || !l.EndedInfo.RateLimitActionInfo.Passed {
		t.Fatalf("first pass = %+v", l)
	}
	if l := again("c1"); l.Status != run.ActionSkipped || l.SkippedInfo.Reason != "RATE_LIMIT_EXCEEDED" {
		t.Fatalf("second for c1 = %+v", l)
	}
	if l := again("c2"); l.Status != run.ActionEnded {
		t.Fatalf("first for c2 = %+v", l)
	}
	if len(h.inv.calls) != 2 {
		t.Fatalf("posts of an exceeded limit ran: %d calls", len(h.inv.calls))
	}
	h.clock.Advance(time.Hour)
	if l := again("c1"); l.Status != run.ActionEnded {
		t.Fatalf("c1 in the next window = %+v", l)
	}
}

func TestTriggerRateLimitSkipsActivation(t *testing.T) {
	h := newHarness(t)
	a := &automation.Automation{ID: "f0f0f0f0-0000-4000-8000-00000000000f", Revision: "1", Name: "n", Origin: "USER",
		Configuration: &automation.Configuration{Status: "ACTIVE", Trigger: &automation.Trigger{AppID: app, TriggerKey: "t",
			RateLimit: &automation.TriggerRateLimit{MaxActivationsExpression: "{{1}}"}},
			RootActionIDs: []string{a1}, Actions: map[string]*automation.Action{a1: appAction(a1, nil)}}}
	automation.Normalize(a)
	must(t, h.store.CreateAutomation(context.Background(), site, a))
	var statuses []run.Status
	for i := 0; i < 2; i++ {
		ids, err := h.eng.Report(context.Background(), engine.Event{SiteID: site, AppID: app, TriggerKey: "t"})
		must(t, err)
		h.drain(ids[0])
		act, err := h.store.GetActivation(context.Background(), ids[0])
		must(t, err)
		statuses = append(statuses, act.Status)
		if i == 1 && (act.Infos.Skipped == nil || act.Infos.Skipped.Reason != "RATE_LIMIT_EXCEEDED") {
			t.Fatalf("second activation = %+v", act.Infos)
		}
	}
	if statuses[0] != run.StatusEnded || statuses[1] != run.StatusSkipped {
		t.Fatalf("statuses = %v", statuses)
	}
}

func TestSetVariablesAndOutput(t *testing.T) {
	h := newHarness(t)
	id := h.report([]string{a1}, map[string]*automation.Action{
		a1: {ID: a1, Type: automation.TypeSetVariables, SetVariablesInfo: &automation.SetVariablesInfo{
			OutputMapping: map[string]any{"double": `{{multiply(var("points");2)}}`}, PostActionIDs: []string{a2}}},
		a2: {ID: a2, Type: automation.TypeOutput, OutputInfo: &automation.OutputInfo{OutputMapping: map[string]any{"result": `{{var("setVariable.double")}}`}}},
	}, map[string]any{"points": 21.0})
	h.drain(id)
	logs := h.logs(id)
	if got := logs[a2].EndedInfo.OutputActionInfo.Output["result"]; got != 42.0 {
		t.Fatalf("output = %v (logs %+v)", got, logs)
	}
}
