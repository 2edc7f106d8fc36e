package contactreport_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/contactreport"
	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

const (
	site      = "11111111-1111-4111-8111-111111111111"
	contactID = "c0c7ac70-0000-4000-8000-000000000001"
	autoID    = "a0a0a0a0-0000-4000-8000-000000000001"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// faultyStore is the real SQLite store with switchable failures of the two writes a report depends on.
type faultyStore struct {
	*sqlite.Store
	mu                sync.Mutex
	failCreateOnce    int // CreateActivationsOnce calls left to fail
	failDeleteReports int // DeleteContactReport calls left to fail
}

var errInjected = errors.New("injected store failure")

func (s *faultyStore) take(n *int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *n > 0 {
		*n--
		return true
	}
	return false
}

func (s *faultyStore) CreateActivationsOnce(ctx context.Context, once run.Once, news []run.NewActivation) ([]string, bool, error) {
	if s.take(&s.failCreateOnce) {
		return nil, false, errInjected
	}
	return s.Store.CreateActivationsOnce(ctx, once, news)
}

func (s *faultyStore) DeleteContactReport(ctx context.Context, siteID, id string, rev int64) error {
	if s.take(&s.failDeleteReports) {
		return errInjected
	}
	return s.Store.DeleteContactReport(ctx, siteID, id, rev)
}

type fixture struct {
	t     *testing.T
	store *faultyStore
	now   time.Time
	out   *contactreport.Outbox
}

// newFixture: a SQLite store with the system app registered, one contact and one ACTIVE automation on
// contact_updated; the engine and the outbox run on the fixture's clock.
func newFixture(t *testing.T, register bool) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, store: &faultyStore{Store: st}, now: t0}
	if register {
		if _, err := systemapp.Register(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	var a automation.Automation
	if err := json.Unmarshal([]byte(`{"id":"`+autoID+`","revision":"1","name":"On contact","origin":"USER",
		"configuration":{"status":"ACTIVE","trigger":{"appId":"`+systemapp.AppID+`","triggerKey":"contact_updated"},
		"rootActionIds":["r1"],"actions":{"r1":{"id":"r1","type":"APP_DEFINED","appDefinedInfo":{"appId":"`+systemapp.AppID+`","actionKey":"webhook",
		"inputMapping":{"url":"http://127.0.0.1:1/"}}}}}}`), &a); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAutomation(ctx, site, &a); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateContact(ctx, site, &contacts.Contact{ID: contactID, Revision: "1", Email: "v1@example.com", CreatedDate: t0, UpdatedDate: t0}); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return f.now }
	eng := engine.New(engine.Config{Store: f.store, Now: clock})
	f.out = &contactreport.Outbox{Store: f.store, Engine: eng, Now: clock}
	return f
}

// update writes the next revision at the fixture's time, as the API does before it reports.
func (f *fixture) update(rev int64, email string) *contacts.Contact {
	f.t.Helper()
	c := &contacts.Contact{ID: contactID, Revision: itoa(rev), Email: email, CreatedDate: t0, UpdatedDate: f.now}
	if err := f.store.UpdateContact(context.Background(), site, c, rev-1); err != nil {
		f.t.Fatal(err)
	}
	return c
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// emails lists the reported email of every activation of the site, oldest first (what a user sees in the
// activation logs; activations created in one pass tie on time).
func (f *fixture) emails() []string {
	f.t.Helper()
	acts, _, err := f.store.ListActivations(context.Background(), run.ActivationQuery{SiteID: site,
		From: t0.Add(-time.Hour), To: t0.Add(365 * 24 * time.Hour), Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	out := []string{}
	for i := len(acts) - 1; i >= 0; i-- {
		email, _ := acts[i].Infos.Initiated.Payload["email"].(string)
		out = append(out, email)
	}
	return out
}

func (f *fixture) pending() []contacts.PendingReport {
	f.t.Helper()
	rs, err := f.store.ListDueContactReports(context.Background(), t0.Add(365*24*time.Hour), 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return rs
}

func (f *fixture) drain(want int) {
	f.t.Helper()
	n, err := f.out.Drain(context.Background(), 10)
	if err != nil || n != want {
		f.t.Fatalf("Drain at +%v = %d, %v; want %d reported", f.now.Sub(t0), n, err, want)
	}
}

func TestOutbox(t *testing.T) {
	cases := []struct {
		name string
		run  func(f *fixture)
	}{
		{"report succeeds and clears its mark", func(f *fixture) {
			ids, err := f.out.Report(context.Background(), site, f.update(2, "v2@example.com"), "req-1")
			if err != nil || len(ids) != 1 {
				f.t.Fatalf("Report = %v, %v; want one activation", ids, err)
			}
			if p := f.pending(); len(p) != 0 {
				f.t.Fatalf("pending after a successful report: %d", len(p))
			}
			f.now = f.now.Add(time.Hour)
			f.drain(0)
			if got := f.emails(); !slices.Equal(got, []string{"v2@example.com"}) {
				f.t.Fatalf("activations = %v", got)
			}
		}},
		{"failed report is drained once, after the grace period", func(f *fixture) {
			f.store.failCreateOnce = 1
			if _, err := f.out.Report(context.Background(), site, f.update(2, "v2@example.com"), ""); !errors.Is(err, errInjected) {
				f.t.Fatalf("Report err = %v, want the store failure", err)
			}
			if p := f.pending(); len(p) != 1 || p[0].Revision != 2 {
				f.t.Fatalf("pending after a failed report = %v, want revision 2", p)
			}
			f.now = f.now.Add(contactreport.DefaultGrace - time.Second)
			f.drain(0) // still the handler's
			f.now = f.now.Add(2 * time.Second)
			f.drain(1)
			f.drain(0)
			if got := f.emails(); !slices.Equal(got, []string{"v2@example.com"}) {
				f.t.Fatalf("activations = %v, want one for revision 2", got)
			}
		}},
		{"crash after the write: the drain reports every revision with its own fields", func(f *fixture) {
			f.update(2, "v2@example.com") // never reported
			f.now = f.now.Add(time.Second)
			f.update(3, "v3@example.com")
			f.now = f.now.Add(time.Minute)
			f.drain(2)
			if got := f.emails(); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"v2@example.com", "v3@example.com"}) {
				f.t.Fatalf("activations = %v, want one each for revisions 2 and 3", got)
			}
		}},
		{"reported but the mark not cleared: the drain starts nothing again", func(f *fixture) {
			f.store.failDeleteReports = 1
			ids, err := f.out.Report(context.Background(), site, f.update(2, "v2@example.com"), "")
			if err != nil || len(ids) != 1 {
				f.t.Fatalf("Report = %v, %v; want its activation despite the failed clear", ids, err)
			}
			f.now = f.now.Add(time.Minute)
			f.drain(1)
			if got := f.emails(); !slices.Equal(got, []string{"v2@example.com"}) || len(f.pending()) != 0 {
				f.t.Fatalf("activations = %v, pending %d; want one activation, nothing pending", got, len(f.pending()))
			}
		}},
		{"a failing drain backs off, then succeeds", func(f *fixture) {
			f.update(2, "v2@example.com")
			f.store.failCreateOnce = 2
			f.now = f.now.Add(time.Minute)
			f.drain(0) // attempt 1 fails: due again in 10 s (+ grace)
			if p := f.pending(); len(p) != 1 || p[0].Attempts != 1 || !p[0].DueDate.Equal(f.now.Add(10*time.Second)) {
				f.t.Fatalf("after one failure: %+v", p)
			}
			f.drain(0) // not due
			f.now = f.now.Add(10*time.Second + contactreport.DefaultGrace)
			f.drain(0) // attempt 2 fails: 20 s
			if p := f.pending(); len(p) != 1 || p[0].Attempts != 2 || !p[0].DueDate.Equal(f.now.Add(20*time.Second)) {
				f.t.Fatalf("after two failures: %+v", p)
			}
			f.now = f.now.Add(20*time.Second + contactreport.DefaultGrace)
			f.drain(1)
			if got := f.emails(); !slices.Equal(got, []string{"v2@example.com"}) {
				f.t.Fatalf("activations = %v", got)
			}
		}},
		{"a report still pending past the retry window is dropped", func(f *fixture) {
			f.update(2, "v2@example.com")
			f.now = f.now.Add(contactreport.MaxAge + time.Minute)
			f.drain(0)
			if got := f.emails(); len(got) != 0 || len(f.pending()) != 0 {
				f.t.Fatalf("activations = %v, pending %d; want none of either", got, len(f.pending()))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(newFixture(t, true)) })
	}
}

// TestNobodyListens: without the system trigger nothing can run; the report and the drain clear the mark.
func TestNobodyListens(t *testing.T) {
	f := newFixture(t, false)
	ids, err := f.out.Report(context.Background(), site, f.update(2, "v2@example.com"), "")
	if err != nil || ids == nil || len(ids) != 0 || len(f.pending()) != 0 {
		t.Fatalf("Report = %v, %v, pending %d; want [] and nothing pending", ids, err, len(f.pending()))
	}
	f.update(3, "v3@example.com")
	f.now = f.now.Add(time.Minute)
	f.drain(1)
	if len(f.pending()) != 0 {
		t.Fatal("the drain left the mark")
	}
}
