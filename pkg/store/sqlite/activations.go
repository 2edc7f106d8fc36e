package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/run"
)

// CancelActivations cancels every pending activation matching c (an event's entity, or an automation) in
// one transaction: each becomes CANCELLED with cancelledInfo and its unfinished branches DONE, so no
// worker will step them again (a step in flight loses its commit). It returns the branches that were
// still running, for runtimes that must stop executions.
func (s *Store) CancelActivations(ctx context.Context, c run.Cancellation) ([]run.BranchRef, error) {
	var refs []run.BranchRef
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var rows *sql.Rows
		var err error
		pending := `status IN ('INITIATED', 'SCHEDULED', 'STARTED')`
		switch {
		case c.ActivationID != "":
			rows, err = tx.QueryContext(ctx, `SELECT doc FROM activations WHERE site_id = ? AND id = ? AND `+pending,
				c.SiteID, c.ActivationID)
		case c.AutomationID != "":
			rows, err = tx.QueryContext(ctx, `SELECT doc FROM activations WHERE site_id = ? AND automation_id = ? AND `+pending,
				c.SiteID, c.AutomationID)
		default:
			rows, err = tx.QueryContext(ctx, `SELECT doc FROM activations WHERE site_id = ? AND trigger_app_id = ?
				AND trigger_key = ? AND external_entity_id = ? AND external_entity_id <> '' AND `+pending,
				c.SiteID, c.TriggerAppID, c.TriggerKey, c.ExternalEntityID)
		}
		if err != nil {
			return wrap(err, "find pending activations")
		}
		var acts []run.Activation
		for rows.Next() {
			var doc []byte
			var a run.Activation
			if err := rows.Scan(&doc); err != nil {
				rows.Close()
				return wrap(err, "scan activation")
			}
			if err := decode(doc, &a); err != nil {
				rows.Close()
				return err
			}
			acts = append(acts, a)
		}
		rows.Close()
		for i := range acts {
			a := &acts[i]
			a.Status = run.StatusCancelled
			a.OpenBranches = 0
			a.UpdatedDate = c.Now
			a.Infos.Cancelled = &run.CancelledInfo{Reason: c.Reason, Initiator: c.Initiator, StatusChangedDate: c.Now}
			if err := updateActivation(ctx, tx, a); err != nil {
				return err
			}
			live, err := finishBranches(ctx, tx, a.ID, c.Now)
			if err != nil {
				return err
			}
			refs = append(refs, live...)
		}
		return nil
	})
	return refs, err
}

// finishBranches marks an activation's unfinished branches DONE and returns them.
func finishBranches(ctx context.Context, tx *sql.Tx, activationID string, now time.Time) ([]run.BranchRef, error) {
	rows, err := tx.QueryContext(ctx, `SELECT doc FROM branches WHERE activation_id = ? AND state <> 'DONE'`, activationID)
	if err != nil {
		return nil, wrap(err, "find branches")
	}
	var brs []run.Branch
	for rows.Next() {
		var doc []byte
		var b run.Branch
		if err := rows.Scan(&doc); err != nil {
			rows.Close()
			return nil, wrap(err, "scan branch")
		}
		if err := decode(doc, &b); err != nil {
			rows.Close()
			return nil, err
		}
		brs = append(brs, b)
	}
	rows.Close()
	var refs []run.BranchRef
	for _, b := range brs {
		refs = append(refs, run.BranchRef{ActivationID: b.ActivationID, BranchID: b.ID})
		b.State, b.DueAt = run.BranchDone, now
		b.Version++
		doc, err := encode(&b)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE branches SET version = ?, state = ?, due_at = ?, doc = ? WHERE activation_id = ? AND id = ?`,
			b.Version, b.State, b.DueAt.UnixMilli(), doc, b.ActivationID, b.ID); err != nil {
			return nil, wrap(err, "finish branch")
		}
	}
	return refs, nil
}

// ListActivations pages through a site's activations (optionally of one automation) created in
// [From, To), newest first. The cursor is opaque to callers.
func (s *Store) ListActivations(ctx context.Context, q run.ActivationQuery) ([]run.Activation, string, error) {
	where := []string{"site_id = ?", "created_at >= ?", "created_at < ?"}
	args := []any{q.SiteID, q.From.UnixMilli(), q.To.UnixMilli()}
	if q.AutomationID != "" {
		where = append(where, "automation_id = ?")
		args = append(args, q.AutomationID)
	}
	if q.Cursor != "" {
		at, id, err := run.DecodeActivationCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		where = append(where, "(created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, at, at, id)
	}
	args = append(args, q.Limit+1)
	rows, err := s.read.QueryContext(ctx, `SELECT created_at, id, doc FROM activations WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", wrap(err, "list activations")
	}
	defer rows.Close()
	var out []run.Activation
	var lastAt int64
	var lastID string
	for rows.Next() {
		var doc []byte
		var a run.Activation
		var at int64
		var id string
		if err := rows.Scan(&at, &id, &doc); err != nil {
			return nil, "", wrap(err, "scan activation")
		}
		if len(out) == q.Limit {
			return out, run.EncodeActivationCursor(lastAt, lastID), nil
		}
		if err := decode(doc, &a); err != nil {
			return nil, "", err
		}
		out = append(out, a)
		lastAt, lastID = at, id
	}
	return out, "", wrap(rows.Err(), "list activations")
}

// Hit counts one use of a rate-limit window and reports whether it was within the limit; a window past
// its expiry starts again from zero. Check and increment are one transaction.
func (s *Store) Hit(ctx context.Context, c run.Counter) (allowed bool, err error) {
	exp := int64(0)
	if !c.ExpiresAt.IsZero() {
		exp = c.ExpiresAt.UnixMilli()
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var count, expiresAt int64
		err := tx.QueryRowContext(ctx, `SELECT count, expires_at FROM counters WHERE key = ?`, c.Key).Scan(&count, &expiresAt)
		switch {
		case isNoRows(err):
		case err != nil:
			return wrap(err, "read counter")
		case expiresAt != 0 && expiresAt <= c.Now.UnixMilli():
			count = 0 // the stored window is over
		}
		if count >= int64(c.Limit) {
			return nil
		}
		allowed = true
		_, err = tx.ExecContext(ctx, `INSERT INTO counters (key, count, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET count = excluded.count, expires_at = excluded.expires_at`, c.Key, count+1, exp)
		return wrap(err, "write counter")
	})
	return allowed, err
}
