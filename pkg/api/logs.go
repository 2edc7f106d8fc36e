package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// activationLog is the wire form of an activation (reference §3.5).
type activationLog struct {
	ID                 string     `json:"id"`
	AutomationID       string     `json:"automationId"`
	AutomationRevision string     `json:"automationRevision"`
	Status             run.Status `json:"status"`
	run.ActivationInfos
	Warnings    []run.Warning `json:"warnings,omitempty"`
	CreatedDate time.Time     `json:"createdDate"`
}

func toActivationLog(a *run.Activation) activationLog {
	return activationLog{ID: a.ID, AutomationID: a.AutomationID, AutomationRevision: a.AutomationRevision,
		Status: a.Status, ActivationInfos: a.Infos, Warnings: a.Warnings, CreatedDate: a.CreatedDate}
}

// siteActivation loads an activation of the caller's site; another site's is not found.
func (s *server) siteActivation(r *http.Request, id, field string) (*run.Activation, error) {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return nil, err
	}
	if !automation.IsGUID(id) {
		return nil, errs.Violation(field, "FORMAT", "must be a GUID")
	}
	a, err := s.store.GetActivation(r.Context(), id)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && a.SiteID != site) {
		return nil, errs.New(errs.NotFound, "ACTIVATION_NOT_FOUND", "activation %s not found", id)
	}
	return a, err
}

func (s *server) getActivationLog(w http.ResponseWriter, r *http.Request) error {
	a, err := s.siteActivation(r, r.PathValue("activationId"), "activationId")
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"activationLog": toActivationLog(a)})
	return nil
}

func (s *server) listActionLogs(w http.ResponseWriter, r *http.Request) error {
	id := r.URL.Query().Get("activationId")
	if id == "" {
		return errs.Violation("activationId", "REQUIRED_FIELD", "must not be empty")
	}
	a, err := s.siteActivation(r, id, "activationId")
	if err != nil {
		return err
	}
	logs, err := s.store.ListActionLogs(r.Context(), a.ID)
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"activationActionLogs": logs})
	return nil
}

// listActivationLogs is ListActivationLogs (reference §3.5): a site's activations, newest first, by
// automation and creation date, cursor-paged. Payloads are left out unless includePayload=true.
func (s *server) listActivationLogs(w http.ResponseWriter, r *http.Request) error {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	now := s.now().UTC()
	aq := run.ActivationQuery{SiteID: site, From: now.Add(-30 * 24 * time.Hour), To: now.Add(time.Millisecond), Limit: 50,
		AutomationID: q.Get("automationIdInfo.automationId"), Cursor: q.Get("cursorPaging.cursor")}
	var vs []errs.FieldViolation
	if aq.AutomationID != "" && !automation.IsGUID(aq.AutomationID) {
		vs = append(vs, errs.FieldViolation{Field: "automationIdInfo.automationId", Description: "must be a GUID", ViolatedRule: "FORMAT"})
	}
	for _, d := range []struct {
		name string
		into *time.Time
	}{{"fromCreatedDate", &aq.From}, {"toCreatedDate", &aq.To}} {
		if v := q.Get(d.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				vs = append(vs, errs.FieldViolation{Field: d.name, Description: "must be an RFC 3339 timestamp", ViolatedRule: "FORMAT"})
				continue
			}
			*d.into = t
		}
	}
	if v := q.Get("cursorPaging.limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			vs = append(vs, errs.FieldViolation{Field: "cursorPaging.limit", Description: "must be from 1 to 500", ViolatedRule: "RANGE"})
		}
		aq.Limit = n
	}
	if len(aq.Cursor) > 16000 {
		vs = append(vs, errs.FieldViolation{Field: "cursorPaging.cursor", Description: "is too long", ViolatedRule: "MAX_LENGTH"})
	}
	if err := errs.Violations(vs); err != nil {
		return err
	}
	acts, next, err := s.store.ListActivations(r.Context(), aq)
	if err != nil {
		return err
	}
	withPayload := q.Get("includePayload") == "true"
	logs := make([]activationLog, 0, len(acts))
	for i := range acts {
		l := toActivationLog(&acts[i])
		if !withPayload {
			l.ActivationInfos = withoutPayloads(l.ActivationInfos)
		}
		logs = append(logs, l)
	}
	paging := map[string]any{"count": len(logs), "cursors": map[string]any{}, "hasNext": next != ""}
	if next != "" {
		paging["cursors"] = map[string]any{"next": next}
	}
	s.ok(w, map[string]any{"activationLogs": logs, "pagingMetadata": paging})
	return nil
}

// withoutPayloads copies the info blocks without their payloads.
func withoutPayloads(in run.ActivationInfos) run.ActivationInfos {
	out := in
	if in.Initiated != nil {
		c := *in.Initiated
		c.Payload = nil
		out.Initiated = &c
	}
	if in.Started != nil {
		c := *in.Started
		c.Payload = nil
		out.Started = &c
	}
	if in.Skipped != nil {
		c := *in.Skipped
		c.Payload = nil
		out.Skipped = &c
	}
	if in.Failed != nil {
		c := *in.Failed
		c.Payload = nil
		out.Failed = &c
	}
	return out
}
