package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// eventInfo is one event of ReportEvent / BulkReportEvent (reference §3.1).
type eventInfo struct {
	Payload          map[string]any `json:"payload"`
	ExternalEntityID string         `json:"externalEntityId,omitempty"`
	Idempotency      *struct {
		Key               string `json:"key"`
		TTLInMilliseconds string `json:"ttlInMilliseconds,omitempty"`
	} `json:"idempotency,omitempty"`
}

type reportEventRequest struct {
	TriggerKey string `json:"triggerKey"`
	eventInfo
}

// requireApp allows only a key acting as an app: events belong to the app that owns the trigger.
func requireApp(p access.Principal, what string) error {
	if !p.IsApp() {
		return errs.New(errs.PermissionDenied, "APP_IDENTITY_REQUIRED", "only an app may %s; use a key with an appId", what)
	}
	return nil
}

// toEvent checks one event's fields (paths under prefix) and builds the engine's event.
func toEvent(p access.Principal, triggerKey string, in eventInfo, prefix, requestID string) (engine.Event, []errs.FieldViolation) {
	var vs []errs.FieldViolation
	if in.ExternalEntityID != "" && !automation.IsGUID(in.ExternalEntityID) {
		vs = append(vs, errs.FieldViolation{Field: prefix + "externalEntityId", Description: "must be a GUID", ViolatedRule: "FORMAT"})
	}
	ev := engine.Event{SiteID: p.SiteID, AppID: p.AppID, TriggerKey: triggerKey, Payload: in.Payload,
		ExternalEntityID: in.ExternalEntityID, RequestID: requestID}
	if in.Idempotency != nil {
		checkLen(&vs, prefix+"idempotency.key", in.Idempotency.Key, 1, 80)
		idem := &engine.Idempotency{Key: in.Idempotency.Key}
		if in.Idempotency.TTLInMilliseconds != "" {
			ms, err := strconv.ParseInt(in.Idempotency.TTLInMilliseconds, 10, 64)
			if err != nil || ms < 1 || ms > int64(365*24*time.Hour/time.Millisecond) {
				vs = append(vs, errs.FieldViolation{Field: prefix + "idempotency.ttlInMilliseconds",
					Description: "must be a whole number of milliseconds from 1 to one year, as a string", ViolatedRule: "RANGE"})
			} else {
				idem.TTL = time.Duration(ms) * time.Millisecond
			}
		}
		ev.Idempotency = idem
	}
	return ev, vs
}

// reportEvent is ReportEvent: only an app may report, and only for its own triggers (the trigger is
// looked up under the caller's app id, so another app's trigger is simply not found).
func (s *server) reportEvent(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	if err := requireApp(p, "report events for its triggers"); err != nil {
		return err
	}
	var req reportEventRequest
	if err := s.decode(r, &req); err != nil {
		return err
	}
	var vs []errs.FieldViolation
	checkLen(&vs, "triggerKey", req.TriggerKey, 1, 100)
	ev, evs := toEvent(p, req.TriggerKey, req.eventInfo, "", w.Header().Get("X-Wix-Request-Id"))
	if err := errs.Violations(append(vs, evs...)); err != nil {
		return err
	}
	ids, err := s.engine.Report(r.Context(), ev)
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"activationIds": ids})
	return nil
}

type itemMetadata struct {
	OriginalIndex int        `json:"originalIndex"`
	Success       bool       `json:"success"`
	Error         *itemError `json:"error,omitempty"`
}

type itemError struct {
	Code        string         `json:"code"`
	Description string         `json:"description"`
	Data        map[string]any `json:"data"`
}

type bulkActionMetadata struct {
	TotalSuccesses     int `json:"totalSuccesses"`
	TotalFailures      int `json:"totalFailures"`
	UndetailedFailures int `json:"undetailedFailures"`
}

// record counts one item of a bulk call and returns its ItemMetadata: success, or the error it failed with.
func (m *bulkActionMetadata) record(index int, err error) itemMetadata {
	if err != nil {
		m.TotalFailures++
		return itemMetadata{OriginalIndex: index, Error: itemFailure(err)}
	}
	m.TotalSuccesses++
	return itemMetadata{OriginalIndex: index, Success: true}
}

// itemFailure describes one failed item of a bulk call in the Wix ItemMetadata shape.
func itemFailure(err error) *itemError {
	e, ok := err.(*errs.Error)
	if !ok || e.Kind == errs.Internal {
		return &itemError{Code: "INTERNAL_ERROR", Description: "internal error", Data: map[string]any{}}
	}
	code := e.Code
	if code == "" {
		code = defaultCode(e.Kind)
	}
	data := map[string]any{}
	if len(e.Violations) > 0 {
		data["fieldViolations"] = e.Violations
	}
	return &itemError{Code: code, Description: e.Message, Data: data}
}

// bulkReportEvent reports 1..100 events of one trigger; each succeeds or fails on its own.
func (s *server) bulkReportEvent(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	if err := requireApp(p, "report events for its triggers"); err != nil {
		return err
	}
	var req struct {
		TriggerKey string      `json:"triggerKey"`
		EventsInfo []eventInfo `json:"eventsInfo"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	var vs []errs.FieldViolation
	checkLen(&vs, "triggerKey", req.TriggerKey, 1, 100)
	if n := len(req.EventsInfo); n < 1 || n > 100 {
		vs = append(vs, errs.FieldViolation{Field: "eventsInfo", Description: "must hold 1 to 100 events", ViolatedRule: "ITEMS"})
	}
	if err := errs.Violations(vs); err != nil {
		return err
	}
	type result struct {
		ItemMetadata  itemMetadata `json:"itemMetadata"`
		EventInfo     eventInfo    `json:"eventInfo"`
		ActivationIDs []string     `json:"activationIds"`
	}
	results := make([]result, 0, len(req.EventsInfo))
	var meta bulkActionMetadata
	for i, in := range req.EventsInfo {
		res := result{EventInfo: in, ActivationIDs: []string{}}
		ev, evs := toEvent(p, req.TriggerKey, in, fmt.Sprintf("eventsInfo[%d].", i), w.Header().Get("X-Wix-Request-Id"))
		err := errs.Violations(evs)
		if err == nil {
			var ids []string
			if ids, err = s.engine.Report(r.Context(), ev); err == nil {
				res.ActivationIDs = ids
			}
		}
		if errs.KindOf(err) == errs.Internal && err != nil {
			s.log.ErrorContext(r.Context(), "bulk report item failed", "index", i, "err", err)
		}
		res.ItemMetadata = meta.record(i, err)
		results = append(results, res)
	}
	s.ok(w, map[string]any{"triggerKey": req.TriggerKey, "results": results, "bulkActionMetadata": meta})
	return nil
}

// cancelEvent cancels every pending activation of (triggerKey, externalEntityId).
func (s *server) cancelEvent(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	if err := requireApp(p, "cancel events of its triggers"); err != nil {
		return err
	}
	var req struct {
		TriggerKey       string `json:"triggerKey"`
		ExternalEntityID string `json:"externalEntityId"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	var vs []errs.FieldViolation
	checkLen(&vs, "triggerKey", req.TriggerKey, 1, 100)
	if !automation.IsGUID(req.ExternalEntityID) {
		vs = append(vs, errs.FieldViolation{Field: "externalEntityId", Description: "must be a GUID", ViolatedRule: "FORMAT"})
	}
	if err := errs.Violations(vs); err != nil {
		return err
	}
	if _, err := s.engine.CancelEvent(r.Context(), p.SiteID, p.AppID, req.TriggerKey, req.ExternalEntityID); err != nil {
		return err
	}
	s.ok(w, map[string]any{})
	return nil
}

// bulkCancelEvent cancels the pending activations of 1..100 entities of one trigger.
func (s *server) bulkCancelEvent(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	if err := requireApp(p, "cancel events of its triggers"); err != nil {
		return err
	}
	var req struct {
		TriggerKey        string   `json:"triggerKey"`
		ExternalEntityIDs []string `json:"externalEntityIds"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	var vs []errs.FieldViolation
	checkLen(&vs, "triggerKey", req.TriggerKey, 1, 100)
	if n := len(req.ExternalEntityIDs); n < 1 || n > 100 {
		vs = append(vs, errs.FieldViolation{Field: "externalEntityIds", Description: "must hold 1 to 100 ids", ViolatedRule: "ITEMS"})
	}
	if err := errs.Violations(vs); err != nil {
		return err
	}
	type result struct {
		ItemMetadata     itemMetadata `json:"itemMetadata"`
		ExternalEntityID string       `json:"externalEntityId"`
	}
	var meta bulkActionMetadata
	results := make([]result, 0, len(req.ExternalEntityIDs))
	for i, id := range req.ExternalEntityIDs {
		var err error
		if !automation.IsGUID(id) {
			err = errs.Violation(fmt.Sprintf("externalEntityIds[%d]", i), "FORMAT", "must be a GUID")
		} else {
			_, err = s.engine.CancelEvent(r.Context(), p.SiteID, p.AppID, req.TriggerKey, id)
		}
		results = append(results, result{ItemMetadata: meta.record(i, err), ExternalEntityID: id})
	}
	s.ok(w, map[string]any{"triggerKey": req.TriggerKey, "results": results, "bulkActionMetadata": meta})
	return nil
}

// testAutomation runs one automation by hand (reference §3.3): also inactive or draft, delays skipped.
func (s *server) testAutomation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	site, err := requireSite(p)
	if err != nil {
		return err
	}
	var req struct {
		IdentifierType       string `json:"identifierType"`
		AutomationIdentifier *struct {
			AutomationID string `json:"automationId"`
		} `json:"automationIdentifier"`
		Payload map[string]any `json:"payload"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if req.IdentifierType != "" && req.IdentifierType != "AUTOMATION" {
		return errs.Violation("identifierType", "ENUM", "only AUTOMATION is supported")
	}
	if req.AutomationIdentifier == nil || !automation.IsGUID(req.AutomationIdentifier.AutomationID) {
		return errs.Violation("automationIdentifier.automationId", "FORMAT", "must be a GUID")
	}
	id, err := s.engine.TestRun(r.Context(), site, req.AutomationIdentifier.AutomationID, req.Payload, auditInfo(p).UserID)
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"activationId": id})
	return nil
}

// rerunActivation re-runs a past activation with its payload.
func (s *server) rerunActivation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	site, err := requireSite(p)
	if err != nil {
		return err
	}
	id := r.PathValue("activationId")
	if !automation.IsGUID(id) {
		return errs.Violation("activationId", "FORMAT", "must be a GUID")
	}
	var req struct {
		SkipDelays bool `json:"skipDelays"`
	}
	if err := s.decodeOptional(r, &req); err != nil {
		return err
	}
	newID, err := s.engine.Rerun(r.Context(), site, id, req.SkipDelays, auditInfo(p).UserID)
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"activationId": newID})
	return nil
}
