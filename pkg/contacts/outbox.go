package contacts

import "time"

// PendingReport is a contact revision whose contact_updated report is still owed: the outbox record that
// UpdateContact writes in the same atomic write as the revision, and that is removed once the report is
// made (pkg/contactreport makes it, right after the write or later from the drain).
//
// It keeps the contact as of Revision, because the event is "this revision was written": a later revision
// has a record of its own, and a drain that runs after it must still report this one's fields.
type PendingReport struct {
	SiteID   string
	Contact  *Contact // as written at Revision
	Revision int64
	// DueDate is when the drain may pick the record up: the write time, then pushed back after each failed
	// attempt. Attempts counts those failures.
	DueDate  time.Time
	Attempts int
}
