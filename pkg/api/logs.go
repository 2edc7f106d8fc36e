package api

import (
	"errors"
	"net/http"
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
	CreatedDate time.Time `json:"createdDate"`
}

func toActivationLog(a *run.Activation) activationLog {
	return activationLog{ID: a.ID, AutomationID: a.AutomationID, AutomationRevision: a.AutomationRevision,
		Status: a.Status, ActivationInfos: a.Infos, CreatedDate: a.CreatedDate}
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
