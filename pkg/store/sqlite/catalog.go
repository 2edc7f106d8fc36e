package sqlite

import (
	"context"
	"fmt"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// CreateApp stores a new app; errs.ErrConflict when the id is taken.
func (s *Store) CreateApp(ctx context.Context, a *catalog.App) error {
	doc, err := encode(a)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO apps (id, doc) VALUES (?, ?)`, a.ID, doc)
	if isUniqueViolation(err) {
		return fmt.Errorf("app %s: %w", a.ID, errs.ErrConflict)
	}
	return wrap(err, "create app")
}

func (s *Store) GetApp(ctx context.Context, id string) (*catalog.App, error) {
	var a catalog.App
	return &a, getDoc(ctx, s.read, &a, `SELECT doc FROM apps WHERE id = ?`, id)
}

// PutTrigger creates or replaces the trigger (appId, triggerKey).
func (s *Store) PutTrigger(ctx context.Context, t *catalog.Trigger) error {
	doc, err := encode(t)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO triggers (app_id, trigger_key, doc) VALUES (?, ?, ?)
		ON CONFLICT (app_id, trigger_key) DO UPDATE SET doc = excluded.doc`, t.AppID, t.TriggerKey, doc)
	return wrap(err, "put trigger")
}

func (s *Store) GetTrigger(ctx context.Context, appID, key string) (*catalog.Trigger, error) {
	var t catalog.Trigger
	return &t, getDoc(ctx, s.read, &t, `SELECT doc FROM triggers WHERE app_id = ? AND trigger_key = ?`, appID, key)
}

// PutAction creates or replaces the action (appId, actionKey).
func (s *Store) PutAction(ctx context.Context, a *catalog.Action) error {
	doc, err := encode(a)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO actions (app_id, action_key, doc) VALUES (?, ?, ?)
		ON CONFLICT (app_id, action_key) DO UPDATE SET doc = excluded.doc`, a.AppID, a.ActionKey, doc)
	return wrap(err, "put action")
}

func (s *Store) GetAction(ctx context.Context, appID, key string) (*catalog.Action, error) {
	var a catalog.Action
	return &a, getDoc(ctx, s.read, &a, `SELECT doc FROM actions WHERE app_id = ? AND action_key = ?`, appID, key)
}

// PutInstallation records the installation, keeping the first one when the app is already installed.
func (s *Store) PutInstallation(ctx context.Context, in *catalog.Installation) (*catalog.Installation, error) {
	doc, err := encode(in)
	if err != nil {
		return nil, err
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO installations (site_id, app_id, doc) VALUES (?, ?, ?)
		ON CONFLICT (site_id, app_id) DO NOTHING`, in.SiteID, in.AppID, doc); err != nil {
		return nil, wrap(err, "put installation")
	}
	var out catalog.Installation
	return &out, getDoc(ctx, s.write, &out, `SELECT doc FROM installations WHERE site_id = ? AND app_id = ?`, in.SiteID, in.AppID)
}

func (s *Store) GetInstallation(ctx context.Context, siteID, appID string) (*catalog.Installation, error) {
	var in catalog.Installation
	return &in, getDoc(ctx, s.read, &in, `SELECT doc FROM installations WHERE site_id = ? AND app_id = ?`, siteID, appID)
}

// CreateAPIKey stores a key by the hash of its secret.
func (s *Store) CreateAPIKey(ctx context.Context, k *access.APIKey) error {
	doc, err := encode(k)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO api_keys (key_hash, id, site_id, doc) VALUES (?, ?, ?, ?)`,
		k.KeyHash, k.ID, k.SiteID, doc)
	if isUniqueViolation(err) {
		return fmt.Errorf("api key: %w", errs.ErrConflict)
	}
	return wrap(err, "create api key")
}

func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (*access.APIKey, error) {
	var k access.APIKey
	if err := getDoc(ctx, s.read, &k, `SELECT doc FROM api_keys WHERE key_hash = ?`, hash); err != nil {
		return nil, err
	}
	k.KeyHash = hash
	return &k, nil
}

// GetSetting reads a named setting.
func (s *Store) GetSetting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if err != nil {
		if isNoRows(err) {
			return "", errs.ErrNotFound
		}
		return "", wrap(err, "get setting")
	}
	return v, nil
}

// PutSetting writes a named setting.
func (s *Store) PutSetting(ctx context.Context, name, value string) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return wrap(err, "put setting")
}

// ListInstallations returns the installations of a site, by app id.
func (s *Store) ListInstallations(ctx context.Context, siteID string) ([]*catalog.Installation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT doc FROM installations WHERE site_id = ? ORDER BY app_id`, siteID)
	if err != nil {
		return nil, wrap(err, "list installations")
	}
	defer rows.Close()
	out := []*catalog.Installation{}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, wrap(err, "scan installation")
		}
		var in catalog.Installation
		if err := decode(doc, &in); err != nil {
			return nil, err
		}
		out = append(out, &in)
	}
	return out, wrap(rows.Err(), "list installations")
}
