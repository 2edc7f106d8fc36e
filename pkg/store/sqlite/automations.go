package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// automationRow is an automation with the columns its queries need.
type automationRow struct {
	doc      []byte
	revision int64
	created  int64
	updated  int64
}

func toRow(a *automation.Automation) (automationRow, error) {
	doc, err := encode(a)
	if err != nil {
		return automationRow{}, err
	}
	r := automationRow{doc: doc}
	r.revision, _ = strconv.ParseInt(a.Revision, 10, 64)
	if a.CreatedDate != nil {
		r.created = a.CreatedDate.UnixMilli()
	}
	if a.UpdatedDate != nil {
		r.updated = a.UpdatedDate.UnixMilli()
	}
	return r, nil
}

// columnsOf returns the status and trigger columns of a, empty where the automation has none.
func columnsOf(a *automation.Automation) (string, automation.Trigger) {
	if a.Configuration == nil {
		return "", automation.Trigger{}
	}
	if a.Configuration.Trigger == nil {
		return a.Configuration.Status, automation.Trigger{}
	}
	return a.Configuration.Status, *a.Configuration.Trigger
}

// CreateAutomation stores a new automation of a site and records its first revision; errs.ErrConflict
// when the id is taken.
func (s *Store) CreateAutomation(ctx context.Context, siteID string, a *automation.Automation) error {
	r, err := toRow(a)
	if err != nil {
		return err
	}
	status, trig := columnsOf(a)
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err = tx.ExecContext(ctx, `INSERT INTO automations (site_id, id, revision, status, runnable,
			trigger_app_id, trigger_key, name, origin, created_at, updated_at, is_draft, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			siteID, a.ID, r.revision, status, a.IsActive(), trig.AppID, trig.TriggerKey, a.Name, a.Origin,
			r.created, r.updated, a.DraftInfo != nil, r.doc)
		if isUniqueViolation(err) {
			return fmt.Errorf("automation %s: %w", a.ID, errs.ErrConflict)
		}
		if err != nil {
			return wrap(err, "create automation")
		}
		return recordRevision(ctx, tx, siteID, a.ID, r)
	})
}

func recordRevision(ctx context.Context, tx *sql.Tx, siteID, id string, r automationRow) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO automation_revisions (site_id, id, revision, doc) VALUES (?, ?, ?, ?)
		ON CONFLICT (site_id, id, revision) DO UPDATE SET doc = excluded.doc`, siteID, id, r.revision, r.doc)
	return wrap(err, "record revision")
}

// UpdateAutomation replaces a site's automation if its stored revision is expectedRevision (a.Revision is
// the next one) and records the new revision: errs.ErrNotFound when absent, errs.ErrConflict when stale.
func (s *Store) UpdateAutomation(ctx context.Context, siteID string, a *automation.Automation, expectedRevision int64) error {
	r, err := toRow(a)
	if err != nil {
		return err
	}
	status, trig := columnsOf(a)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE automations SET revision = ?, status = ?, runnable = ?, trigger_app_id = ?,
			trigger_key = ?, name = ?, origin = ?, updated_at = ?, is_draft = ?, doc = ?
			WHERE site_id = ? AND id = ? AND revision = ?`,
			r.revision, status, a.IsActive(), trig.AppID, trig.TriggerKey, a.Name, a.Origin, r.updated, a.DraftInfo != nil,
			r.doc, siteID, a.ID, expectedRevision)
		if err != nil {
			return wrap(err, "update automation")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var stored int64
			err := tx.QueryRowContext(ctx, `SELECT revision FROM automations WHERE site_id = ? AND id = ?`, siteID, a.ID).Scan(&stored)
			if isNoRows(err) {
				return errs.ErrNotFound
			}
			if err != nil {
				return wrap(err, "read revision")
			}
			return fmt.Errorf("automation %s is at revision %d, not %d: %w", a.ID, stored, expectedRevision, errs.ErrConflict)
		}
		return recordRevision(ctx, tx, siteID, a.ID, r)
	})
}

// DeleteAutomation removes a site's automation and its revisions; errs.ErrNotFound when absent.
func (s *Store) DeleteAutomation(ctx context.Context, siteID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM automations WHERE site_id = ? AND id = ?`, siteID, id)
		if err != nil {
			return wrap(err, "delete automation")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM automation_revisions WHERE site_id = ? AND id = ?`, siteID, id)
		return wrap(err, "delete revisions")
	})
}

// GetAutomation reads one automation of a site: another site's automation is not found.
func (s *Store) GetAutomation(ctx context.Context, siteID, id string) (*automation.Automation, error) {
	var a automation.Automation
	if err := getDoc(ctx, s.read, &a, `SELECT doc FROM automations WHERE site_id = ? AND id = ?`, siteID, id); err != nil {
		return nil, err
	}
	return &a, nil
}

// GetAutomationRevision reads one recorded revision of a site's automation.
func (s *Store) GetAutomationRevision(ctx context.Context, siteID, id string, revision int64) (*automation.Automation, error) {
	var a automation.Automation
	if err := getDoc(ctx, s.read, &a, `SELECT doc FROM automation_revisions WHERE site_id = ? AND id = ? AND revision = ?`,
		siteID, id, revision); err != nil {
		return nil, err
	}
	return &a, nil
}

// automationColumns maps WQL fields to SQL over the automations table, so that filters and sorts run in
// SQLite instead of decoding every document of the site.
var automationColumns = map[string]string{
	"id":                               "id",
	"name":                             "name",
	"configuration.status":             "status",
	"configuration.trigger.appId":      "trigger_app_id",
	"configuration.trigger.triggerKey": "trigger_key",
	"origin":                           "origin",
	"createdDate":                      "created_at",
	"updatedDate":                      "updated_at",
	"settings.readonly":                "coalesce(json_extract(doc, '$.settings.readonly'), 0)",
	"settings.disableDelete":           "coalesce(json_extract(doc, '$.settings.disableDelete'), 0)",
	"settings.disableStatusChange":     "coalesce(json_extract(doc, '$.settings.disableStatusChange'), 0)",
	"settings.hidden":                  "coalesce(json_extract(doc, '$.settings.hidden'), 0)",
}

// QueryAutomations pages through the automations of a view — drafts excluded unless standalone ones are
// asked for — with a WQL query: in SQL when every field it uses has a column, else by evaluating the query
// over the view's documents.
func (s *Store) QueryAutomations(ctx context.Context, v automation.View, q *wql.Query) ([]*automation.Automation, string, error) {
	if where, wargs, orderBy, ok := q.SQL(automationColumns); ok {
		return s.queryAutomationsSQL(ctx, q, v, where, wargs, orderBy)
	}
	from, args := viewSQL(v)
	rows, err := s.read.QueryContext(ctx, `SELECT doc FROM automations `+from, args...)
	if err != nil {
		return nil, "", wrap(err, "query automations")
	}
	defer rows.Close()
	var docs []map[string]any
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, "", wrap(err, "scan automation")
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, "", fmt.Errorf("decode stored automation: %w", err)
		}
		docs = append(docs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err, "query automations")
	}
	page, next, err := q.Page(docs)
	if err != nil {
		return nil, "", err
	}
	out := make([]*automation.Automation, 0, len(page))
	for _, m := range page {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, "", fmt.Errorf("re-encode automation: %w", err)
		}
		var a automation.Automation
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, "", fmt.Errorf("decode automation: %w", err)
		}
		out = append(out, &a)
	}
	return out, next, nil
}

// viewSQL is the WHERE clause (with its arguments) that selects a view's automations. Unqualified columns
// in it and in what follows name the outer row: the shadowing subquery has its own alias.
func viewSQL(v automation.View) (string, []any) {
	parts, args := viewParts(v)
	var all []any
	where := `WHERE (`
	for i, p := range parts {
		if i > 0 {
			where += ` OR `
		}
		where += `(` + p + `)`
		all = append(all, args[i]...)
	}
	return where + `)`, all
}

// viewParts are the view's sources as separate conditions: the site's own automations, then each
// preinstalled tenant's automations that the site does not shadow.
func viewParts(v automation.View) ([]string, [][]any) {
	own := `site_id = ? AND is_draft = 0`
	if v.StandaloneDrafts {
		own = `site_id = ? AND (is_draft = 0 OR json_extract(doc, '$.draftInfo.originalAutomationId') IS NULL)`
	}
	parts, args := []string{own}, [][]any{{v.SiteID}}
	for _, t := range v.Preinstalled {
		parts = append(parts, `site_id = ? AND is_draft = 0
			AND NOT EXISTS (SELECT 1 FROM automations shadow WHERE shadow.site_id = ? AND shadow.id = automations.id)`)
		args = append(args, []any{t, v.SiteID})
	}
	return parts, args
}

func (s *Store) queryAutomationsSQL(ctx context.Context, q *wql.Query, v automation.View, where string, wargs []any, orderBy string) ([]*automation.Automation, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = wql.DefaultLimit
	}
	// Each source reads at most a page (plus one) in index order; with several sources their pages are
	// merged. One OR over all sources would make SQLite sort every matching row of the site.
	parts, pargs := viewParts(v)
	subquery := func(i int, cols string) (string, []any) {
		stmt := `SELECT ` + cols + ` FROM automations WHERE ` + parts[i]
		args := append(append([]any{}, pargs[i]...), wargs...)
		if where != "" {
			stmt += ` AND (` + where + `)`
		}
		return stmt + ` ORDER BY ` + orderBy + ` LIMIT ?`, append(args, limit+1)
	}
	var stmt string
	var all []any
	if len(parts) == 1 {
		stmt, all = subquery(0, `doc`)
	} else {
		var union []string
		for i := range parts {
			sq, args := subquery(i, `*`)
			union = append(union, `SELECT * FROM (`+sq+`)`)
			all = append(all, args...)
		}
		stmt = `SELECT doc FROM (` + strings.Join(union, ` UNION ALL `) + `) AS automations ORDER BY ` + orderBy + ` LIMIT ?`
		all = append(all, limit+1)
	}
	rows, err := s.read.QueryContext(ctx, stmt, all...)
	if err != nil {
		return nil, "", wrap(err, "query automations")
	}
	defer rows.Close()
	var out []*automation.Automation
	var lastDoc map[string]any
	next := ""
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, "", wrap(err, "scan automation")
		}
		if len(out) == limit {
			c, err := q.CursorAfter(lastDoc)
			if err != nil {
				return nil, "", err
			}
			next = c
			break
		}
		var a automation.Automation
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, "", fmt.Errorf("decode stored automation: %w", err)
		}
		lastDoc = nil // a fresh map: Unmarshal into a used one would keep the previous document's keys
		if err := json.Unmarshal(raw, &lastDoc); err != nil {
			return nil, "", fmt.Errorf("decode stored automation: %w", err)
		}
		out = append(out, &a)
	}
	return out, next, wrap(rows.Err(), "query automations")
}

// ListTriggerAutomations returns the site's runnable automations on (appID, triggerKey), through the
// automations_by_trigger index.
func (s *Store) ListTriggerAutomations(ctx context.Context, siteID, appID, key string) ([]*automation.Automation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT doc FROM automations
		WHERE site_id = ? AND trigger_app_id = ? AND trigger_key = ? AND runnable = 1`, siteID, appID, key)
	if err != nil {
		return nil, wrap(err, "list trigger automations")
	}
	defer rows.Close()
	var out []*automation.Automation
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, wrap(err, "scan automation")
		}
		var a automation.Automation
		if err := decode(doc, &a); err != nil {
			return nil, err
		}
		out = append(out, &a)
	}
	return out, wrap(rows.Err(), "list trigger automations")
}

// ListDrafts returns a site's draft automations.
func (s *Store) ListDrafts(ctx context.Context, siteID string) ([]*automation.Automation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT doc FROM automations WHERE site_id = ? AND is_draft = 1 ORDER BY id`, siteID)
	if err != nil {
		return nil, wrap(err, "list drafts")
	}
	defer rows.Close()
	out := []*automation.Automation{}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, wrap(err, "scan draft")
		}
		var a automation.Automation
		if err := decode(doc, &a); err != nil {
			return nil, err
		}
		out = append(out, &a)
	}
	return out, wrap(rows.Err(), "list drafts")
}
