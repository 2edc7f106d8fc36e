package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// PutApp replaces an existing app; errs.ErrNotFound when there is none (create with CreateApp).
func (s *Store) PutApp(ctx context.Context, a *catalog.App) error {
	doc, err := encode(a)
	if err != nil {
		return err
	}
	res, err := s.write.ExecContext(ctx, `UPDATE apps SET doc = ? WHERE id = ?`, doc, a.ID)
	if err != nil {
		return wrap(err, "put app")
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(err, "put app")
	} else if n == 0 {
		return fmt.Errorf("app %s: %w", a.ID, errs.ErrNotFound)
	}
	return nil
}

// Column expressions of the catalog queries. "id" is the position's tie-breaker: an app's id, and for a
// trigger or an action its unique (app, key) pair as "<appId>/<key>" (keys never hold '/'), the same
// string catalogKey builds for in-memory paging. Timestamps are not mapped, so a query on them pages in
// memory.
var (
	appColumns     = map[string]string{"id": "id"}
	triggerColumns = map[string]string{"id": "app_id || '/' || trigger_key", "appId": "app_id", "triggerKey": "trigger_key",
		"displayName": "json_extract(doc, '$.displayName')"}
	actionColumns = map[string]string{"id": "app_id || '/' || action_key", "appId": "app_id", "actionKey": "action_key",
		"displayName": "json_extract(doc, '$.displayName')"}
)

// QueryApps pages through every app (wql.AppSchema).
func (s *Store) QueryApps(ctx context.Context, q *wql.Query) ([]*catalog.App, string, error) {
	return queryCatalog[catalog.App](ctx, s, "apps", appColumns, "", q)
}

// QueryTriggers pages through every app's triggers (wql.TriggerSchema).
func (s *Store) QueryTriggers(ctx context.Context, q *wql.Query) ([]*catalog.Trigger, string, error) {
	return queryCatalog[catalog.Trigger](ctx, s, "triggers", triggerColumns, "triggerKey", q)
}

// QueryActions pages through every app's actions (wql.ActionSchema).
func (s *Store) QueryActions(ctx context.Context, q *wql.Query) ([]*catalog.Action, string, error) {
	return queryCatalog[catalog.Action](ctx, s, "actions", actionColumns, "actionKey", q)
}

// queryCatalog runs q in SQL when every field it uses has a column, else over all the table's
// documents in memory (the catalog is small: apps and their definitions, not per-site data). keyField
// names the definition's key; its documents are paged by (appId, key) instead of their id.
func queryCatalog[T any](ctx context.Context, s *Store, table string, cols map[string]string, keyField string, q *wql.Query) ([]*T, string, error) {
	stmt := `SELECT doc FROM ` + table
	var args []any
	limit := q.Limit
	if limit <= 0 {
		limit = wql.DefaultLimit
	}
	where, wargs, orderBy, inSQL := q.SQL(cols)
	if inSQL {
		if where != "" {
			stmt += ` WHERE ` + where
		}
		stmt += ` ORDER BY ` + orderBy + ` LIMIT ?`
		args = append(wargs, limit+1)
	}
	rows, err := s.read.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, "", wrap(err, "query "+table)
	}
	defer rows.Close()
	var docs []map[string]any
	raw := map[string][]byte{} // position id → stored document, decoded as is (no float64 round trip)
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, "", wrap(err, "scan "+table)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, "", fmt.Errorf("decode stored %s document: %w", table, err)
		}
		id := wql.CatalogPosition(m, keyField)
		raw[id] = b
		docs = append(docs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(err, "query "+table)
	}
	next := ""
	if inSQL {
		if len(docs) > limit {
			if next, err = q.CursorAfter(docs[limit-1]); err != nil {
				return nil, "", err
			}
			docs = docs[:limit]
		}
	} else if docs, next, err = q.Page(docs); err != nil {
		return nil, "", err
	}
	out := make([]*T, 0, len(docs))
	for _, m := range docs {
		var v T
		if err := json.Unmarshal(raw[m["id"].(string)], &v); err != nil {
			return nil, "", fmt.Errorf("decode stored %s document: %w", table, err)
		}
		out = append(out, &v)
	}
	return out, next, nil
}
