package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// CreateActivations stores activations and their root branches in one transaction.
func (s *Store) CreateActivations(ctx context.Context, news []run.NewActivation) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return insertActivations(ctx, tx, news) })
}

// CreateActivationsOnce is CreateActivations behind an idempotency key: when an unexpired record for
// (once.Scope, once.Key) exists it writes nothing and returns the first call's activation ids with
// fresh=false. The check and the writes are one transaction, so concurrent duplicates start nothing twice.
func (s *Store) CreateActivationsOnce(ctx context.Context, once run.Once, news []run.NewActivation) (ids []string, fresh bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var prev run.Once
		err := getDoc(ctx, tx, &prev, `SELECT doc FROM idempotency WHERE scope = ? AND key = ? AND expires_at > ?`,
			once.Scope, once.Key, once.CreatedDate.UnixMilli())
		if err == nil {
			ids = prev.ActivationIDs
			return nil
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return err
		}
		doc, err := encode(&once)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency (scope, key, expires_at, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (scope, key) DO UPDATE SET expires_at = excluded.expires_at, doc = excluded.doc`,
			once.Scope, once.Key, once.ExpiresAt.UnixMilli(), doc); err != nil {
			return wrap(err, "record idempotency key")
		}
		ids, fresh = once.ActivationIDs, true
		return insertActivations(ctx, tx, news)
	})
	return ids, fresh, err
}

func insertActivations(ctx context.Context, tx *sql.Tx, news []run.NewActivation) error {
	for i := range news {
		a := &news[i].Activation
		doc, err := encode(a)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO activations (id, site_id, automation_id, status, created_at,
			trigger_app_id, trigger_key, external_entity_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.SiteID, a.AutomationID, a.Status, a.CreatedDate.UnixMilli(), a.TriggerAppID, a.TriggerKey,
			a.ExternalEntityID, doc); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("activation %s: %w", a.ID, errs.ErrConflict)
			}
			return wrap(err, "insert activation")
		}
		for j := range news[i].Branches {
			if err := insertBranch(ctx, tx, &news[i].Branches[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

func insertBranch(ctx context.Context, tx *sql.Tx, b *run.Branch) error {
	doc, err := encode(b)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO branches (activation_id, id, version, state, due_at, doc)
		VALUES (?, ?, ?, ?, ?, ?)`, b.ActivationID, b.ID, b.Version, b.State, b.DueAt.UnixMilli(), doc)
	if isUniqueViolation(err) {
		return fmt.Errorf("branch %s/%s: %w", b.ActivationID, b.ID, errs.ErrConflict)
	}
	return wrap(err, "insert branch")
}

func (s *Store) GetActivation(ctx context.Context, id string) (*run.Activation, error) {
	var a run.Activation
	if err := getDoc(ctx, s.read, &a, `SELECT doc FROM activations WHERE id = ?`, id); err != nil {
		return nil, err
	}
	return &a, nil
}

func (s *Store) GetBranch(ctx context.Context, activationID, id string) (*run.Branch, error) {
	var b run.Branch
	if err := getDoc(ctx, s.read, &b, `SELECT doc FROM branches WHERE activation_id = ? AND id = ?`, activationID, id); err != nil {
		return nil, err
	}
	return &b, nil
}

func (s *Store) GetActionLog(ctx context.Context, activationID, actionID string) (*run.ActionLog, error) {
	var l run.ActionLog
	if err := getDoc(ctx, s.read, &l, `SELECT doc FROM action_logs WHERE activation_id = ? AND action_id = ?`, activationID, actionID); err != nil {
		return nil, err
	}
	return &l, nil
}

// ListActionLogs returns an activation's action logs in the order the actions first ran.
func (s *Store) ListActionLogs(ctx context.Context, activationID string) ([]run.ActionLog, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT doc FROM action_logs WHERE activation_id = ? ORDER BY seq`, activationID)
	if err != nil {
		return nil, wrap(err, "list action logs")
	}
	defer rows.Close()
	out := []run.ActionLog{}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, wrap(err, "scan action log")
		}
		var l run.ActionLog
		if err := decode(doc, &l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, wrap(rows.Err(), "list action logs")
}

// CommitStep writes one engine step atomically: the branch (only if still at the version the step read),
// forks, action logs, and the activation's status and branch count.
func (s *Store) CommitStep(ctx context.Context, c run.StepCommit) (run.CommitResult, error) {
	var res run.CommitResult
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var act run.Activation
		if err := getDoc(ctx, tx, &act, `SELECT doc FROM activations WHERE id = ?`, c.ActivationID); err != nil {
			return err
		}
		if act.Status.Terminal() {
			return fmt.Errorf("activation %s is %s: %w", act.ID, act.Status, errs.ErrConflict)
		}
		doc, err := encode(&c.Branch)
		if err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `UPDATE branches SET version = ?, state = ?, due_at = ?, doc = ?
			WHERE activation_id = ? AND id = ? AND version = ?`,
			c.Branch.Version, c.Branch.State, c.Branch.DueAt.UnixMilli(), doc, c.ActivationID, c.Branch.ID, c.Branch.Version-1)
		if err != nil {
			return wrap(err, "update branch")
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return fmt.Errorf("branch %s/%s moved on: %w", c.ActivationID, c.Branch.ID, errs.ErrConflict)
		}
		for i := range c.NewBranches {
			if err := insertBranch(ctx, tx, &c.NewBranches[i]); err != nil {
				return err
			}
		}
		for i := range c.ActionLogs {
			if err := upsertActionLog(ctx, tx, &c.ActionLogs[i]); err != nil {
				return err
			}
		}
		if c.Started != nil && act.Status == run.StatusInitiated {
			act.Status = run.StatusStarted
			act.Infos.Started = c.Started
		}
		act.OpenBranches += len(c.NewBranches)
		if c.Branch.State == run.BranchDone {
			act.OpenBranches--
		}
		act.FailedActions += c.FailedActions
		act.Warnings = run.AppendWarnings(act.Warnings, c.Warnings)
		if act.OpenBranches <= 0 {
			act.OpenBranches = 0
			act.Status = run.StatusEnded
			act.Infos.Ended = &run.EndedInfo{WithFailedActions: act.FailedActions > 0, StatusChangedDate: c.Now}
			res.Ended = true
		}
		act.UpdatedDate = c.Now
		return updateActivation(ctx, tx, &act)
	})
	return res, err
}

func updateActivation(ctx context.Context, tx *sql.Tx, a *run.Activation) error {
	doc, err := encode(a)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE activations SET status = ?, doc = ? WHERE id = ?`, a.Status, doc, a.ID)
	return wrap(err, "update activation")
}

func upsertActionLog(ctx context.Context, tx *sql.Tx, l *run.ActionLog) error {
	doc, err := encode(l)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO action_logs (activation_id, action_id, seq, doc)
		VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM action_logs WHERE activation_id = ?), ?)
		ON CONFLICT (activation_id, action_id) DO UPDATE SET doc = excluded.doc`,
		l.ActivationID, l.ActionID, l.ActivationID, doc)
	return wrap(err, "upsert action log")
}

// ClaimDue leases up to limit branches that are due at now and not leased by a live worker.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]run.BranchRef, error) {
	rows, err := s.write.QueryContext(ctx, `UPDATE branches SET lease_until = ?
		WHERE rowid IN (SELECT rowid FROM branches WHERE state <> 'DONE' AND due_at <= ? AND lease_until <= ?
			ORDER BY due_at LIMIT ?)
		RETURNING activation_id, id`, now.Add(lease).UnixMilli(), now.UnixMilli(), now.UnixMilli(), limit)
	if err != nil {
		return nil, wrap(err, "claim due branches")
	}
	defer rows.Close()
	var out []run.BranchRef
	for rows.Next() {
		var r run.BranchRef
		if err := rows.Scan(&r.ActivationID, &r.BranchID); err != nil {
			return nil, wrap(err, "scan claim")
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err(), "claim due branches")
}

// Release ends a worker's lease on a branch. The branch can be claimed again once it is due and `until`
// has passed: a zero until releases it at once, a later one backs off a step that failed.
func (s *Store) Release(ctx context.Context, ref run.BranchRef, until time.Time) error {
	var ms int64
	if !until.IsZero() {
		ms = until.UnixMilli()
	}
	_, err := s.write.ExecContext(ctx, `UPDATE branches SET lease_until = ? WHERE activation_id = ? AND id = ?`,
		ms, ref.ActivationID, ref.BranchID)
	return wrap(err, "release branch")
}

// ReleaseMany is Release for several branches in one transaction: the local runner batches the releases
// of its workers so that each finished branch does not cost a write transaction of its own.
func (s *Store) ReleaseMany(ctx context.Context, rs []run.Release) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, r := range rs {
			var ms int64
			if !r.Until.IsZero() {
				ms = r.Until.UnixMilli()
			}
			if _, err := tx.ExecContext(ctx, `UPDATE branches SET lease_until = ? WHERE activation_id = ? AND id = ?`,
				ms, r.Ref.ActivationID, r.Ref.BranchID); err != nil {
				return wrap(err, "release branch")
			}
		}
		return nil
	})
}

// NextDue reports when the earliest unfinished branch becomes claimable (ok=false when none will).
func (s *Store) NextDue(ctx context.Context) (t time.Time, ok bool, err error) {
	var due, backoff sql.NullInt64
	err = s.read.QueryRowContext(ctx, `SELECT
		(SELECT MIN(due_at) FROM branches WHERE state <> 'DONE' AND lease_until = 0),
		(SELECT MIN(MAX(due_at, lease_until)) FROM branches WHERE lease_until > 0 AND state <> 'DONE')`).Scan(&due, &backoff)
	if err != nil {
		return time.Time{}, false, wrap(err, "next due")
	}
	switch {
	case due.Valid && backoff.Valid:
		return time.UnixMilli(min(due.Int64, backoff.Int64)), true, nil
	case due.Valid:
		return time.UnixMilli(due.Int64), true, nil
	case backoff.Valid:
		return time.UnixMilli(backoff.Int64), true, nil
	}
	return time.Time{}, false, nil
}

// ResetLeases drops every lease: called at start-up, when no worker of a previous process can be alive
// (the data directory is locked by one process at a time).
func (s *Store) ResetLeases(ctx context.Context) error {
	_, err := s.write.ExecContext(ctx, `UPDATE branches SET lease_until = 0 WHERE lease_until <> 0`)
	return wrap(err, "reset leases")
}

// UpdateBranch replaces a branch if it is still at version b.Version-1 (else errs.ErrConflict), moving its
// due time with it: how completions and parked task tokens reach a waiting branch.
func (s *Store) UpdateBranch(ctx context.Context, b run.Branch) error {
	doc, err := encode(&b)
	if err != nil {
		return err
	}
	r, err := s.write.ExecContext(ctx, `UPDATE branches SET version = ?, state = ?, due_at = ?, doc = ?
		WHERE activation_id = ? AND id = ? AND version = ?`,
		b.Version, b.State, b.DueAt.UnixMilli(), doc, b.ActivationID, b.ID, b.Version-1)
	if err != nil {
		return wrap(err, "update branch")
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return fmt.Errorf("branch %s/%s moved on: %w", b.ActivationID, b.ID, errs.ErrConflict)
	}
	return nil
}
