package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// Catalog reads (Switchyard's own API): any authenticated caller may list what apps offer — the site
// owner building an automation needs exactly that — so the answers carry definitions only, never
// secrets.

// appView is an app as the catalog reads show it. Fields are copied one by one: a field added to
// catalog.App later (a signing secret, say) stays out of these answers unless it is added here.
type appView struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	ProviderBaseURI string    `json:"providerBaseUri,omitempty"`
	CreatedDate     time.Time `json:"createdDate"`
	UpdatedDate     time.Time `json:"updatedDate"`
}

func viewApp(a *catalog.App) appView {
	return appView{ID: a.ID, Name: a.Name, ProviderBaseURI: a.ProviderBaseURI, CreatedDate: a.CreatedDate, UpdatedDate: a.UpdatedDate}
}

func pagingMetadata(count int, next string) map[string]any {
	cursors := map[string]any{}
	if next != "" {
		cursors["next"] = next
	}
	return map[string]any{"count": count, "cursors": cursors, "hasNext": next != ""}
}

// listApps is GET /v1/apps: every app, ordered by id, cursor-paged with cursorPaging.limit and
// cursorPaging.cursor as query parameters (how the Wix SDK flattens a GET request).
func (s *server) listApps(w http.ResponseWriter, r *http.Request) error {
	paging := map[string]any{}
	qs := r.URL.Query()
	if v := qs.Get("cursorPaging.limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errs.Violation("cursorPaging.limit", "FORMAT", "must be an integer")
		}
		paging["limit"] = n
	}
	if v := qs.Get("cursorPaging.cursor"); v != "" {
		paging["cursor"] = v
	}
	raw, _ := json.Marshal(map[string]any{"cursorPaging": paging})
	q, err := wql.Parse(raw, wql.AppSchema())
	if err != nil {
		return withoutQueryPrefix(err)
	}
	apps, next, err := s.store.QueryApps(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]appView, 0, len(apps))
	for _, a := range apps {
		out = append(out, viewApp(a))
	}
	s.ok(w, map[string]any{"apps": out, "pagingMetadata": pagingMetadata(len(out), next)})
	return nil
}

// withoutQueryPrefix renames wql's "query.cursorPaging…" fields to the query parameters a GET uses.
func withoutQueryPrefix(err error) error {
	var e *errs.Error
	if errors.As(err, &e) && len(e.Violations) > 0 {
		c := *e
		c.Violations = append([]errs.FieldViolation(nil), e.Violations...)
		for i := range c.Violations {
			c.Violations[i].Field = strings.TrimPrefix(c.Violations[i].Field, "query.")
		}
		return &c
	}
	return err
}

// getApp is GET /v1/apps/{appId}.
func (s *server) getApp(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("appId")
	if !automation.IsGUID(id) {
		return errs.Violation("appId", "FORMAT", "must be a GUID")
	}
	a, err := s.store.GetApp(r.Context(), id)
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.NotFound, "APP_NOT_FOUND", "app %s does not exist", id)
	} else if err != nil {
		return err
	}
	s.ok(w, map[string]any{"app": viewApp(a)})
	return nil
}

// decodeCursorQuery reads a {"query": CursorQuery} body and parses it against schema.
func (s *server) decodeCursorQuery(r *http.Request, schema wql.Schema) (*wql.Query, error) {
	var req struct {
		Query rawQuery `json:"query"`
	}
	if err := s.decodeOptional(r, &req); err != nil {
		return nil, err
	}
	return wql.Parse(req.Query.orEmpty(), schema)
}

// queryTriggers is POST /v1/triggers/query: every app's triggers, WQL over appId, triggerKey,
// displayName and the dates.
func (s *server) queryTriggers(w http.ResponseWriter, r *http.Request) error {
	q, err := s.decodeCursorQuery(r, wql.TriggerSchema())
	if err != nil {
		return err
	}
	page, next, err := s.store.QueryTriggers(r.Context(), q)
	if err != nil {
		return err
	}
	if page == nil {
		page = []*catalog.Trigger{}
	}
	s.ok(w, map[string]any{"triggers": page, "pagingMetadata": pagingMetadata(len(page), next)})
	return nil
}

// queryActions is POST /v1/actions/query: every app's actions, WQL over appId, actionKey, displayName
// and the dates.
func (s *server) queryActions(w http.ResponseWriter, r *http.Request) error {
	q, err := s.decodeCursorQuery(r, wql.ActionSchema())
	if err != nil {
		return err
	}
	page, next, err := s.store.QueryActions(r.Context(), q)
	if err != nil {
		return err
	}
	if page == nil {
		page = []*catalog.Action{}
	}
	s.ok(w, map[string]any{"actions": page, "pagingMetadata": pagingMetadata(len(page), next)})
	return nil
}
