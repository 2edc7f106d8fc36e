package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/expr"
	"github.com/switchyard-dev/switchyard/pkg/preinstalled"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/schema"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

// Event is one reported trigger event, already authenticated as coming from AppID on SiteID.
type Event struct {
	SiteID           string
	AppID            string
	TriggerKey       string
	Payload          map[string]any
	ExternalEntityID string
	RequestID        string
	Idempotency      *Idempotency
	// System marks an event Switchyard reports itself (the system app's triggers, Piggy runs): Wix's key
	// rules for app payloads (flat values, reference §3.1) do not apply; the trigger's schema still does.
	System bool
}

// Idempotency makes a repeated report with the same key (per app, trigger and site) start nothing.
type Idempotency struct {
	Key string
	TTL time.Duration // 0 → DefaultIdempotencyTTL
}

// DefaultIdempotencyTTL is how long an idempotency key is remembered by default: a week, as Wix does.
const DefaultIdempotencyTTL = 7 * 24 * time.Hour

// Report starts one activation per ACTIVE automation of the site on (AppID, TriggerKey) and returns their
// ids. The trigger must exist and its app be installed on the site (else 428); the payload must satisfy
// Wix's key rules and the trigger's payload schema (else 400 naming the field).
func (e *Engine) Report(ctx context.Context, ev Event) ([]string, error) {
	trig, err := e.checkEvent(ctx, &ev)
	if err != nil {
		return nil, err
	}
	autos, err := e.store.ListTriggerAutomations(ctx, ev.SiteID, ev.AppID, ev.TriggerKey)
	if err != nil {
		return nil, fmt.Errorf("match automations: %w", err)
	}
	pre, err := preinstalled.Match(ctx, e.store, ev.SiteID, ev.AppID, ev.TriggerKey)
	if err != nil {
		return nil, err
	}
	autos = append(autos, pre...)
	var news []run.NewActivation
	cache := lookups{}
	for _, a := range autos {
		if !a.IsActive() {
			continue
		}
		n := e.newActivation(a, ev, run.Source{Kind: run.SourceTriggerEvent})
		if !e.filtersPass(a, ev.Payload) {
			n = e.skippedActivation(n, "TRIGGER_FILTERS_NOT_PASSED")
		} else if ok, err := e.triggerAllows(ctx, ev.SiteID, a, ev.Payload); err != nil {
			return nil, fmt.Errorf("trigger rate limit: %w", err)
		} else if !ok {
			n = e.skippedActivation(n, "RATE_LIMIT_EXCEEDED")
		}
		e.enrich(ctx, &n, trig, cache)
		news = append(news, n)
	}
	if ev.Idempotency != nil {
		return e.launchOnce(ctx, ev, news)
	}
	return e.launch(ctx, news)
}

// checkEvent applies ReportEvent's preconditions and payload rules; it returns the trigger.
func (e *Engine) checkEvent(ctx context.Context, ev *Event) (*catalog.Trigger, error) {
	trig, err := e.store.GetTrigger(ctx, ev.AppID, ev.TriggerKey)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, errs.New(errs.FailedPrecondition, "TRIGGER_NOT_FOUND",
			"app %s has no trigger %q", ev.AppID, ev.TriggerKey)
	}
	if err != nil {
		return nil, fmt.Errorf("load trigger: %w", err)
	}
	if _, err := systemapp.GetInstallation(ctx, e.store, ev.SiteID, ev.AppID); errors.Is(err, errs.ErrNotFound) {
		return nil, errs.New(errs.FailedPrecondition, "APP_NOT_INSTALLED",
			"app %s is not installed on site %s", ev.AppID, ev.SiteID)
	} else if err != nil {
		return nil, fmt.Errorf("load installation: %w", err)
	}
	if ev.Payload == nil {
		ev.Payload = map[string]any{}
	}
	if !ev.System {
		if vs := schema.CheckPayloadKeys(ev.Payload, "payload"); len(vs) > 0 {
			return nil, errs.Violations(vs)
		}
	}
	if len(trig.PayloadDataSchema) > 0 {
		sch, err := e.schemas.Compile(trig.PayloadDataSchema)
		if err != nil {
			return nil, fmt.Errorf("trigger %s/%s has an invalid stored schema: %w", ev.AppID, ev.TriggerKey, err)
		}
		if vs := sch.Validate(ev.Payload, "payload"); len(vs) > 0 {
			return nil, errs.Violations(vs)
		}
	}
	return trig, nil
}

// filtersPass evaluates the trigger's filters: all must be true. A filter that cannot be evaluated
// does not pass.
func (e *Engine) filtersPass(a *automation.Automation, payload map[string]any) bool {
	for _, f := range a.Configuration.Trigger.Filters {
		t, err := expr.ParseTemplate(f.FilterExpression)
		if err != nil {
			return false
		}
		ok, err := t.EvalBool(&expr.Env{Payload: payload, Now: e.now})
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// skippedActivation turns a new activation into one SKIPPED at once: it is logged, never run.
func (e *Engine) skippedActivation(n run.NewActivation, reason string) run.NewActivation {
	a := n.Activation
	a.Status, a.OpenBranches = run.StatusSkipped, 0
	a.Infos = run.ActivationInfos{Skipped: &run.SkippedInfo{Reason: reason, Payload: a.Infos.Initiated.Payload,
		ExternalEntityID: a.ExternalEntityID, StatusChangedDate: a.CreatedDate}}
	return run.NewActivation{Activation: a}
}

// launchOnce is launch behind the event's idempotency key.
func (e *Engine) launchOnce(ctx context.Context, ev Event, news []run.NewActivation) ([]string, error) {
	ttl := ev.Idempotency.TTL
	if ttl <= 0 {
		ttl = DefaultIdempotencyTTL
	}
	now := e.now().UTC()
	once := run.Once{Scope: ev.SiteID + "/" + ev.AppID + "/" + ev.TriggerKey, Key: ev.Idempotency.Key,
		CreatedDate: now, ExpiresAt: now.Add(ttl), ActivationIDs: make([]string, 0, len(news))}
	for _, n := range news {
		once.ActivationIDs = append(once.ActivationIDs, n.Activation.ID)
	}
	ids, fresh, err := e.store.CreateActivationsOnce(ctx, once, news)
	if err != nil {
		return nil, fmt.Errorf("create activations: %w", err)
	}
	if fresh {
		e.start(ctx, rootRefs(news))
	}
	return ids, nil
}

func rootRefs(news []run.NewActivation) []run.BranchRef {
	var refs []run.BranchRef
	for _, n := range news {
		for _, b := range n.Branches {
			refs = append(refs, run.BranchRef{ActivationID: b.ActivationID, BranchID: b.ID})
		}
	}
	return refs
}

// launch stores new activations with their root branches and schedules them.
func (e *Engine) launch(ctx context.Context, news []run.NewActivation) ([]string, error) {
	ids := make([]string, 0, len(news))
	if len(news) == 0 {
		return ids, nil
	}
	if err := e.store.CreateActivations(ctx, news); err != nil {
		return nil, fmt.Errorf("create activations: %w", err)
	}
	for _, n := range news {
		ids = append(ids, n.Activation.ID)
	}
	e.start(ctx, rootRefs(news))
	return ids, nil
}

// newActivation freezes the automation revision and the payload into an INITIATED activation with one
// READY branch per root action.
func (e *Engine) newActivation(a *automation.Automation, ev Event, src run.Source) run.NewActivation {
	now := e.now().UTC()
	id := e.newID()
	act := run.Activation{
		ID: id, SiteID: ev.SiteID, AutomationID: a.ID, AutomationRevision: a.Revision, Automation: a,
		TriggerAppID: ev.AppID, TriggerKey: ev.TriggerKey, ExternalEntityID: ev.ExternalEntityID,
		RequestID: ev.RequestID, Source: src, Status: run.StatusInitiated, CreatedDate: now, UpdatedDate: now,
		Infos: run.ActivationInfos{Initiated: &run.InitiatedInfo{Target: "IMMEDIATE", Payload: ev.Payload,
			ExternalEntityID: ev.ExternalEntityID, RequestID: ev.RequestID, StatusChangedDate: now}},
	}
	var branches []run.Branch
	seen := map[string]bool{}
	for _, root := range a.Configuration.RootActionIDs {
		if seen[root] {
			continue
		}
		seen[root] = true
		branches = append(branches, run.Branch{ActivationID: id, ID: root, Version: 1, State: run.BranchReady,
			ActionID: root, Payload: clonePayload(ev.Payload), DueAt: now})
	}
	act.OpenBranches = len(branches)
	if len(branches) == 0 { // a draft run by hand: nothing to do, done at once
		act.Status = run.StatusEnded
		act.Infos.Ended = &run.EndedInfo{StatusChangedDate: now}
	}
	return run.NewActivation{Activation: act, Branches: branches}
}

// clonePayload deep-copies a JSON payload so that branches never share mutable maps.
func clonePayload(p map[string]any) map[string]any {
	if p == nil {
		return map[string]any{}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return map[string]any{}
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil || out == nil {
		return map[string]any{}
	}
	return out
}
