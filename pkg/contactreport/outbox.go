// Package contactreport reports the system app's contact_updated trigger for every written contact
// revision, at least once, through the outbox that UpdateContact writes in the contact's own atomic write
// (contacts.PendingReport). The API reports right after the write; Drain reports whatever is still pending
// later — after a crash between the two, or a report that failed. Every report of a revision carries the
// same idempotency key, so reporting one twice starts its automations once (engine idempotency).
package contactreport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

// Store is the outbox: the pending reports UpdateContact records.
type Store interface {
	ListDueContactReports(ctx context.Context, due time.Time, limit int) ([]contacts.PendingReport, error)
	DeleteContactReport(ctx context.Context, siteID, contactID string, revision int64) error
	DeferContactReport(ctx context.Context, r contacts.PendingReport) error
}

// Engine reports events.
type Engine interface {
	Report(ctx context.Context, ev engine.Event) ([]string, error)
}

const (
	// DefaultGrace is how old a pending report must be before the drain takes it: the API reports right
	// after the write, and the drain should not race it (racing would be harmless — same idempotency key —
	// but wasted work).
	DefaultGrace = 30 * time.Second
	// DefaultInterval is how often `switchyard serve` drains.
	DefaultInterval = 10 * time.Second
	// DefaultBatch is how many pending reports one drain pass takes.
	DefaultBatch = 100
	// MaxAge is how long a failing report is retried. Past it the idempotency record of an earlier report
	// that succeeded (but whose mark was not cleared) may have expired, and reporting again could start the
	// automations twice; so the report is dropped, with an error logged.
	MaxAge = engine.DefaultIdempotencyTTL - 24*time.Hour
	// Backoff after a failed attempt: baseBackoff doubled per attempt, at most maxBackoff.
	baseBackoff = 10 * time.Second
	maxBackoff  = time.Hour
)

// Outbox makes the reports. Zero Now is time.Now, zero Grace DefaultGrace, nil Log discards.
type Outbox struct {
	Store  Store
	Engine Engine
	Now    func() time.Time
	Grace  time.Duration
	Log    *slog.Logger
}

// IdempotencyKey is the key of revision's report of a contact (its scope is already the site, the system
// app and contact_updated).
func IdempotencyKey(contactID string, revision int64) string {
	return "contact_updated/" + contactID + "/" + strconv.FormatInt(revision, 10)
}

// Event is the contact_updated event of a contact revision.
func Event(siteID string, c *contacts.Contact, revision int64, requestID string) engine.Event {
	return engine.Event{SiteID: siteID, AppID: systemapp.AppID, TriggerKey: systemapp.TriggerContactUpdated,
		Payload: contacts.TriggerPayload(c), ExternalEntityID: c.ID, RequestID: requestID, System: true,
		Idempotency: &engine.Idempotency{Key: IdempotencyKey(c.ID, revision)}}
}

// Report reports the contact_updated event of a revision that UpdateContact just wrote, then clears its
// pending mark. On error the mark stays and Drain reports it later. When nothing can listen (the system
// trigger is not registered, or the system app not installed) there is nothing to start: it answers no
// activations and clears the mark. A mark that fails to clear is only logged: the drain's report of it
// starts nothing again.
func (o *Outbox) Report(ctx context.Context, siteID string, c *contacts.Contact, requestID string) ([]string, error) {
	rev, err := strconv.ParseInt(c.Revision, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("contact %s has revision %q, not a number: %w", c.ID, c.Revision, err)
	}
	ids, err := o.Engine.Report(ctx, Event(siteID, c, rev, requestID))
	if err != nil && !nobodyListens(err) {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	if err := o.Store.DeleteContactReport(ctx, siteID, c.ID, rev); err != nil {
		o.log().WarnContext(ctx, "contact_updated reported, pending mark not cleared (the drain clears it)",
			"site", siteID, "contact", c.ID, "revision", rev, "err", err)
	}
	return ids, nil
}

func nobodyListens(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && (e.Code == "TRIGGER_NOT_FOUND" || e.Code == "APP_NOT_INSTALLED")
}

// Drain reports up to limit pending reports older than the grace period, oldest first, each with its
// revision's idempotency key, and clears them. A report that fails is deferred with a growing backoff; one
// still failing after MaxAge is dropped. It returns how many it reported; the error joins the store errors
// (a report's own failure is logged and retried, not returned).
func (o *Outbox) Drain(ctx context.Context, limit int) (int, error) {
	now := o.now()
	grace := o.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	pending, err := o.Store.ListDueContactReports(ctx, now.Add(-grace), limit)
	if err != nil {
		return 0, fmt.Errorf("list pending contact_updated reports: %w", err)
	}
	n := 0
	var errList []error
	for _, r := range pending {
		if err := ctx.Err(); err != nil {
			return n, errors.Join(append(errList, err)...)
		}
		log := o.log().With("site", r.SiteID, "contact", r.Contact.ID, "revision", r.Revision)
		if age := now.Sub(r.Contact.UpdatedDate); age > MaxAge {
			log.ErrorContext(ctx, "contact_updated report dropped: still failing after the retry window", "age", age, "attempts", r.Attempts)
			if err := o.Store.DeleteContactReport(ctx, r.SiteID, r.Contact.ID, r.Revision); err != nil {
				errList = append(errList, fmt.Errorf("drop contact report: %w", err))
			}
			continue
		}
		if _, err := o.Engine.Report(ctx, Event(r.SiteID, r.Contact, r.Revision, "")); err != nil && !nobodyListens(err) {
			r.Attempts++
			r.DueDate = now.Add(backoff(r.Attempts))
			log.WarnContext(ctx, "pending contact_updated report failed; retrying later", "attempts", r.Attempts, "next", r.DueDate, "err", err)
			if err := o.Store.DeferContactReport(ctx, r); err != nil {
				errList = append(errList, fmt.Errorf("defer contact report: %w", err))
			}
			continue
		}
		if err := o.Store.DeleteContactReport(ctx, r.SiteID, r.Contact.ID, r.Revision); err != nil {
			errList = append(errList, fmt.Errorf("clear contact report: %w", err))
			continue
		}
		n++
	}
	return n, errors.Join(errList...)
}

// Run drains once at once, then every interval until ctx ends (`switchyard serve`'s loop). Errors are
// logged; the next pass retries.
func (o *Outbox) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := o.Drain(ctx, DefaultBatch)
			if err != nil && ctx.Err() == nil {
				o.log().ErrorContext(ctx, "contact_updated drain", "err", err)
			}
			if n < DefaultBatch || err != nil {
				break // a full batch may have more behind it
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func backoff(attempts int) time.Duration {
	d := baseBackoff
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

func (o *Outbox) log() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.New(slog.DiscardHandler)
}
