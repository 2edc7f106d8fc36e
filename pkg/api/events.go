package api

import (
	"net/http"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

type reportEventRequest struct {
	TriggerKey       string         `json:"triggerKey"`
	Payload          map[string]any `json:"payload"`
	ExternalEntityID string         `json:"externalEntityId"`
	Idempotency      *struct {
		Key               string `json:"key"`
		TTLInMilliseconds string `json:"ttlInMilliseconds"`
	} `json:"idempotency"`
}

// reportEvent is ReportEvent (reference §3.1): only an app may report, and only for its own triggers
// (the trigger is looked up under the caller's app id, so another app's trigger is simply not found).
func (s *server) reportEvent(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	if !p.IsApp() {
		return errs.New(errs.PermissionDenied, "APP_IDENTITY_REQUIRED", "only an app may report events for its triggers; use a key with an appId")
	}
	var req reportEventRequest
	if err := s.decode(r, &req); err != nil {
		return err
	}
	var vs []errs.FieldViolation
	checkLen(&vs, "triggerKey", req.TriggerKey, 1, 100)
	if req.ExternalEntityID != "" && !automation.IsGUID(req.ExternalEntityID) {
		vs = append(vs, errs.FieldViolation{Field: "externalEntityId", Description: "must be a GUID", ViolatedRule: "FORMAT"})
	}
	if err := errs.Violations(vs); err != nil {
		return err
	}
	ids, err := s.engine.Report(r.Context(), engine.Event{SiteID: p.SiteID, AppID: p.AppID, TriggerKey: req.TriggerKey,
		Payload: req.Payload, ExternalEntityID: req.ExternalEntityID, RequestID: w.Header().Get("X-Wix-Request-Id")})
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"activationIds": ids})
	return nil
}
