package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// Drafts are automations with draftInfo: stored like any automation, never matched by events or listed
// by QueryAutomations, published onto their original (or as a new automation) by PublishDraftAutomation.

// siteDraft loads a draft of the caller's site by the {automationId} path value.
func (s *server) siteDraft(r *http.Request) (string, *automation.Automation, error) {
	site, a, err := s.pathAutomation(r)
	if err != nil {
		return "", nil, err
	}
	if a.DraftInfo == nil {
		return "", nil, errs.New(errs.NotFound, "DRAFT_NOT_FOUND", "automation %s is not a draft", a.ID)
	}
	return site, a, nil
}

// newDraft stores a as a new draft of original ("" for a draft of a new automation).
func (s *server) newDraft(r *http.Request, site string, a *automation.Automation, original string) (*automation.Automation, error) {
	p := principalOf(r.Context())
	if a.Configuration == nil {
		a.Configuration = &automation.Configuration{Status: automation.StatusInactive}
	}
	if a.Name == "" {
		a.Name = "Draft"
	}
	if original == "" {
		// A new automation's draft: its origin comes from its creator, as CreateAutomation's does.
		if err := s.applyOrigin(r, p, a); err != nil {
			return nil, err
		}
	}
	automation.Normalize(a)
	now := s.now().UTC()
	a.ID, a.Revision = s.newID(), "1"
	a.CreatedDate, a.UpdatedDate, a.DraftUpdatedDate = &now, &now, &now
	a.CreatedBy, a.UpdatedBy = auditInfo(p), auditInfo(p)
	a.DraftInfo = &automation.DraftInfo{}
	if original != "" {
		a.DraftInfo.OriginalAutomationID = &original
	}
	if err := s.store.CreateAutomation(r.Context(), site, a); err != nil {
		return nil, err
	}
	return a, nil
}

func (s *server) createDraftAutomation(w http.ResponseWriter, r *http.Request) error {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return err
	}
	var req struct {
		Automation *automation.Automation `json:"automation"`
	}
	if err := s.decodeOptional(r, &req); err != nil {
		return err
	}
	if req.Automation == nil {
		req.Automation = &automation.Automation{}
	}
	d, err := s.newDraft(r, site, req.Automation, "")
	if err != nil {
		return err
	}
	s.okAutomation(w, r, d)
	return nil
}

// getOrCreateDraftAutomation returns the original's draft, creating it from the original when there is
// none; a draft named as the original is returned as is.
func (s *server) getOrCreateDraftAutomation(w http.ResponseWriter, r *http.Request) error {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return err
	}
	orig, err := s.siteAutomation(r, site, r.PathValue("originalAutomationId"))
	if err != nil {
		return err
	}
	if orig.DraftInfo != nil {
		s.okAutomation(w, r, orig)
		return nil
	}
	drafts, err := s.store.ListDrafts(r.Context(), site)
	if err != nil {
		return err
	}
	for _, d := range drafts {
		if id := d.DraftInfo.OriginalAutomationID; id != nil && *id == orig.ID {
			s.okAutomation(w, r, d)
			return nil
		}
	}
	b, _ := json.Marshal(orig)
	var cp automation.Automation
	if err := json.Unmarshal(b, &cp); err != nil {
		return err
	}
	d, err := s.newDraft(r, site, &cp, orig.ID)
	if err != nil {
		return err
	}
	s.okAutomation(w, r, d)
	return nil
}

// updateDraftAutomation applies a (possibly partial) automation to a draft.
func (s *server) updateDraftAutomation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	var req updateRequest
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if req.Automation == nil {
		return errs.Violation("automation", "REQUIRED_FIELD", "must not be empty")
	}
	site, cur, err := s.siteDraft(r)
	if err != nil {
		return err
	}
	if req.Automation.Revision != "" && req.Automation.Revision != cur.Revision {
		return errs.New(errs.Conflict, "REVISION_MISMATCH", "draft %s is at revision %s, not %s", cur.ID, cur.Revision, req.Automation.Revision)
	}
	next := mergeAutomation(cur, req.Automation, maskPaths(req.FieldMask))
	keepOverrideSchemas(r, cur, next)
	automation.Normalize(next)
	expected, _ := strconv.ParseInt(cur.Revision, 10, 64)
	now := s.now().UTC()
	next.Revision = strconv.FormatInt(expected+1, 10)
	next.UpdatedDate, next.DraftUpdatedDate, next.UpdatedBy = &now, &now, auditInfo(p)
	next.DraftInfo = cur.DraftInfo
	if err := s.store.UpdateAutomation(r.Context(), site, next, expected); errors.Is(err, errs.ErrConflict) {
		return errs.New(errs.Conflict, "REVISION_MISMATCH", "draft %s changed meanwhile; fetch it and retry", cur.ID)
	} else if err != nil {
		return err
	}
	s.okAutomation(w, r, next)
	return nil
}

func (s *server) deleteDraftAutomation(w http.ResponseWriter, r *http.Request) error {
	site, d, err := s.siteDraft(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteAutomation(r.Context(), site, d.ID); err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	s.ok(w, map[string]any{})
	return nil
}

// publishDraftAutomation applies a draft to its original automation (a new revision; deactivation cancels
// pending runs), or saves it as a new automation when it has none; the draft is then deleted.
func (s *server) publishDraftAutomation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	site, d, err := s.siteDraft(r)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	var published *automation.Automation
	if origID := d.DraftInfo.OriginalAutomationID; origID != nil {
		orig, err := s.siteAutomation(r, site, *origID)
		if err != nil {
			return err
		}
		content := *d
		content.Origin = ""
		next := mergeAutomation(orig, &content, []string{"name", "description", "configuration", "settings", "namespace", "extendedFields"})
		next.DraftInfo = nil
		if err := checkSettings(orig, next); err != nil {
			return err
		}
		automation.Normalize(next)
		if err := automation.ValidateForSave(next); err != nil {
			return err
		}
		expected, _ := strconv.ParseInt(orig.Revision, 10, 64)
		next.Revision = strconv.FormatInt(expected+1, 10)
		next.UpdatedDate, next.UpdatedBy = &now, auditInfo(p)
		if err := s.saveEdit(r, site, orig, next, expected); err != nil {
			return err
		}
		if orig.IsActive() && !next.IsActive() {
			if _, err := s.engine.CancelAutomation(r.Context(), site, orig.ID, run.CancelAutomationDeactivated, initiator(p)); err != nil {
				return err
			}
		}
		published = next
	} else {
		b, _ := json.Marshal(d)
		var a automation.Automation
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		a.DraftInfo, a.DraftUpdatedDate = nil, nil
		automation.Normalize(&a)
		if err := automation.ValidateForSave(&a); err != nil {
			return err
		}
		a.ID, a.Revision = s.newID(), "1"
		a.CreatedDate, a.UpdatedDate = &now, &now
		a.CreatedBy, a.UpdatedBy = auditInfo(p), auditInfo(p)
		if err := s.store.CreateAutomation(r.Context(), site, &a); err != nil {
			return err
		}
		published = &a
	}
	if err := s.store.DeleteAutomation(r.Context(), site, d.ID); err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	s.okAutomation(w, r, published)
	return nil
}

// queryAutomationsWithDrafts is QueryAutomations plus, for the page's automations, their drafts.
func (s *server) queryAutomationsWithDrafts(w http.ResponseWriter, r *http.Request) error {
	return s.query(w, r, true)
}

// draftsOf maps each listed automation id to its drafts (at most one each).
func (s *server) draftsOf(r *http.Request, site string, page []*automation.Automation) (map[string]any, error) {
	drafts, err := s.store.ListDrafts(r.Context(), site)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, a := range page {
		listed[a.ID] = true
	}
	out := map[string]any{}
	for _, d := range drafts {
		if id := d.DraftInfo.OriginalAutomationID; id != nil && listed[*id] {
			out[*id] = map[string]any{"draftAutomationIds": []string{d.ID}}
		}
	}
	return out, nil
}
