package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/preinstalled"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// CancelEvent cancels every pending activation of (trigger, externalEntityId) on the site — including
// ones waiting in a delay or for an async completion — with CANCELLED / EVENT_CANCELLED, and returns how
// many it cancelled. Only the trigger's own app may cancel its events.
func (e *Engine) CancelEvent(ctx context.Context, siteID, appID, triggerKey, externalEntityID string) (int, error) {
	if _, err := e.store.GetTrigger(ctx, appID, triggerKey); errors.Is(err, errs.ErrNotFound) {
		return 0, errs.New(errs.FailedPrecondition, "TRIGGER_NOT_FOUND", "app %s has no trigger %q", appID, triggerKey)
	} else if err != nil {
		return 0, fmt.Errorf("load trigger: %w", err)
	}
	return e.cancel(ctx, run.Cancellation{SiteID: siteID, TriggerAppID: appID, TriggerKey: triggerKey,
		ExternalEntityID: externalEntityID, Reason: run.CancelEventCancelled, Initiator: &run.Initiator{AppID: appID}})
}

// CancelAutomation cancels an automation's pending activations (it was deactivated or deleted).
func (e *Engine) CancelAutomation(ctx context.Context, siteID, automationID, reason string, by *run.Initiator) (int, error) {
	return e.cancel(ctx, run.Cancellation{SiteID: siteID, AutomationID: automationID, Reason: reason, Initiator: by})
}

func (e *Engine) cancel(ctx context.Context, c run.Cancellation) (int, error) {
	c.Now = e.now().UTC()
	refs, err := e.store.CancelActivations(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("cancel activations: %w", err)
	}
	acts := map[string]bool{}
	for _, r := range refs {
		acts[r.ActivationID] = true
	}
	if stopper, ok := e.starter.(Canceller); ok && len(refs) > 0 {
		// The store already ended the branches: an execution that keeps running finds nothing to do.
		if err := stopper.Stop(ctx, refs); err != nil {
			e.log.Warn("stopping cancelled branches failed", "err", err)
		}
	}
	return len(acts), nil
}

// TestRun runs one automation with a given payload, also when it is inactive or a draft, skipping delays
// (MANUAL_ACTIVATION, testMode). It returns the activation id.
func (e *Engine) TestRun(ctx context.Context, siteID, automationID string, payload map[string]any, by string) (string, error) {
	a, err := e.siteAutomation(ctx, siteID, automationID)
	if err != nil {
		return "", err
	}
	ev := Event{SiteID: siteID, AppID: a.Configuration.Trigger.AppID, TriggerKey: a.Configuration.Trigger.TriggerKey, Payload: payload}
	trig, err := e.checkEvent(ctx, &ev)
	if err != nil {
		return "", err
	}
	n := e.newActivation(a, ev, run.Source{Kind: run.SourceManual, TestMode: true, InitiatorUserID: by})
	e.enrich(ctx, &n, trig, lookups{})
	ids, err := e.launch(ctx, []run.NewActivation{n})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// ManualRun is a run started by hand or through an API for one payload (a Piggy automation run): a
// MANUAL_ACTIVATION that is not a test, so the automation must be published (never a draft) and delays
// are honoured. The payload is checked against the trigger's schema only (Event.System): callers such as
// Piggy's runs endpoint pass free-form nested data that Wix's flat-value rules for app events would refuse.
// Whether an inactive automation may run is the caller's policy; the engine runs what it is given.
func (e *Engine) ManualRun(ctx context.Context, r ManualRunRequest) (string, error) {
	a, err := e.siteAutomation(ctx, r.SiteID, r.AutomationID)
	if err != nil {
		return "", err
	}
	if a.DraftInfo != nil {
		return "", errs.New(errs.NotFound, "AUTOMATION_NOT_FOUND", "automation %s not found (drafts run only as tests)", r.AutomationID)
	}
	ev := Event{SiteID: r.SiteID, AppID: a.Configuration.Trigger.AppID, TriggerKey: a.Configuration.Trigger.TriggerKey,
		Payload: r.Payload, ExternalEntityID: r.ExternalEntityID, RequestID: r.RequestID, System: true}
	trig, err := e.checkEvent(ctx, &ev)
	if err != nil {
		return "", err
	}
	n := e.newActivation(a, ev, run.Source{Kind: run.SourceManual, InitiatorUserID: r.By})
	e.enrich(ctx, &n, trig, lookups{})
	ids, err := e.launch(ctx, []run.NewActivation{n})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// ManualRunRequest is what ManualRun runs.
type ManualRunRequest struct {
	SiteID           string
	AutomationID     string
	Payload          map[string]any
	ExternalEntityID string // optional GUID: lets CancelEvent reach the run's pending activation
	RequestID        string
	By               string // the initiating user (API key) id, for initiatorInfo
}

// Rerun starts a new activation of the automation's current revision with a past activation's payload
// (RERUN_ACTIVATION, originalActivationId, optionally skipping delays).
func (e *Engine) Rerun(ctx context.Context, siteID, activationID string, skipDelays bool, by string) (string, error) {
	orig, err := e.store.GetActivation(ctx, activationID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && orig.SiteID != siteID) {
		return "", errs.New(errs.NotFound, "ACTIVATION_NOT_FOUND", "activation %s not found", activationID)
	}
	if err != nil {
		return "", fmt.Errorf("load activation: %w", err)
	}
	a, err := e.siteAutomation(ctx, siteID, orig.AutomationID)
	if err != nil {
		return "", err
	}
	var payload map[string]any
	if orig.Infos.Initiated != nil {
		payload = orig.Infos.Initiated.Payload
	} else if orig.Infos.Skipped != nil {
		payload = orig.Infos.Skipped.Payload
	}
	ev := Event{SiteID: siteID, AppID: orig.TriggerAppID, TriggerKey: orig.TriggerKey, Payload: clonePayload(payload),
		ExternalEntityID: orig.ExternalEntityID}
	n := e.newActivation(a, ev, run.Source{Kind: run.SourceRerun, OriginalActivationID: orig.ID, SkipDelays: skipDelays, InitiatorUserID: by})
	trig, err := e.store.GetTrigger(ctx, orig.TriggerAppID, orig.TriggerKey)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return "", fmt.Errorf("load trigger: %w", err)
	}
	e.enrich(ctx, &n, trig, lookups{}) // afresh: the contact may have changed since the original run
	ids, err := e.launch(ctx, []run.NewActivation{n})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

func (e *Engine) siteAutomation(ctx context.Context, siteID, id string) (*automation.Automation, error) {
	a, err := preinstalled.Get(ctx, e.store, siteID, id)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, errs.New(errs.NotFound, "AUTOMATION_NOT_FOUND", "automation %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load automation: %w", err)
	}
	if a.Configuration == nil || a.Configuration.Trigger == nil {
		return nil, errs.New(errs.FailedPrecondition, "AUTOMATION_HAS_NO_TRIGGER", "automation %s has no trigger", id)
	}
	return a, nil
}
