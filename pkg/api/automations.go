package api

import (
	"errors"
	"net/http"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

func (s *server) createAutomation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	site, err := requireSite(p)
	if err != nil {
		return err
	}
	var req struct {
		Automation *automation.Automation `json:"automation"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if req.Automation == nil {
		return errs.Violation("automation", "REQUIRED_FIELD", "must not be empty")
	}
	a := req.Automation
	automation.Normalize(a)
	if err := automation.ValidateForSave(a); err != nil {
		return err
	}
	now := s.now().UTC()
	a.ID, a.Revision = s.newID(), "1"
	a.CreatedDate, a.UpdatedDate = &now, &now
	a.CreatedBy, a.UpdatedBy = auditInfo(p), auditInfo(p)
	a.DraftInfo = nil
	if err := s.store.CreateAutomation(r.Context(), site, a); err != nil {
		return err
	}
	s.ok(w, map[string]any{"automation": a})
	return nil
}

func (s *server) getAutomation(w http.ResponseWriter, r *http.Request) error {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return err
	}
	id := r.PathValue("automationId")
	if !automation.IsGUID(id) {
		return errs.Violation("automationId", "FORMAT", "must be a GUID")
	}
	a, err := s.store.GetAutomation(r.Context(), site, id)
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.NotFound, "AUTOMATION_NOT_FOUND", "automation %s not found", id)
	}
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"automation": a})
	return nil
}
