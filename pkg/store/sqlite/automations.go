package sqlite

import (
	"context"
	"fmt"
	"strconv"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// CreateAutomation stores a new automation of a site; errs.ErrConflict when the id is taken.
func (s *Store) CreateAutomation(ctx context.Context, siteID string, a *automation.Automation) error {
	doc, err := encode(a)
	if err != nil {
		return err
	}
	rev, _ := strconv.ParseInt(a.Revision, 10, 64)
	var created int64
	if a.CreatedDate != nil {
		created = a.CreatedDate.UnixMilli()
	}
	trig := a.Configuration.Trigger
	_, err = s.write.ExecContext(ctx, `INSERT INTO automations (site_id, id, revision, status, runnable,
		trigger_app_id, trigger_key, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		siteID, a.ID, rev, a.Configuration.Status, a.IsActive(), trig.AppID, trig.TriggerKey, created, doc)
	if isUniqueViolation(err) {
		return fmt.Errorf("automation %s: %w", a.ID, errs.ErrConflict)
	}
	return wrap(err, "create automation")
}

// GetAutomation reads one automation of a site: another site's automation is not found.
func (s *Store) GetAutomation(ctx context.Context, siteID, id string) (*automation.Automation, error) {
	var a automation.Automation
	if err := getDoc(ctx, s.read, &a, `SELECT doc FROM automations WHERE site_id = ? AND id = ?`, siteID, id); err != nil {
		return nil, err
	}
	return &a, nil
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
