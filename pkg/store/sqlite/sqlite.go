// Package sqlite is the embedded store of `switchyard serve`: one SQLite database (pure Go, WAL) that
// holds the catalog, automations, run records and — through the branches table — the local runner's
// durable work queue. Records are JSON documents with the columns their queries need beside them.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is the SQLite implementation of every storage interface in Switchyard.
type Store struct {
	write *sql.DB // one connection: SQLite has one writer; queueing here beats busy-waiting in the driver
	read  *sql.DB
}

// Open opens (creating if needed) the database file at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite path: %w", err)
	}
	// The database holds key hashes and sealed secrets: only its owner reads it. SQLite gives the -wal and
	// -shm files the database file's permissions, so creating it 0600 covers them too.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create database file: %w", err)
	}
	f.Close()
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + abs + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(max(4, runtime.NumCPU()*2))
	s := &Store{write: w, read: r}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	return errors.Join(s.write.Close(), s.read.Close())
}

// schemaVersion is the number of migrations: appending one is all a schema change needs.
var schemaVersion = len(migrations)

func (s *Store) migrate(ctx context.Context) error {
	var v int
	if err := s.write.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v == schemaVersion {
		return nil
	}
	if v > schemaVersion {
		return fmt.Errorf("database schema version %d is newer than this binary (%d)", v, schemaVersion)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range migrations[v:] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion))
		return err
	})
}

// migrations[i] moves the schema from version i to i+1.
var migrations = []string{`
CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE apps (id TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE triggers (app_id TEXT NOT NULL, trigger_key TEXT NOT NULL, doc BLOB NOT NULL,
	PRIMARY KEY (app_id, trigger_key));
CREATE TABLE actions (app_id TEXT NOT NULL, action_key TEXT NOT NULL, doc BLOB NOT NULL,
	PRIMARY KEY (app_id, action_key));
CREATE TABLE installations (site_id TEXT NOT NULL, app_id TEXT NOT NULL, doc BLOB NOT NULL,
	PRIMARY KEY (site_id, app_id));
CREATE TABLE api_keys (key_hash TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, site_id TEXT NOT NULL, doc BLOB NOT NULL);
CREATE TABLE automations (site_id TEXT NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL,
	status TEXT NOT NULL, runnable INTEGER NOT NULL, trigger_app_id TEXT NOT NULL, trigger_key TEXT NOT NULL,
	name TEXT NOT NULL, origin TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
	is_draft INTEGER NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (site_id, id));
-- QueryAutomations filters and sorts these columns in SQL instead of parsing every document of the site.
CREATE INDEX automations_by_name ON automations (site_id, name, id);
CREATE TABLE automation_revisions (site_id TEXT NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL,
	doc BLOB NOT NULL, PRIMARY KEY (site_id, id, revision));
-- ReportEvent matches through this index only: never a scan of the site's automations.
CREATE INDEX automations_by_trigger ON automations (site_id, trigger_app_id, trigger_key) WHERE runnable = 1;
CREATE TABLE activations (id TEXT PRIMARY KEY, site_id TEXT NOT NULL, automation_id TEXT NOT NULL,
	status TEXT NOT NULL, created_at INTEGER NOT NULL, trigger_app_id TEXT NOT NULL, trigger_key TEXT NOT NULL,
	external_entity_id TEXT NOT NULL, doc BLOB NOT NULL);
CREATE INDEX activations_by_automation ON activations (site_id, automation_id, created_at, id);
CREATE INDEX activations_by_site ON activations (site_id, created_at, id);
-- CancelEvent finds an entity's pending activations through this index.
CREATE INDEX activations_pending_by_entity ON activations (site_id, trigger_app_id, trigger_key, external_entity_id)
	WHERE external_entity_id <> '' AND status IN ('INITIATED', 'SCHEDULED', 'STARTED');
CREATE INDEX activations_pending_by_automation ON activations (site_id, automation_id)
	WHERE status IN ('INITIATED', 'SCHEDULED', 'STARTED');
CREATE TABLE counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE idempotency (scope TEXT NOT NULL, key TEXT NOT NULL, expires_at INTEGER NOT NULL, doc BLOB NOT NULL,
	PRIMARY KEY (scope, key));
-- Branches are the local runner's work queue: every branch not DONE is due at due_at.
CREATE TABLE branches (activation_id TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
	state TEXT NOT NULL, due_at INTEGER NOT NULL, lease_until INTEGER NOT NULL DEFAULT 0, doc BLOB NOT NULL,
	PRIMARY KEY (activation_id, id));
CREATE INDEX branches_due ON branches (due_at) WHERE state <> 'DONE';
CREATE INDEX branches_leased ON branches (lease_until) WHERE lease_until > 0;
CREATE TABLE action_logs (activation_id TEXT NOT NULL, action_id TEXT NOT NULL, seq INTEGER NOT NULL,
	doc BLOB NOT NULL, PRIMARY KEY (activation_id, action_id));
`, `
-- Contacts (pkg/contacts). Query filters read the document with json_extract, which yields NULL for an
-- absent field as WQL's in-memory semantics expect; the email index serves lookups by address.
CREATE TABLE contacts (site_id TEXT NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL,
	created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (site_id, id));
CREATE INDEX contacts_by_email ON contacts (site_id, json_extract(doc, '$.email'), id);
CREATE INDEX contacts_by_created ON contacts (site_id, created_at, id);
`, `
-- Apps' HMAC signing secrets, sealed under the platform key; version guards rotation.
CREATE TABLE app_signing_secrets (app_id TEXT PRIMARY KEY, version INTEGER NOT NULL, doc BLOB NOT NULL);
`, `
-- The contact_updated outbox (pkg/contactreport): UpdateContact inserts a row in the contact's transaction;
-- the report deletes it. The drain lists due rows through the index, never a scan; doc is the contact as
-- written at that revision.
CREATE TABLE contact_reports (site_id TEXT NOT NULL, contact_id TEXT NOT NULL, revision INTEGER NOT NULL,
	due_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, doc BLOB NOT NULL,
	PRIMARY KEY (site_id, contact_id, revision));
CREATE INDEX contact_reports_due ON contact_reports (due_at, site_id, contact_id, revision);
`}

// tx runs fn in a write transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
