package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// CreateContact stores a new contact of a site; errs.ErrConflict when the id is taken.
func (s *Store) CreateContact(ctx context.Context, siteID string, c *contacts.Contact) error {
	doc, err := encode(c)
	if err != nil {
		return err
	}
	rev, _ := strconv.ParseInt(c.Revision, 10, 64)
	_, err = s.write.ExecContext(ctx, `INSERT INTO contacts (site_id, id, revision, created_at, updated_at, doc)
		VALUES (?, ?, ?, ?, ?, ?)`, siteID, c.ID, rev, c.CreatedDate.UnixMilli(), c.UpdatedDate.UnixMilli(), doc)
	if isUniqueViolation(err) {
		return fmt.Errorf("contact %s: %w", c.ID, errs.ErrConflict)
	}
	return wrap(err, "create contact")
}

// GetContact reads one contact of a site: another site's contact is not found.
func (s *Store) GetContact(ctx context.Context, siteID, id string) (*contacts.Contact, error) {
	var c contacts.Contact
	if err := getDoc(ctx, s.read, &c, `SELECT doc FROM contacts WHERE site_id = ? AND id = ?`, siteID, id); err != nil {
		return nil, err
	}
	return &c, nil
}

// UpdateContact replaces a site's contact if its stored revision is expectedRevision (c.Revision is the
// next one): errs.ErrNotFound when absent, errs.ErrConflict when stale. In the same transaction it records
// that the new revision's contact_updated report is pending (contacts.PendingReport, due at c.UpdatedDate).
func (s *Store) UpdateContact(ctx context.Context, siteID string, c *contacts.Contact, expectedRevision int64) error {
	doc, err := encode(c)
	if err != nil {
		return err
	}
	rev, _ := strconv.ParseInt(c.Revision, 10, 64)
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE contacts SET revision = ?, updated_at = ?, doc = ?
			WHERE site_id = ? AND id = ? AND revision = ?`, rev, c.UpdatedDate.UnixMilli(), doc, siteID, c.ID, expectedRevision)
		if err != nil {
			return wrap(err, "update contact")
		}
		if n, _ := res.RowsAffected(); n > 0 {
			_, err := tx.ExecContext(ctx, `INSERT INTO contact_reports (site_id, contact_id, revision, due_at, doc)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET due_at = excluded.due_at, attempts = 0, doc = excluded.doc`,
				siteID, c.ID, rev, c.UpdatedDate.UnixMilli(), doc)
			return wrap(err, "record pending contact_updated report")
		}
		var stored int64
		err = tx.QueryRowContext(ctx, `SELECT revision FROM contacts WHERE site_id = ? AND id = ?`, siteID, c.ID).Scan(&stored)
		if isNoRows(err) {
			return fmt.Errorf("contact %s: %w", c.ID, errs.ErrNotFound)
		}
		if err != nil {
			return wrap(err, "read contact revision")
		}
		return fmt.Errorf("contact %s is at revision %d, not %d: %w", c.ID, stored, expectedRevision, errs.ErrConflict)
	})
}

// DeleteContact removes a site's contact; errs.ErrNotFound when absent.
func (s *Store) DeleteContact(ctx context.Context, siteID, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM contacts WHERE site_id = ? AND id = ?`, siteID, id)
	if err != nil {
		return wrap(err, "delete contact")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("contact %s: %w", id, errs.ErrNotFound)
	}
	return nil
}

// contactColumns maps the contact query fields to SQL. Absent fields read as NULL, as WQL expects.
var contactColumns = map[string]string{
	"id":          "id",
	"email":       "json_extract(doc, '$.email')",
	"phone":       "json_extract(doc, '$.phone')",
	"name.first":  "json_extract(doc, '$.name.first')",
	"name.last":   "json_extract(doc, '$.name.last')",
	"createdDate": "created_at",
	"updatedDate": "updated_at",
}

// QueryContacts pages through a site's contacts with a WQL query, in SQL.
func (s *Store) QueryContacts(ctx context.Context, siteID string, q *wql.Query) ([]*contacts.Contact, string, error) {
	where, args, orderBy, ok := q.SQL(contactColumns)
	if !ok {
		return nil, "", fmt.Errorf("contact query has no SQL form (every field of contacts.QuerySchema must be in contactColumns)")
	}
	stmt := `SELECT doc FROM contacts WHERE site_id = ?`
	all := append([]any{siteID}, args...)
	if where != "" {
		stmt += ` AND (` + where + `)`
	}
	limit := q.Limit
	if limit <= 0 {
		limit = wql.DefaultLimit
	}
	stmt += ` ORDER BY ` + orderBy + ` LIMIT ?`
	all = append(all, limit+1)
	rows, err := s.read.QueryContext(ctx, stmt, all...)
	if err != nil {
		return nil, "", wrap(err, "query contacts")
	}
	defer rows.Close()
	out := []*contacts.Contact{}
	var last map[string]any
	next := ""
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, "", wrap(err, "scan contact")
		}
		if len(out) == limit {
			if next, err = q.CursorAfter(last); err != nil {
				return nil, "", err
			}
			break
		}
		var c contacts.Contact
		if err := decode(raw, &c); err != nil {
			return nil, "", err
		}
		last = nil // a fresh map: decoding into a used one would keep the previous contact's keys
		if err := decode(raw, &last); err != nil {
			return nil, "", err
		}
		out = append(out, &c)
	}
	return out, next, wrap(rows.Err(), "query contacts")
}
