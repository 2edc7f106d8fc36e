package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

// TestContactReportSurvivesCrash: a contact update whose process died between the write and the
// contact_updated report — the contact saved with its pending mark, nothing reported — runs its automation
// once the server starts again (the start-up drain), and only once however often the server restarts.
func TestContactReportSurvivesCrash(t *testing.T) {
	prov := testprovider.Start(t, nil)
	data := t.TempDir()
	env := map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey}
	base, stop := startStoppableServer(t, data, env)
	owner, contactID, autoID := contactSetup(t, base, prov, map[string]any{"to": "{{email}}", "first": "{{contact.name.first}}"})
	stop()

	// What a crash right after UpdateContact leaves: the new revision and its pending mark, no report.
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(data, "switchyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := store.GetContact(ctx, testSite, contactID)
	if err != nil {
		t.Fatal(err)
	}
	next := *c
	next.Revision, next.Email, next.UpdatedDate = "2", "ada@lovelace.org", time.Now().UTC().Add(-time.Minute)
	if err := store.UpdateContact(ctx, testSite, &next, 1); err != nil {
		t.Fatal(err)
	}
	store.Close()

	for restart := 1; restart <= 2; restart++ {
		base, stop := startStoppableServer(t, data, env)
		owner.base = base
		id := onlyActivation(t, owner, autoID) // fails on a second activation
		if log := owner.waitStatus(id, 10*time.Second); log["status"] != "ENDED" {
			t.Fatalf("restart %d: activation log = %v", restart, log)
		}
		stop()
	}
	calls := prov.CallsFor("send_email")
	if len(calls) != 1 {
		t.Fatalf("send_email called %d times, want once", len(calls))
	}
	got, _ := json.Marshal(calls[0].ActionParams)
	if want := `{"first":"Ada","to":"ada@lovelace.org"}`; string(got) != want {
		t.Fatalf("provider received %s, want %s (revision 2's fields)", got, want)
	}
}
