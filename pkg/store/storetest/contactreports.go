package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

var contactReportTests = []test{
	{"ContactReportOutbox", testContactReportOutbox},
	{"ContactReportOrderAndLimit", testContactReportOrderAndLimit},
	{"ContactReportDefer", testContactReportDefer},
}

// updateContactAt writes the next revision of a stored contact with a new email at time t.
func updateContactAt(t *testing.T, s Store, site string, c *contacts.Contact, email string, when time.Time) *contacts.Contact {
	t.Helper()
	next := *c
	var cur int64
	fmt.Sscan(c.Revision, &cur)
	next.Revision, next.Email, next.UpdatedDate = fmt.Sprint(cur+1), email, when
	must(t, s.UpdateContact(ctx(t), site, &next, cur))
	return &next
}

// reportKeys names pending reports as "<site>/<contact>@<revision>:<email>" for comparisons.
func reportKeys(rs []contacts.PendingReport) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s/%s@%d:%s", r.SiteID[:1], r.Contact.ID[len(r.Contact.ID)-2:], r.Revision, r.Contact.Email))
	}
	return out
}

func listDue(t *testing.T, s Store, due time.Time, limit int) []string {
	t.Helper()
	rs, err := s.ListDueContactReports(ctx(t), due, limit)
	must(t, err)
	return reportKeys(rs)
}

// testContactReportOutbox: every successful UpdateContact leaves its revision's report pending, with the
// contact as written then; a refused update or a create leaves none; deleting one revision's report keeps
// a newer one; QueryContacts never sees the reports.
func testContactReportOutbox(t *testing.T, s Store) {
	c := newContact(1, "ada@example.com", "Ada")
	must(t, s.CreateContact(ctx(t), siteA, c))
	if got := listDue(t, s, at(10_000), 10); len(got) != 0 {
		t.Fatalf("after CreateContact, pending reports = %v, want none (only updates report)", got)
	}
	v2 := updateContactAt(t, s, siteA, c, "v2@example.com", at(60))
	stale := *c
	stale.Revision, stale.Email = "2", "stale@example.com"
	wantErr(t, "stale update", s.UpdateContact(ctx(t), siteA, &stale, 1), errs.ErrConflict)
	wantErr(t, "update on another site", s.UpdateContact(ctx(t), siteB, &stale, 1), errs.ErrNotFound)

	if got := listDue(t, s, at(59), 10); len(got) != 0 {
		t.Errorf("due before the write: %v, want none", got)
	}
	rs, err := s.ListDueContactReports(ctx(t), at(60), 10)
	must(t, err)
	if len(rs) != 1 {
		t.Fatalf("due at the write: %v, want revision 2 only", reportKeys(rs))
	}
	if rs[0].SiteID != siteA || rs[0].Revision != 2 || rs[0].Attempts != 0 || !rs[0].DueDate.Equal(at(60)) {
		t.Errorf("pending report = site %s revision %d attempts %d due %v", rs[0].SiteID, rs[0].Revision, rs[0].Attempts, rs[0].DueDate)
	}
	sameJSON(t, "the report's contact", rs[0].Contact, v2)

	v3 := updateContactAt(t, s, siteA, v2, "v3@example.com", at(61))
	want := []string{"1/01@2:v2@example.com", "1/01@3:v3@example.com"}
	if got := listDue(t, s, at(100), 10); !slices.Equal(got, want) {
		t.Fatalf("after a second update: %v, want %v (each revision keeps its own report and fields)", got, want)
	}
	ids, _ := queryContactIDs(t, s, siteA, `{}`)
	if !slices.Equal(ids, []string{c.ID}) {
		t.Errorf("QueryContacts = %v, want only the contact (reports are not contacts)", ids)
	}

	must(t, s.DeleteContactReport(ctx(t), siteA, c.ID, 2))
	must(t, s.DeleteContactReport(ctx(t), siteA, c.ID, 2)) // twice: a concurrent drain may have removed it
	must(t, s.DeleteContactReport(ctx(t), siteB, c.ID, 3)) // another site's key removes nothing
	if got := listDue(t, s, at(100), 10); !slices.Equal(got, want[1:]) {
		t.Errorf("after clearing revision 2: %v, want %v (a newer revision's report stays)", got, want[1:])
	}
	got, err := s.GetContact(ctx(t), siteA, c.ID)
	must(t, err)
	sameJSON(t, "contact after clearing", got, v3)
}

// testContactReportOrderAndLimit: reports of every site come oldest due first, at most limit of them.
func testContactReportOrderAndLimit(t *testing.T, s Store) {
	// Written out of due order, over two sites and several contacts (which spread over index shards).
	order := []struct {
		site string
		n    int
		sec  int
	}{{siteB, 3, 50}, {siteA, 1, 20}, {siteA, 2, 40}, {siteB, 4, 10}, {siteA, 5, 30}, {siteA, 6, 60}}
	for _, o := range order {
		c := newContact(o.n, "", "")
		must(t, s.CreateContact(ctx(t), o.site, c))
		updateContactAt(t, s, o.site, c, fmt.Sprintf("n%d@example.com", o.n), at(o.sec))
	}
	all := []string{"2/04@2:n4@example.com", "1/01@2:n1@example.com", "1/05@2:n5@example.com",
		"1/02@2:n2@example.com", "2/03@2:n3@example.com", "1/06@2:n6@example.com"}
	cases := []struct {
		name  string
		due   time.Time
		limit int
		want  []string
	}{
		{"all", at(1000), 100, all},
		{"limit", at(1000), 3, all[:3]},
		{"due bound inclusive", at(40), 100, all[:4]},
		{"nothing due", at(9), 100, nil},
		{"zero limit", at(1000), 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := listDue(t, s, tc.due, tc.limit)
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("ListDueContactReports(%v, %d) = %v, want %v", tc.due.Format(time.TimeOnly), tc.limit, got, tc.want)
			}
		})
	}
}

// testContactReportDefer: a deferred report is due later with its attempt count; deferring one that was
// removed meanwhile does not bring it back.
func testContactReportDefer(t *testing.T, s Store) {
	c := newContact(1, "ada@example.com", "")
	must(t, s.CreateContact(ctx(t), siteA, c))
	updateContactAt(t, s, siteA, c, "v2@example.com", at(10))
	rs, err := s.ListDueContactReports(ctx(t), at(10), 10)
	must(t, err)
	if len(rs) != 1 {
		t.Fatalf("pending = %v", reportKeys(rs))
	}
	r := rs[0]
	r.Attempts, r.DueDate = 3, at(500)
	must(t, s.DeferContactReport(ctx(t), r))
	if got := listDue(t, s, at(499), 10); len(got) != 0 {
		t.Errorf("deferred report listed before its new due date: %v", got)
	}
	rs, err = s.ListDueContactReports(ctx(t), at(500), 10)
	must(t, err)
	if len(rs) != 1 || rs[0].Attempts != 3 || !rs[0].DueDate.Equal(at(500)) || rs[0].Contact.Email != "v2@example.com" {
		t.Fatalf("after defer: %v (attempts %v)", reportKeys(rs), rs)
	}
	must(t, s.DeleteContactReport(ctx(t), siteA, c.ID, 2))
	r.Attempts, r.DueDate = 4, at(600)
	must(t, s.DeferContactReport(ctx(t), r))
	if got := listDue(t, s, at(10_000), 10); len(got) != 0 {
		t.Errorf("a deferral after the report was cleared recreated it: %v", got)
	}
}
