package sqlite

import (
	"context"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/contacts"
)

// The contact_updated outbox: rows that UpdateContact writes in the contact's transaction.

// ListDueContactReports returns up to limit pending reports of every site due at or before due, oldest due
// first, through the contact_reports_due index.
func (s *Store) ListDueContactReports(ctx context.Context, due time.Time, limit int) ([]contacts.PendingReport, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, `SELECT site_id, revision, due_at, attempts, doc FROM contact_reports
		WHERE due_at <= ? ORDER BY due_at, site_id, contact_id, revision LIMIT ?`, due.UnixMilli(), limit)
	if err != nil {
		return nil, wrap(err, "list due contact reports")
	}
	defer rows.Close()
	var out []contacts.PendingReport
	for rows.Next() {
		var r contacts.PendingReport
		var dueMs int64
		var raw []byte
		if err := rows.Scan(&r.SiteID, &r.Revision, &dueMs, &r.Attempts, &raw); err != nil {
			return nil, wrap(err, "scan contact report")
		}
		r.Contact = &contacts.Contact{}
		if err := decode(raw, r.Contact); err != nil {
			return nil, err
		}
		r.DueDate = time.UnixMilli(dueMs).UTC()
		out = append(out, r)
	}
	return out, wrap(rows.Err(), "list due contact reports")
}

// DeleteContactReport removes one revision's pending report; removing an absent one is not an error (a
// concurrent drain got there first). A newer revision's record is another row and stays.
func (s *Store) DeleteContactReport(ctx context.Context, siteID, contactID string, revision int64) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM contact_reports WHERE site_id = ? AND contact_id = ? AND revision = ?`,
		siteID, contactID, revision)
	return wrap(err, "delete contact report")
}

// DeferContactReport stores a failed report's next due date and attempt count. It never recreates a
// record that was removed meanwhile.
func (s *Store) DeferContactReport(ctx context.Context, r contacts.PendingReport) error {
	_, err := s.write.ExecContext(ctx, `UPDATE contact_reports SET due_at = ?, attempts = ?
		WHERE site_id = ? AND contact_id = ? AND revision = ?`, r.DueDate.UnixMilli(), r.Attempts, r.SiteID, r.Contact.ID, r.Revision)
	return wrap(err, "defer contact report")
}
