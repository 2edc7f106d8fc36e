package awsrt_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/awsrt"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

// noUnstarted is the SQLite store with the DynamoDB store's unstarted-branch tracking, empty: this test
// is about the contacts outbox.
type noUnstarted struct{ *sqlite.Store }

func (noUnstarted) ListUnstartedBranches(context.Context, time.Time, int) ([]run.BranchRef, error) {
	return nil, nil
}
func (noUnstarted) ClearUnstarted(context.Context, run.BranchRef) error { return nil }

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestSweepDrainsTheContactsOutbox: a contact written without its contact_updated report (a Lambda that
// died between the two) gets its automations started by the next scheduled sweep once, not twice.
func TestSweepDrainsTheContactsOutbox(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sweep.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := &testClock{t: time.Now().UTC()}
	cfg, err := awsrt.ConfigFromEnv(func(k string) string {
		return map[string]string{"TABLE_NAME": "unused", "ADMIN_KEY_HASH": access.Hash(awse2e.AdminKey), "ALLOWED_PROVIDER_CIDRS": "127.0.0.0/8"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	rt, err := awsrt.New(cfg, awsrt.Deps{Store: noUnstarted{store}, Starter: rec, Now: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	prov := testprovider.Start(t, nil)
	owner, _ := awse2e.SetupSite(t, rt.HTTPHandler(), prov.URL)

	auto := awse2e.Automation("On contact", []string{awse2e.ActionID(1)}, map[string]any{
		awse2e.ActionID(1): awse2e.AppAction("send_sms", map[string]any{"text": `{{var("email")}}`})})
	auto["automation"].(map[string]any)["configuration"].(map[string]any)["trigger"] = map[string]any{
		"appId": systemapp.AppID, "triggerKey": systemapp.TriggerContactUpdated}
	owner.Must("POST", "/v2/automations", auto)
	id := owner.Must("POST", "/v1/contacts", map[string]any{"contact": map[string]any{"email": "ada@example.com"}})["contact"].(map[string]any)["id"].(string)

	// The write and its outbox record, without the report that would follow.
	c, err := store.GetContact(ctx, awse2e.Site, id)
	if err != nil {
		t.Fatal(err)
	}
	c.Email, c.Revision, c.UpdatedDate = "ada@lovelace.example", "2", clock.Now()
	if err := store.UpdateContact(ctx, awse2e.Site, c, 1); err != nil {
		t.Fatal(err)
	}
	started := func() int { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.started) }

	for i, tc := range []struct {
		advance      time.Duration
		wantReported int
		wantStarted  int
	}{
		{0, 0, 0},           // inside the grace period the handler may still be reporting it
		{time.Minute, 1, 1}, // then the sweep reports it
		{time.Minute, 0, 1}, // and never again
	} {
		clock.Advance(tc.advance)
		out, err := rt.SweepHandler(ctx, awsrt.SweepInput{})
		if err != nil || out.ContactReports != tc.wantReported || started() != tc.wantStarted {
			t.Fatalf("sweep %d: %+v, %v; branches started %d — want %d reported, %d started", i, out, err, started(), tc.wantReported, tc.wantStarted)
		}
	}
}
