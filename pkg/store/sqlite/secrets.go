package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// CreateAppWithSecrets stores a new app and its signing secrets in one transaction; errs.ErrConflict
// (and nothing written) when the id is taken.
func (s *Store) CreateAppWithSecrets(ctx context.Context, a *catalog.App, sec *catalog.SigningSecrets) error {
	appDoc, err := encode(a)
	if err != nil {
		return err
	}
	secDoc, err := encode(sec)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO apps (id, doc) VALUES (?, ?)`, a.ID, appDoc)
		if isUniqueViolation(err) {
			return fmt.Errorf("app %s: %w", a.ID, errs.ErrConflict)
		} else if err != nil {
			return wrap(err, "create app")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO app_signing_secrets (app_id, version, doc) VALUES (?, ?, ?)`,
			sec.AppID, sec.Version, secDoc)
		if isUniqueViolation(err) {
			return fmt.Errorf("signing secrets of app %s: %w", a.ID, errs.ErrConflict)
		}
		return wrap(err, "create signing secrets")
	})
}

// GetSigningSecrets reads an app's sealed signing secrets; errs.ErrNotFound when it has none.
func (s *Store) GetSigningSecrets(ctx context.Context, appID string) (*catalog.SigningSecrets, error) {
	var sec catalog.SigningSecrets
	if err := getDoc(ctx, s.read, &sec, `SELECT doc FROM app_signing_secrets WHERE app_id = ?`, appID); err != nil {
		return nil, err
	}
	return &sec, nil
}

// PutSigningSecrets replaces an app's secrets if the stored version is expectedVersion, or creates them
// if expectedVersion is 0 and there are none; errs.ErrConflict otherwise.
func (s *Store) PutSigningSecrets(ctx context.Context, sec *catalog.SigningSecrets, expectedVersion int64) error {
	doc, err := encode(sec)
	if err != nil {
		return err
	}
	var res sql.Result
	if expectedVersion == 0 {
		res, err = s.write.ExecContext(ctx, `INSERT INTO app_signing_secrets (app_id, version, doc) VALUES (?, ?, ?)
			ON CONFLICT (app_id) DO NOTHING`, sec.AppID, sec.Version, doc)
	} else {
		res, err = s.write.ExecContext(ctx, `UPDATE app_signing_secrets SET version = ?, doc = ? WHERE app_id = ? AND version = ?`,
			sec.Version, doc, sec.AppID, expectedVersion)
	}
	if err != nil {
		return wrap(err, "put signing secrets")
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(err, "put signing secrets")
	} else if n == 0 {
		return fmt.Errorf("signing secrets of app %s are not at version %d: %w", sec.AppID, expectedVersion, errs.ErrConflict)
	}
	return nil
}
