package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// autoID is the n-th automation id of these tests.
func autoID(n int) string { return fmt.Sprintf("c0c0c0c0-0000-4000-8000-%012d", n) }

// clone deep-copies an automation (through its JSON form, the form the stores keep).
func clone(t *testing.T, a *automation.Automation) *automation.Automation {
	t.Helper()
	b, err := json.Marshal(a)
	must(t, err)
	var out automation.Automation
	must(t, json.Unmarshal(b, &out))
	return &out
}

// revised returns the next revision of a, as the API builds it: revision + 1, a later updatedDate, and
// whatever change edit makes.
func revised(t *testing.T, a *automation.Automation, edit func(*automation.Automation)) *automation.Automation {
	t.Helper()
	next := clone(t, a)
	n, err := strconv.ParseInt(a.Revision, 10, 64)
	must(t, err)
	next.Revision = strconv.FormatInt(n+1, 10)
	updated := a.UpdatedDate.Add(time.Minute)
	next.UpdatedDate = &updated
	if edit != nil {
		edit(next)
	}
	return next
}

// wantAutomation fails unless the site's automation id is want.
func wantAutomation(t *testing.T, s Store, what, site string, want *automation.Automation) {
	t.Helper()
	got, err := s.GetAutomation(ctx(t), site, want.ID)
	if err != nil {
		t.Errorf("%s: GetAutomation: %v", what, err)
		return
	}
	sameJSON(t, what, got, want)
}

// wantRevision fails unless revision rev of the site's automation id is want (nil: not found).
func wantRevision(t *testing.T, s Store, what, site, id string, rev int64, want *automation.Automation) {
	t.Helper()
	got, err := s.GetAutomationRevision(ctx(t), site, id, rev)
	if want == nil {
		wantErr(t, fmt.Sprintf("%s: GetAutomationRevision(%d)", what, rev), err, errs.ErrNotFound)
		return
	}
	if err != nil {
		t.Errorf("%s: GetAutomationRevision(%d): %v", what, rev, err)
		return
	}
	sameJSON(t, fmt.Sprintf("%s: revision %d", what, rev), got, want)
}

// triggerIDs lists the ids ListTriggerAutomations returns, sorted.
func triggerIDs(t *testing.T, s Store, site, app, trigger string) []string {
	t.Helper()
	list, err := s.ListTriggerAutomations(ctx(t), site, app, trigger)
	must(t, err)
	var ids []string
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids
}

// testAutomationUpdate: an update at the expected revision replaces the automation and records the new
// revision beside the old one; a stale revision is a conflict, another site's or an unknown id is not
// found, and neither changes anything.
func testAutomationUpdate(t *testing.T, s Store) {
	c := ctx(t)
	v1 := newAutomation(autoID(1), appA, "form_submitted")
	must(t, s.CreateAutomation(c, siteA, v1))
	wantRevision(t, s, "after create", siteA, v1.ID, 1, v1)

	v2 := revised(t, v1, func(a *automation.Automation) {
		a.Name = "renamed"
		a.Configuration.Actions["wait"].DelayInfo.OffsetTimeUnit = "HOURS"
	})
	must(t, s.UpdateAutomation(c, siteA, v2, 1))
	wantAutomation(t, s, "after update", siteA, v2)
	wantRevision(t, s, "after update", siteA, v1.ID, 1, v1)
	wantRevision(t, s, "after update", siteA, v1.ID, 2, v2)
	wantRevision(t, s, "after update", siteA, v1.ID, 3, nil)

	// Stale: the caller read revision 1, which is no longer current.
	stale := revised(t, v1, func(a *automation.Automation) { a.Name = "stale" })
	wantErr(t, "UpdateAutomation at a stale revision", s.UpdateAutomation(c, siteA, stale, 1), errs.ErrConflict)
	ahead := revised(t, v2, func(a *automation.Automation) { a.Name = "ahead" })
	ahead.Revision = "4"
	wantErr(t, "UpdateAutomation at a revision not reached yet", s.UpdateAutomation(c, siteA, ahead, 3), errs.ErrConflict)
	wantAutomation(t, s, "after refused updates", siteA, v2)
	wantRevision(t, s, "after refused updates", siteA, v1.ID, 2, v2)
	wantRevision(t, s, "after refused updates", siteA, v1.ID, 4, nil)

	// Another site: not found, even at the right revision, and nothing is created there.
	other := revised(t, v2, func(a *automation.Automation) { a.Name = "other site" })
	wantErr(t, "UpdateAutomation of site A's automation on site B", s.UpdateAutomation(c, siteB, other, 2), errs.ErrNotFound)
	_, err := s.GetAutomation(c, siteB, v1.ID)
	wantErr(t, "GetAutomation on site B after its refused update", err, errs.ErrNotFound)
	wantRevision(t, s, "site B", siteB, v1.ID, 3, nil)
	wantRevision(t, s, "site B", siteB, v1.ID, 1, nil)
	wantAutomation(t, s, "after another site's update", siteA, v2)

	unknown := newAutomation(autoID(2), appA, "form_submitted")
	unknown.Revision = "2"
	wantErr(t, "UpdateAutomation of an unknown id", s.UpdateAutomation(c, siteA, unknown, 1), errs.ErrNotFound)
	_, err = s.GetAutomation(c, siteA, unknown.ID)
	wantErr(t, "GetAutomation after updating an unknown id", err, errs.ErrNotFound)

	// And it goes on: revision 3 from 2.
	v3 := revised(t, v2, func(a *automation.Automation) { a.Description = nil })
	must(t, s.UpdateAutomation(c, siteA, v3, 2))
	wantAutomation(t, s, "after a second update", siteA, v3)
	for rev, want := range map[int64]*automation.Automation{1: v1, 2: v2, 3: v3} {
		wantRevision(t, s, "after a second update", siteA, v1.ID, rev, want)
	}
}

// testAutomationUpdateIndex: the trigger index follows the current document: deactivating drops an
// automation from ListTriggerAutomations, reactivating brings it back, a new trigger moves it, and a
// refused update moves nothing.
func testAutomationUpdateIndex(t *testing.T, s Store) {
	c := ctx(t)
	const trig1, trig2 = "form_submitted", "order_paid"
	a := newAutomation(autoID(1), appA, trig1)
	must(t, s.CreateAutomation(c, siteA, a))
	bystander := newAutomation(autoID(2), appA, trig1)
	must(t, s.CreateAutomation(c, siteA, bystander))
	check := func(what string, want1, want2 []string) {
		t.Helper()
		if got := triggerIDs(t, s, siteA, appA, trig1); !slices.Equal(got, want1) {
			t.Errorf("%s: automations on %s = %v, want %v", what, trig1, got, want1)
		}
		if got := triggerIDs(t, s, siteA, appA, trig2); !slices.Equal(got, want2) {
			t.Errorf("%s: automations on %s = %v, want %v", what, trig2, got, want2)
		}
	}
	check("created", []string{a.ID, bystander.ID}, nil)

	a = revised(t, a, func(a *automation.Automation) { a.Configuration.Status = automation.StatusInactive })
	must(t, s.UpdateAutomation(c, siteA, a, 1))
	check("deactivated", []string{bystander.ID}, nil)

	a = revised(t, a, func(a *automation.Automation) { a.Configuration.Status = automation.StatusActive })
	must(t, s.UpdateAutomation(c, siteA, a, 2))
	check("reactivated", []string{a.ID, bystander.ID}, nil)
	list, err := s.ListTriggerAutomations(c, siteA, appA, trig1)
	must(t, err)
	for _, got := range list {
		if got.ID == a.ID {
			sameJSON(t, "matched automation after reactivation", got, a)
		}
	}

	a = revised(t, a, func(a *automation.Automation) { a.Configuration.Trigger.TriggerKey = trig2 })
	must(t, s.UpdateAutomation(c, siteA, a, 3))
	check("trigger changed", []string{bystander.ID}, []string{a.ID})

	// A draft is not runnable either.
	orig := bystander.ID
	a = revised(t, a, func(a *automation.Automation) { a.DraftInfo = &automation.DraftInfo{OriginalAutomationID: &orig} })
	must(t, s.UpdateAutomation(c, siteA, a, 4))
	check("made a draft", []string{bystander.ID}, nil)

	// A refused update (stale revision) changes no index entry.
	back := revised(t, a, func(a *automation.Automation) {
		a.DraftInfo = nil
		a.Configuration.Trigger.TriggerKey = trig1
	})
	wantErr(t, "stale update", s.UpdateAutomation(c, siteA, back, 4), errs.ErrConflict)
	check("after a refused update", []string{bystander.ID}, nil)
	must(t, s.UpdateAutomation(c, siteA, back, 5))
	check("back on the first trigger", []string{a.ID, bystander.ID}, nil)
}

// testAutomationDelete: deleting removes the automation and its history from every read, only on its own
// site; a later automation of the same id starts a fresh history.
func testAutomationDelete(t *testing.T, s Store) {
	c := ctx(t)
	const trig = "form_submitted"
	v1 := newAutomation(autoID(1), appA, trig)
	must(t, s.CreateAutomation(c, siteA, v1))
	v2 := revised(t, v1, nil)
	must(t, s.UpdateAutomation(c, siteA, v2, 1))
	v3 := revised(t, v2, func(a *automation.Automation) { a.Name = "third" })
	must(t, s.UpdateAutomation(c, siteA, v3, 2))
	keep := newAutomation(autoID(2), appA, trig) // site A's other automation
	must(t, s.CreateAutomation(c, siteA, keep))
	twin := newAutomation(v1.ID, appA, trig) // site B's automation of the same id
	twin.Name = "site B's twin"
	must(t, s.CreateAutomation(c, siteB, twin))
	onlyA := newAutomation(autoID(3), appA, trig)
	must(t, s.CreateAutomation(c, siteA, onlyA))

	// Another site's delete finds nothing and deletes nothing.
	wantErr(t, "DeleteAutomation of site A's automation on site B", s.DeleteAutomation(c, siteB, onlyA.ID), errs.ErrNotFound)
	wantAutomation(t, s, "after another site's delete", siteA, onlyA)
	wantRevision(t, s, "after another site's delete", siteA, onlyA.ID, 1, onlyA)
	wantErr(t, "DeleteAutomation of an unknown id", s.DeleteAutomation(c, siteA, autoID(9)), errs.ErrNotFound)

	must(t, s.DeleteAutomation(c, siteA, v1.ID))
	_, err := s.GetAutomation(c, siteA, v1.ID)
	wantErr(t, "GetAutomation after delete", err, errs.ErrNotFound)
	for rev := int64(1); rev <= 3; rev++ {
		wantRevision(t, s, "after delete", siteA, v1.ID, rev, nil)
	}
	if got := triggerIDs(t, s, siteA, appA, trig); !slices.Equal(got, []string{keep.ID, onlyA.ID}) {
		t.Errorf("after delete: ListTriggerAutomations = %v, want %v", got, []string{keep.ID, onlyA.ID})
	}
	q, err := wql.Parse(json.RawMessage(`{}`), wql.AutomationSchema())
	must(t, err)
	page, next, err := s.QueryAutomations(c, automation.SiteView(siteA), q)
	must(t, err)
	if ids := idsOf(page); !slices.Equal(ids, []string{keep.ID, onlyA.ID}) || next != "" {
		t.Errorf("after delete: QueryAutomations = %v, next %q; want %v, \"\"", ids, next, []string{keep.ID, onlyA.ID})
	}
	wantErr(t, "DeleteAutomation again", s.DeleteAutomation(c, siteA, v1.ID), errs.ErrNotFound)

	// Site B's automation of the same id, with its history, is untouched.
	wantAutomation(t, s, "site B's twin", siteB, twin)
	wantRevision(t, s, "site B's twin", siteB, twin.ID, 1, twin)
	if got := triggerIDs(t, s, siteB, appA, trig); !slices.Equal(got, []string{twin.ID}) {
		t.Errorf("site B's ListTriggerAutomations = %v, want [%s]", got, twin.ID)
	}

	// The id can be taken again, with no history left over.
	again := newAutomation(v1.ID, appA, trig)
	again.Name = "born again"
	must(t, s.CreateAutomation(c, siteA, again))
	wantAutomation(t, s, "re-created", siteA, again)
	wantRevision(t, s, "re-created", siteA, again.ID, 1, again)
	wantRevision(t, s, "re-created", siteA, again.ID, 2, nil)
	wantRevision(t, s, "re-created", siteA, again.ID, 3, nil)
}

func idsOf(list []*automation.Automation) []string {
	ids := make([]string, 0, len(list))
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	return ids
}

// testQueryAutomations: QueryAutomations filters, sorts and pages one site's automations, never another
// site's, and a cursor followed to its end returns every match exactly once, in order.
func testQueryAutomations(t *testing.T, s Store) {
	c := ctx(t)
	// Site A: 13 automations whose names are not in id order; 4 are INACTIVE, 2 are not named "auto-".
	want := map[string]*automation.Automation{}
	for i := 1; i <= 13; i++ {
		a := newAutomation(autoID(i), appA, "form_submitted")
		a.Name = fmt.Sprintf("auto-%02d", (i*5)%13)
		if i == 4 || i == 9 {
			a.Name = fmt.Sprintf("beta-%02d", i)
		}
		if i%3 == 0 {
			a.Configuration.Status = automation.StatusInactive
		}
		created := t0.Add(time.Duration(i) * time.Hour)
		a.CreatedDate, a.UpdatedDate = &created, &created
		must(t, s.CreateAutomation(c, siteA, a))
		want[a.ID] = a
	}
	// One of them updated: queries see the current revision only.
	upd := revised(t, want[autoID(5)], func(a *automation.Automation) { a.Name = "auto-99" })
	must(t, s.UpdateAutomation(c, siteA, upd, 1))
	want[upd.ID] = upd
	// Site B: automations that match every query below, one of them with a site A id.
	for i, id := range []string{autoID(1), autoID(21), autoID(22)} {
		b := newAutomation(id, appA, "form_submitted")
		b.Name = fmt.Sprintf("auto-b%d", i)
		must(t, s.CreateAutomation(c, siteB, b))
	}
	// Another record of site A that is not an automation.
	_, err := s.PutInstallation(c, &catalog.Installation{SiteID: siteA, AppID: appA, CreatedDate: t0})
	must(t, err)

	byName := func(desc bool) []string {
		ids := make([]string, 0, len(want))
		for id := range want {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(x, y string) int {
			if c := strings.Compare(want[x].Name, want[y].Name); c != 0 {
				if desc {
					return -c
				}
				return c
			}
			return strings.Compare(x, y)
		})
		return ids
	}
	allIDs := make([]string, 0, len(want))
	for id := range want {
		allIDs = append(allIDs, id)
	}
	slices.Sort(allIDs)

	parse := func(t *testing.T, raw string) *wql.Query {
		t.Helper()
		q, err := wql.Parse(json.RawMessage(raw), wql.AutomationSchema())
		must(t, err)
		return q
	}
	// all follows next from the first page to the last, checking each page's size and documents.
	all := func(t *testing.T, site, raw string, limit int) []string {
		t.Helper()
		var ids []string
		q := parse(t, raw)
		for pages := 1; ; pages++ {
			page, next, err := s.QueryAutomations(ctx(t), automation.SiteView(site), q)
			must(t, err)
			if len(page) > limit || (next != "" && len(page) != limit) {
				t.Errorf("page %d has %d automations (next %q), limit %d", pages, len(page), next, limit)
			}
			for _, a := range page {
				ids = append(ids, a.ID)
				if w, ok := want[a.ID]; ok && site == siteA {
					sameJSON(t, "queried automation", a, w)
				}
			}
			if next == "" {
				return ids
			}
			if pages > 20 {
				t.Fatalf("still a next page after %d pages: %v", pages, ids)
			}
			q = parse(t, fmt.Sprintf(`{"cursorPaging":{"cursor":%q}}`, next))
		}
	}

	for _, tc := range []struct {
		name  string
		query string
		limit int
		want  []string
	}{
		{"paging by id", `{"cursorPaging":{"limit":5}}`, 5, allIDs},
		{"paging by name ASC", `{"sort":[{"fieldName":"name","order":"ASC"}],"cursorPaging":{"limit":5}}`, 5, byName(false)},
		{"paging by name DESC", `{"sort":[{"fieldName":"name","order":"DESC"}],"cursorPaging":{"limit":5}}`, 5, byName(true)},
		{"one page by name DESC", `{"sort":[{"fieldName":"name","order":"DESC"}]}`, 50, byName(true)},
		{"status and name prefix", `{"filter":{"configuration.status":"ACTIVE","name":{"$startsWith":"auto-"}},
			"sort":[{"fieldName":"name","order":"ASC"}],"cursorPaging":{"limit":3}}`, 3,
			slices.DeleteFunc(byName(false), func(id string) bool {
				return want[id].Configuration.Status != automation.StatusActive || !strings.HasPrefix(want[id].Name, "auto-")
			})},
		{"inactive by name DESC", `{"filter":{"configuration.status":{"$eq":"INACTIVE"}},
			"sort":[{"fieldName":"name","order":"DESC"}]}`, 50,
			slices.DeleteFunc(byName(true), func(id string) bool { return want[id].Configuration.Status != automation.StatusInactive })},
		// updatedDate has no column in SQLite: its store evaluates such a query over the documents.
		{"updatedDate range, paging DESC", `{"filter":{"updatedDate":{"$gte":"2026-02-01T15:00:00Z"}},
			"sort":[{"fieldName":"updatedDate","order":"DESC"}],"cursorPaging":{"limit":5}}`, 5,
			[]string{autoID(13), autoID(12), autoID(11), autoID(10), autoID(9), autoID(8), autoID(7), autoID(6)}},
		{"renamed automation", `{"filter":{"name":"auto-99"}}`, 50, []string{upd.ID}},
		{"no match", `{"filter":{"name":{"$startsWith":"nothing"}},"cursorPaging":{"limit":5}}`, 5, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := all(t, siteA, tc.query, tc.limit)
			if len(got) == 0 {
				got = []string{}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("QueryAutomations(%s)\n got %v\nwant %v", tc.query, got, tc.want)
			}
		})
	}

	t.Run("tenant isolation", func(t *testing.T) {
		got := all(t, siteB, `{"sort":[{"fieldName":"name","order":"ASC"}],"cursorPaging":{"limit":2}}`, 2)
		if w := []string{autoID(1), autoID(21), autoID(22)}; !slices.Equal(got, w) {
			t.Errorf("site B's automations = %v, want %v", got, w)
		}
		page, next, err := s.QueryAutomations(ctx(t), automation.SiteView(siteB), parse(t, `{"filter":{"name":{"$startsWith":"auto-b"}}}`))
		must(t, err)
		for _, a := range page {
			if !strings.HasPrefix(a.Name, "auto-b") {
				t.Errorf("site B's query returned %s %q", a.ID, a.Name)
			}
		}
		if len(page) != 3 || next != "" {
			t.Errorf("site B's query = %d automations, next %q; want 3, \"\"", len(page), next)
		}
		page, next, err = s.QueryAutomations(ctx(t), automation.SiteView("33333333-3333-4333-8333-333333333333"), parse(t, `{}`))
		must(t, err)
		if len(page) != 0 || next != "" {
			t.Errorf("a site without automations: %d automations, next %q; want none", len(page), next)
		}
		// A cursor issued on site A, replayed on site B, still reads only site B.
		_, next, err = s.QueryAutomations(ctx(t), automation.SiteView(siteA), parse(t, `{"cursorPaging":{"limit":1}}`))
		must(t, err)
		page, _, err = s.QueryAutomations(ctx(t), automation.SiteView(siteB), parse(t, fmt.Sprintf(`{"cursorPaging":{"cursor":%q}}`, next)))
		must(t, err)
		for _, a := range page {
			if !strings.HasPrefix(a.Name, "auto-b") {
				t.Errorf("site A's cursor on site B returned %s %q", a.ID, a.Name)
			}
		}
	})
}

// testConcurrentAutomationUpdates: eight updates from the same revision at the same moment: exactly one
// wins, the others get errs.ErrConflict, and the recorded revision is the winner's.
func testConcurrentAutomationUpdates(t *testing.T, s Store) {
	v1 := newAutomation(autoID(1), appA, "form_submitted")
	must(t, s.CreateAutomation(ctx(t), siteA, v1))
	edits := make([]*automation.Automation, workers)
	for i := range edits {
		edits[i] = revised(t, v1, func(a *automation.Automation) { a.Name = fmt.Sprintf("worker %d", i) })
	}
	errList := parallel(func(i int) error { return s.UpdateAutomation(ctx(t), siteA, edits[i], 1) })
	winner := -1
	for i, err := range errList {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("workers %d and %d both updated revision 1", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, errs.ErrConflict):
			t.Errorf("worker %d: err = %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no update won")
	}
	wantAutomation(t, s, "after concurrent updates", siteA, edits[winner])
	wantRevision(t, s, "after concurrent updates", siteA, v1.ID, 2, edits[winner])
	wantRevision(t, s, "after concurrent updates", siteA, v1.ID, 1, v1)
}

// testDeleteWhileUpdating: updates keep landing while the automation is deleted. The delete succeeds,
// every update after it is not found, and no revision of the automation survives it.
func testDeleteWhileUpdating(t *testing.T, s Store) {
	v1 := newAutomation(autoID(1), appA, "form_submitted")
	must(t, s.CreateAutomation(ctx(t), siteA, v1))
	const updaters = 4
	var mu sync.Mutex
	maxRev := int64(1)
	errList := parallel(func(i int) error {
		if i >= updaters+1 {
			return nil
		}
		if i == updaters { // the deleter, once a few updates have landed
			for {
				cur, err := s.GetAutomation(ctx(t), siteA, v1.ID)
				if err != nil {
					return err
				}
				if n, _ := strconv.ParseInt(cur.Revision, 10, 64); n >= 5 {
					return s.DeleteAutomation(ctx(t), siteA, v1.ID)
				}
				time.Sleep(time.Millisecond)
			}
		}
		for n := 0; n < 200; n++ {
			cur, err := s.GetAutomation(ctx(t), siteA, v1.ID)
			if errors.Is(err, errs.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			next := revised(t, cur, func(a *automation.Automation) { a.Name = fmt.Sprintf("updater %d", i) })
			rev, _ := strconv.ParseInt(cur.Revision, 10, 64)
			err = s.UpdateAutomation(ctx(t), siteA, next, rev)
			switch {
			case errors.Is(err, errs.ErrNotFound):
				return nil
			case err == nil:
				mu.Lock()
				maxRev = max(maxRev, rev+1)
				mu.Unlock()
			case !errors.Is(err, errs.ErrConflict):
				return err
			}
		}
		return fmt.Errorf("updater %d: the automation was not deleted after 200 updates", i)
	})
	for i, err := range errList {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	_, err := s.GetAutomation(ctx(t), siteA, v1.ID)
	wantErr(t, "GetAutomation after delete", err, errs.ErrNotFound)
	for rev := int64(1); rev <= maxRev+1; rev++ {
		wantRevision(t, s, "after delete", siteA, v1.ID, rev, nil)
	}
	if maxRev < 5 {
		t.Errorf("only %d revisions before the delete", maxRev)
	}
}

// testConcurrentDeletes: eight deletes of one automation at the same moment: exactly one succeeds, the
// others are not found.
func testConcurrentDeletes(t *testing.T, s Store) {
	a := newAutomation(autoID(1), appA, "form_submitted")
	must(t, s.CreateAutomation(ctx(t), siteA, a))
	errList := parallel(func(int) error { return s.DeleteAutomation(ctx(t), siteA, a.ID) })
	won := 0
	for i, err := range errList {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errs.ErrNotFound):
			t.Errorf("worker %d: err = %v, want nil or ErrNotFound", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d deletes succeeded, want exactly 1", won)
	}
	_, err := s.GetAutomation(ctx(t), siteA, a.ID)
	wantErr(t, "GetAutomation after concurrent deletes", err, errs.ErrNotFound)
	wantRevision(t, s, "after concurrent deletes", siteA, a.ID, 1, nil)
}

// testDrafts: a draft is stored like any automation but never queried, only listed by ListDrafts — and
// only on its own site.
func testDrafts(t *testing.T, s Store) {
	live := newAutomation("d0000000-0000-4000-8000-000000000001", appA, "t")
	must(t, s.CreateAutomation(ctx(t), siteA, live))
	draft := newAutomation("d0000000-0000-4000-8000-000000000002", appA, "t")
	orig := live.ID
	draft.DraftInfo = &automation.DraftInfo{OriginalAutomationID: &orig}
	must(t, s.CreateAutomation(ctx(t), siteA, draft))
	q, err := wql.Parse(json.RawMessage(`{}`), wql.AutomationSchema())
	must(t, err)
	page, _, err := s.QueryAutomations(ctx(t), automation.SiteView(siteA), q)
	must(t, err)
	if len(page) != 1 || page[0].ID != live.ID {
		t.Fatalf("query returned %d automations, want only the live one", len(page))
	}
	drafts, err := s.ListDrafts(ctx(t), siteA)
	must(t, err)
	if len(drafts) != 1 || drafts[0].ID != draft.ID || *drafts[0].DraftInfo.OriginalAutomationID != orig {
		t.Fatalf("drafts = %+v", drafts)
	}
	if other, err := s.ListDrafts(ctx(t), siteB); err != nil || len(other) != 0 {
		t.Fatalf("site B drafts = %v, %v", other, err)
	}
	if got, err := s.ListTriggerAutomations(ctx(t), siteA, appA, "t"); err != nil || len(got) != 1 || got[0].ID != live.ID {
		t.Fatalf("a draft matched events: %v %v", got, err)
	}
}
