package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/wql"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/preinstalled"
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
	if err := s.applyOrigin(r, p, a); err != nil {
		return err
	}
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
	s.warnOnSave(w, r, site, a)
	s.okAutomation(w, r, a)
	return nil
}

func (s *server) getAutomation(w http.ResponseWriter, r *http.Request) error {
	_, a, err := s.pathAutomation(r)
	if err != nil {
		return err
	}
	s.okAutomation(w, r, a)
	return nil
}

// pathAutomation loads the automation named by the {automationId} path value on the caller's site.
func (s *server) pathAutomation(r *http.Request) (string, *automation.Automation, error) {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return "", nil, err
	}
	a, err := s.siteAutomation(r, site, r.PathValue("automationId"))
	return site, a, err
}

// siteAutomation loads an automation the caller's site sees — its own or an installed app's preinstalled
// one (404 otherwise).
func (s *server) siteAutomation(r *http.Request, site, id string) (*automation.Automation, error) {
	if !automation.IsGUID(id) {
		return nil, errs.Violation("automationId", "FORMAT", "must be a GUID")
	}
	a, err := preinstalled.Get(r.Context(), s.store, site, id)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, errs.New(errs.NotFound, "AUTOMATION_NOT_FOUND", "automation %s not found", id)
	}
	return a, err
}

type updateRequest struct {
	Automation *automation.Automation `json:"automation"`
	FieldMask  any                    `json:"fieldMask"` // "a,b" (SDK) or {"paths":[…]}
}

// maskPaths reads a FieldMask in either wire form.
func maskPaths(m any) []string {
	switch v := m.(type) {
	case string:
		var out []string
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	case map[string]any:
		var out []string
		if ps, ok := v["paths"].([]any); ok {
			for _, p := range ps {
				if str, ok := p.(string); ok {
					out = append(out, str)
				}
			}
		}
		return out
	}
	return nil
}

// updateAutomation is UpdateAutomation: the current revision is required (stale → 409); with a field
// mask only the named fields change, without one every field the request carries replaces the stored one.
func (s *server) updateAutomation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	site, err := requireSite(p)
	if err != nil {
		return err
	}
	var req updateRequest
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if req.Automation == nil {
		return errs.Violation("automation", "REQUIRED_FIELD", "must not be empty")
	}
	in := req.Automation
	expected, err := strconv.ParseInt(in.Revision, 10, 64)
	if err != nil || expected < 1 {
		return errs.Violation("automation.revision", "REQUIRED_FIELD", "must be the current revision, as a string")
	}
	cur, err := s.siteAutomation(r, site, r.PathValue("automationId"))
	if err != nil {
		return err
	}
	if in.ID != "" && in.ID != cur.ID {
		return errs.Violation("automation.id", "MISMATCH", "must match the id in the path")
	}
	if cur.Revision != in.Revision {
		return errs.New(errs.Conflict, "REVISION_MISMATCH", "automation %s is at revision %s, not %s", cur.ID, cur.Revision, in.Revision)
	}
	if in.Origin != "" && in.Origin != cur.Origin {
		return errs.New(errs.Invalid, "INVALID_ORIGIN_TYPE", "origin is immutable (it is %s)", cur.Origin)
	}
	next := mergeAutomation(cur, in, maskPaths(req.FieldMask))
	keepOverrideSchemas(r, cur, next)
	if err := checkSettings(cur, next); err != nil {
		return err
	}
	automation.Normalize(next)
	if err := automation.ValidateForSave(next); err != nil {
		return err
	}
	now := s.now().UTC()
	next.Revision = strconv.FormatInt(expected+1, 10)
	next.UpdatedDate, next.UpdatedBy = &now, auditInfo(p)
	if err := s.saveEdit(r, site, cur, next, expected); err != nil {
		return err
	}
	if cur.IsActive() && !next.IsActive() {
		if _, err := s.engine.CancelAutomation(r.Context(), site, cur.ID, run.CancelAutomationDeactivated, initiator(p)); err != nil {
			return err
		}
	}
	s.warnOnSave(w, r, site, next)
	s.okAutomation(w, r, next)
	return nil
}

// mergeAutomation applies the updatable fields of in over cur: the masked ones, or every one present.
func mergeAutomation(cur, in *automation.Automation, mask []string) *automation.Automation {
	b, _ := json.Marshal(cur)
	var next automation.Automation
	json.Unmarshal(b, &next)
	want := func(field string, present bool) bool {
		if len(mask) == 0 {
			return present
		}
		for _, m := range mask {
			if m == field || strings.HasPrefix(m, field+".") {
				return true
			}
		}
		return false
	}
	if want("name", in.Name != "") {
		next.Name = in.Name
	}
	if want("description", in.Description != nil) {
		next.Description = in.Description
	}
	if want("settings", in.Settings != nil) {
		next.Settings = in.Settings
	}
	if want("namespace", in.Namespace != nil) {
		next.Namespace = in.Namespace
	}
	if want("extendedFields", in.ExtendedFields != nil) {
		next.ExtendedFields = in.ExtendedFields
	}
	if in.Configuration != nil {
		onlyStatus := len(mask) > 0 && !want("configuration.trigger", false) && !want("configuration.actions", false) &&
			!want("configuration.rootActionIds", false) && want("configuration.status", false) && !slices.Contains(mask, "configuration")
		switch {
		case onlyStatus:
			if next.Configuration != nil {
				next.Configuration.Status = in.Configuration.Status
			}
		case want("configuration", true):
			next.Configuration = in.Configuration
		}
	}
	return &next
}

// checkSettings enforces an automation's settings on an update.
func checkSettings(cur, next *automation.Automation) error {
	st := cur.Settings
	if st == nil {
		return nil
	}
	statusChanged := cur.Configuration != nil && next.Configuration != nil && cur.Configuration.Status != next.Configuration.Status
	if statusChanged && st.DisableStatusChange {
		return errs.New(errs.PermissionDenied, "STATUS_CHANGE_DISABLED", "this automation's status cannot be changed (settings.disableStatusChange)")
	}
	if st.Readonly {
		a, _ := json.Marshal(withoutStatus(cur))
		b, _ := json.Marshal(withoutStatus(next))
		if string(a) != string(b) {
			return errs.New(errs.PermissionDenied, "AUTOMATION_READONLY", "this automation is read-only (settings.readonly); only its status may change")
		}
	}
	if as := st.ActionSettings; as != nil && cur.Configuration != nil && next.Configuration != nil {
		for _, id := range as.PermanentActionIDs {
			if _, ok := next.Configuration.Actions[id]; !ok {
				return errs.New(errs.PermissionDenied, "PERMANENT_ACTION", "action %s cannot be removed (settings.actionSettings.permanentActionIds)", id)
			}
		}
		for _, id := range as.ReadonlyActionIDs {
			a, _ := json.Marshal(cur.Configuration.Actions[id])
			b, _ := json.Marshal(next.Configuration.Actions[id])
			if string(a) != string(b) {
				return errs.New(errs.PermissionDenied, "READONLY_ACTION", "action %s cannot be changed (settings.actionSettings.readonlyActionIds)", id)
			}
		}
	}
	return nil
}

// withoutStatus copies the updatable content of a with its status blanked, for comparisons.
func withoutStatus(a *automation.Automation) map[string]any {
	b, _ := json.Marshal(a)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"revision", "updatedDate", "updatedBy", "createdDate", "createdBy"} {
		delete(m, k)
	}
	if c, ok := m["configuration"].(map[string]any); ok {
		c["status"] = ""
	}
	return m
}

func initiator(p access.Principal) *run.Initiator {
	a := auditInfo(p)
	return &run.Initiator{UserID: a.UserID, AppID: a.AppID}
}

// deleteAutomation is DeleteAutomation: pending activations are cancelled (AUTOMATION_DELETED).
func (s *server) deleteAutomation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	site, err := requireSite(p)
	if err != nil {
		return err
	}
	if err := s.deleteOne(r, p, site, r.PathValue("automationId")); err != nil {
		return err
	}
	s.ok(w, map[string]any{})
	return nil
}

func (s *server) deleteOne(r *http.Request, p access.Principal, site, id string) error {
	cur, err := s.siteAutomation(r, site, id)
	if err != nil {
		return err
	}
	if cur.Settings != nil && cur.Settings.DisableDelete {
		return errs.New(errs.PermissionDenied, "DELETE_DISABLED", "this automation cannot be deleted (settings.disableDelete)")
	}
	if isTemplate(cur) {
		return errs.New(errs.FailedPrecondition, "PREINSTALLED_AUTOMATION_NOT_DELETABLE",
			"automation %s is app %s's preinstalled automation: deactivate it instead", id, cur.PreinstalledInfo.AppID)
	}
	if err := s.store.DeleteAutomation(r.Context(), site, id); errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.NotFound, "AUTOMATION_NOT_FOUND", "automation %s not found", id)
	} else if err != nil {
		return err
	}
	_, err = s.engine.CancelAutomation(r.Context(), site, id, run.CancelAutomationDeleted, initiator(p))
	return err
}

// bulkDeleteAutomations deletes 1..200 automations, each on its own.
func (s *server) bulkDeleteAutomations(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	site, err := requireSite(p)
	if err != nil {
		return err
	}
	var req struct {
		AutomationIDs []string `json:"automationIds"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if n := len(req.AutomationIDs); n < 1 || n > 200 {
		return errs.Violation("automationIds", "ITEMS", "must hold 1 to 200 ids")
	}
	type result struct {
		ItemMetadata struct {
			ID string `json:"id"`
			itemMetadata
		} `json:"itemMetadata"`
	}
	var meta bulkActionMetadata
	results := make([]result, 0, len(req.AutomationIDs))
	for i, id := range req.AutomationIDs {
		var res result
		res.ItemMetadata.ID = id
		res.ItemMetadata.itemMetadata = meta.record(i, s.deleteOne(r, p, site, id))
		results = append(results, res)
	}
	s.ok(w, map[string]any{"results": results, "bulkActionMetadata": meta})
	return nil
}

// queryAutomations is QueryAutomations: WQL filter, sort and cursor paging over the site's automations.
func (s *server) queryAutomations(w http.ResponseWriter, r *http.Request) error {
	return s.query(w, r, false)
}

// query serves QueryAutomations and, withDrafts, QueryAutomationsWithDrafts.
func (s *server) query(w http.ResponseWriter, r *http.Request, withDrafts bool) error {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return err
	}
	var req struct {
		Query rawQuery `json:"query"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	q, err := wql.Parse(req.Query.orEmpty(), wql.AutomationSchema())
	if err != nil {
		return err
	}
	v, err := s.siteView(r, site)
	if err != nil {
		return err
	}
	draftsOfSite := ""
	if withDrafts {
		v.StandaloneDrafts, draftsOfSite = true, site
	}
	return s.queryPage(w, r, v, q, draftsOfSite)
}

// rawQuery is a CursorQuery as sent; absent or null is the empty query.
type rawQuery json.RawMessage

func (q rawQuery) orEmpty() json.RawMessage {
	if len(q) == 0 || string(q) == "null" {
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(q)
}

func (q *rawQuery) UnmarshalJSON(b []byte) error {
	*q = append((*q)[:0], b...)
	return nil
}

// queryPage answers one page of a view; with draftsOfSite, the page's automations' drafts are mapped too.
func (s *server) queryPage(w http.ResponseWriter, r *http.Request, v automation.View, q *wql.Query, draftsOfSite string) error {
	page, next, err := s.store.QueryAutomations(r.Context(), v, q)
	if err != nil {
		return err
	}
	if page == nil {
		page = []*automation.Automation{}
	}
	cursors := map[string]any{}
	if next != "" {
		cursors["next"] = next
	}
	out := map[string]any{"automations": presentedAll(r, page), "pagingMetadata": map[string]any{"count": len(page), "cursors": cursors, "hasNext": next != ""}}
	if draftsOfSite != "" {
		if out["originalAutomationIdToDrafts"], err = s.draftsOf(r, draftsOfSite, page); err != nil {
			return err
		}
	}
	s.ok(w, out)
	return nil
}

// getAutomationRevision is GetAutomationRevision: a prior revision, or the current one without ?revision.
func (s *server) getAutomationRevision(w http.ResponseWriter, r *http.Request) error {
	site, cur, err := s.pathAutomation(r)
	if err != nil {
		return err
	}
	rev := r.URL.Query().Get("revision")
	if rev == "" {
		s.okAutomation(w, r, cur)
		return nil
	}
	n, err := strconv.ParseInt(rev, 10, 64)
	if err != nil || n < 1 {
		return errs.Violation("revision", "FORMAT", "must be a positive whole number")
	}
	a, err := s.store.GetAutomationRevision(r.Context(), site, cur.ID, n)
	curRev, _ := strconv.ParseInt(cur.Revision, 10, 64)
	if errors.Is(err, errs.ErrNotFound) && cur.PreinstalledInfo != nil && cur.Origin == automation.OriginPreinstalled && n <= curRev {
		// Revisions before a site's first edit are the app's (the site's own run from its first edit to
		// its current one); later revisions of the app's are versions this site never had.
		a, err = s.store.GetAutomationRevision(r.Context(), automation.PreinstalledTenant(cur.PreinstalledInfo.AppID), cur.ID, n)
	}
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.NotFound, "REVISION_NOT_FOUND", "automation %s has no revision %d", cur.ID, n)
	}
	if err != nil {
		return err
	}
	s.okAutomation(w, r, a)
	return nil
}

// copyAutomation is CopyAutomation: a copy of a stored automation (or of the one in the request, which
// skips the fetch) that is not saved — the caller creates it. Identity, revision, dates, audit and origin
// details are cleared; the origin is the requested one (USER by default).
func (s *server) copyAutomation(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Origin     string                 `json:"origin"`
		Automation *automation.Automation `json:"automation"`
	}
	if err := s.decodeOptional(r, &req); err != nil {
		return err
	}
	_, src, err := s.pathAutomation(r)
	if req.Automation != nil {
		src, err = req.Automation, nil
		if _, perr := requireSite(principalOf(r.Context())); perr != nil {
			return perr
		}
	}
	if err != nil {
		return err
	}
	b, _ := json.Marshal(src)
	var cp automation.Automation
	if err := json.Unmarshal(b, &cp); err != nil {
		return err
	}
	cp.ID, cp.Revision = "", ""
	cp.CreatedDate, cp.UpdatedDate, cp.DraftUpdatedDate = nil, nil, nil
	cp.CreatedBy, cp.UpdatedBy = nil, nil
	cp.ApplicationInfo, cp.PreinstalledInfo, cp.DraftInfo = nil, nil, nil
	cp.Origin = automation.OriginUser
	switch req.Origin {
	case "", automation.OriginUser:
	case automation.OriginApplication, automation.OriginPreinstalled, automation.OriginRecipe:
		cp.Origin = req.Origin
	default:
		return errs.Violation("origin", "ENUM", "must be one of USER, APPLICATION, PREINSTALLED, RECIPE")
	}
	s.okAutomation(w, r, &cp)
	return nil
}
