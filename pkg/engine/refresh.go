package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/outbound"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// PayloadRefresher asks a trigger's provider for an event's current payload (refresh-payload,
// reference §4.3). *provider.Client is one.
type PayloadRefresher interface {
	RefreshPayload(ctx context.Context, target provider.Target, req provider.RefreshPayloadRequest) (*provider.RefreshPayloadResponse, error)
}

// refreshAfterDelay runs when a delay ends, before the action after it: if the trigger declares
// refreshPayload, its provider's answer replaces the trigger's part of the branch payload (the outputs
// of earlier actions stay), or cancels the activation. A provider that fails leaves the payload as it
// was and adds a REFRESH_PAYLOAD_FAILED warning to the activation. cancelled reports that the
// activation was cancelled and the step must not commit.
func (e *Engine) refreshAfterDelay(ctx context.Context, s *step) (cancelled bool, err error) {
	if e.refresher == nil {
		return false, nil
	}
	def, err := e.store.GetTrigger(ctx, s.act.TriggerAppID, s.act.TriggerKey)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("load trigger definition: %w", err)
	}
	if !def.ImplementedMethods.Has(catalog.MethodRefreshPayload) {
		return false, nil
	}
	app, err := e.store.GetApp(ctx, s.act.TriggerAppID)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("load trigger app: %w", err)
	}
	own := ownedKeys(s)
	if _, enriched := identityField(s.act, def); enriched {
		// The enriched contact is the platform's, not the trigger's: it is neither sent to the trigger's
		// provider nor taken from its answer.
		own[enrichedContactKey] = true
	}
	triggerPart := map[string]any{}
	for k, v := range s.next.Payload {
		if !own[k] {
			triggerPart[k] = v
		}
	}
	// One refresh per delay of a branch: a retried step sends the same key.
	key := s.act.ID + ":" + s.cur.ActionID + ":refresh"
	target, err := e.targets.Target(ctx, app, outbound.Call{SiteID: s.act.SiteID, IdempotencyKey: key, ExtensionType: wixjwt.TriggerProvider})
	if err != nil {
		if !errors.Is(err, outbound.ErrUnsignable) {
			return false, err
		}
		s.warnings = append(s.warnings, run.Warning{WarningDate: s.now, Reason: run.WarningRefreshPayloadFailed,
			ErrorDescription: err.Error(), ErrorCode: "SIGNING_FAILED"})
		return false, nil
	}
	resp, err := e.refresher.RefreshPayload(ctx, target, provider.RefreshPayloadRequest{
		TriggerKey: s.act.TriggerKey, ExternalEntityID: s.act.ExternalEntityID, Payload: clonePayload(triggerPart)})
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err() // shutting down: retry the step, never record a half refresh
		}
		s.warnings = append(s.warnings, run.Warning{WarningDate: s.now, Reason: run.WarningRefreshPayloadFailed,
			ErrorDescription: describeInvokeError(err), ErrorCode: errorCode(err)})
		return false, nil
	}
	if resp.CancelActivation {
		return true, e.cancelByRefresh(ctx, s)
	}
	next := clonePayload(resp.Payload)
	if next == nil {
		next = map[string]any{}
	}
	for k := range own {
		delete(next, k)
	}
	if problem := e.checkRefreshed(def, next); problem != "" {
		// A refreshed payload is held to the rules a reported one is: otherwise it is not used.
		s.warnings = append(s.warnings, run.Warning{WarningDate: s.now, Reason: run.WarningRefreshPayloadFailed,
			ErrorDescription: problem, ErrorCode: "INVALID_PAYLOAD"})
		return false, nil
	}
	for k := range own {
		if v, ok := s.next.Payload[k]; ok {
			next[k] = v // earlier actions' outputs belong to the run, not to the trigger
		}
	}
	s.next.Payload = next
	return false, nil
}

// enrichedContactKey is where identity enrichment puts the contact (enrich.go).
const enrichedContactKey = "contact"

// checkRefreshed applies the trigger's payload schema to a refreshed payload; it returns what is wrong,
// or "".
func (e *Engine) checkRefreshed(def *catalog.Trigger, payload map[string]any) string {
	if len(def.PayloadDataSchema) == 0 {
		return ""
	}
	sch, err := e.schemas.Compile(def.PayloadDataSchema)
	if err != nil {
		return "the trigger's stored schema does not compile: " + err.Error()
	}
	if vs := sch.Validate(payload, "payload"); len(vs) > 0 {
		return fmt.Sprintf("the refreshed payload does not match the trigger's schema: %s %s", vs[0].Field, vs[0].Description)
	}
	return ""
}

// ownedKeys are the payload keys the run itself wrote: action namespaces and setVariable.
func ownedKeys(s *step) map[string]bool {
	own := map[string]bool{"setVariable": true}
	for _, a := range s.act.Automation.Configuration.Actions {
		if a == nil {
			continue
		}
		if a.Namespace != "" {
			own[a.Namespace] = true
		} else if a.AppDefinedInfo != nil {
			own[a.AppDefinedInfo.ActionKey] = true
		}
	}
	return own
}

// cancelByRefresh cancels the activation (CANCELLED_BY_REFRESH_PAYLOAD, initiated by the trigger's app)
// and stops its other branches; this one ends with the step.
func (e *Engine) cancelByRefresh(ctx context.Context, s *step) error {
	refs, err := e.store.CancelActivations(ctx, run.Cancellation{SiteID: s.act.SiteID, ActivationID: s.act.ID,
		Reason: run.CancelByRefreshPayload, Initiator: &run.Initiator{AppID: s.act.TriggerAppID}, Now: s.now})
	if err != nil {
		return fmt.Errorf("cancel activation %s: %w", s.act.ID, err)
	}
	var others []run.BranchRef
	for _, r := range refs {
		if r.BranchID != s.cur.ID {
			others = append(others, r)
		}
	}
	if stopper, ok := e.starter.(Canceller); ok && len(others) > 0 {
		if err := stopper.Stop(ctx, others); err != nil {
			e.log.Warn("stopping cancelled branches failed", "err", err)
		}
	}
	return nil
}

// errorCode is a provider failure's kind, short enough for a warning's errorCode (≤ 20).
func errorCode(err error) string {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return truncate(string(pe.Kind), 20)
	}
	return "PROVIDER_ERROR"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
