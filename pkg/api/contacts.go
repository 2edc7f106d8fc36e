package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// Contacts: Switchyard's own site-scoped API under /v1/contacts (pkg/contacts has the model).

func (s *server) createContact(w http.ResponseWriter, r *http.Request) error {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return err
	}
	var req struct {
		Contact json.RawMessage `json:"contact"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	f, err := contactFields(req.Contact)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	c := &contacts.Contact{ID: s.newID(), Revision: "1", CreatedDate: now, UpdatedDate: now}
	f.Apply(c)
	if err := contacts.Validate(c, "contact"); err != nil {
		return err
	}
	if err := s.store.CreateContact(r.Context(), site, c); err != nil {
		return err
	}
	s.ok(w, map[string]any{"contact": c})
	return nil
}

// siteContact loads the contact named by the {contactId} path value on the caller's site (404 otherwise).
func (s *server) siteContact(r *http.Request) (string, *contacts.Contact, error) {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return "", nil, err
	}
	id := r.PathValue("contactId")
	if !automation.IsGUID(id) {
		return "", nil, errs.Violation("contactId", "FORMAT", "must be a GUID")
	}
	c, err := s.store.GetContact(r.Context(), site, id)
	if errors.Is(err, errs.ErrNotFound) {
		return "", nil, errs.New(errs.NotFound, "CONTACT_NOT_FOUND", "contact %s not found", id)
	}
	return site, c, err
}

func (s *server) getContact(w http.ResponseWriter, r *http.Request) error {
	_, c, err := s.siteContact(r)
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"contact": c})
	return nil
}

// updateContact changes the fields the body carries (null clears one) at the current revision (stale →
// 409), then reports the system trigger contact_updated so that the site's automations on it run.
//
// The write also records that the revision's report is pending (the outbox, in the same atomic write), so
// the report cannot be lost between the two steps: after a successful report the mark is cleared; if the
// report fails (or the process dies first), the mark stays and the drain (pkg/contactreport) reports it
// later with the same idempotency key. The caller then gets 200 with `automationsPending: true` and no
// activation ids: the write is done and nothing is left for the client to retry — a retried PATCH would
// write (and report) another revision. The reverse order would run automations on a change that may then
// fail to save. When the system trigger is not registered or the system app not installed, no automation
// can listen, and there is nothing to report.
func (s *server) updateContact(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Contact  json.RawMessage `json:"contact"`
		Revision string          `json:"revision"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	f, err := contactFields(req.Contact)
	if err != nil {
		return err
	}
	if req.Revision == "" { // also accepted inside the contact, as Wix's updates carry it
		var inner struct {
			Revision string `json:"revision"`
		}
		json.Unmarshal(req.Contact, &inner)
		req.Revision = inner.Revision
	}
	expected, err := strconv.ParseInt(req.Revision, 10, 64)
	if err != nil || expected < 1 {
		return errs.Violation("revision", "REQUIRED_FIELD", "must be the contact's current revision, as a string")
	}
	site, cur, err := s.siteContact(r)
	if err != nil {
		return err
	}
	if cur.Revision != req.Revision {
		return errs.New(errs.Conflict, "REVISION_MISMATCH", "contact %s is at revision %s, not %s", cur.ID, cur.Revision, req.Revision)
	}
	next := *cur
	f.Apply(&next)
	if err := contacts.Validate(&next, "contact"); err != nil {
		return err
	}
	next.Revision = strconv.FormatInt(expected+1, 10)
	next.UpdatedDate = s.now().UTC()
	if err := s.store.UpdateContact(r.Context(), site, &next, expected); errors.Is(err, errs.ErrConflict) {
		return errs.New(errs.Conflict, "REVISION_MISMATCH", "contact %s changed meanwhile; fetch it and retry", cur.ID)
	} else if err != nil {
		return err
	}
	ids, err := s.reports.Report(r.Context(), site, &next, w.Header().Get("X-Wix-Request-Id"))
	if err != nil {
		s.log.WarnContext(r.Context(), "contact updated, contact_updated report failed; the drain retries it",
			"site", site, "contact", next.ID, "revision", next.Revision, "err", err)
		s.ok(w, map[string]any{"contact": &next, "activationIds": []string{}, "automationsPending": true})
		return nil
	}
	s.ok(w, map[string]any{"contact": &next, "activationIds": ids})
	return nil
}

func (s *server) deleteContact(w http.ResponseWriter, r *http.Request) error {
	site, c, err := s.siteContact(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteContact(r.Context(), site, c.ID); errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.NotFound, "CONTACT_NOT_FOUND", "contact %s not found", c.ID)
	} else if err != nil {
		return err
	}
	s.ok(w, map[string]any{})
	return nil
}

// queryContacts is a WQL CursorQuery over the site's contacts (fields: contacts.QuerySchema).
func (s *server) queryContacts(w http.ResponseWriter, r *http.Request) error {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return err
	}
	q, err := s.decodeCursorQuery(r, contacts.QuerySchema())
	if err != nil {
		return err
	}
	page, next, err := s.store.QueryContacts(r.Context(), site, q)
	if err != nil {
		return err
	}
	if page == nil {
		page = []*contacts.Contact{}
	}
	cursors := map[string]any{}
	if next != "" {
		cursors["next"] = next
	}
	s.ok(w, map[string]any{"contacts": page, "pagingMetadata": map[string]any{"count": len(page), "cursors": cursors, "hasNext": next != ""}})
	return nil
}

// contactFields reads the request's required `contact` object.
func contactFields(raw json.RawMessage) (contacts.Fields, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return contacts.Fields{}, errs.Violation("contact", "REQUIRED_FIELD", "must not be empty")
	}
	return contacts.ParseFields(raw, "contact")
}
