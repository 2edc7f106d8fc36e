package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

var contactTests = []test{
	{"ContactCRUD", testContactCRUD},
	{"ContactUpdateRevision", testContactUpdateRevision},
	{"ContactQuery", testContactQuery},
	{"ContactQueryPaging", testContactQueryPaging},
}

func contactID(n int) string { return fmt.Sprintf("c0c7ac70-0000-4000-8000-%012d", n) }

func newContact(n int, email, first string) *contacts.Contact {
	c := &contacts.Contact{ID: contactID(n), Revision: "1", Email: email, CreatedDate: at(n), UpdatedDate: at(n)}
	if first != "" {
		c.Name = &contacts.Name{First: first, Last: "L" + strconv.Itoa(n)}
	}
	return c
}

// testContactCRUD: create, read, delete, each keyed by the site; duplicates conflict.
func testContactCRUD(t *testing.T, s Store) {
	c := newContact(1, "ada@example.com", "Ada")
	c.Phone = "+44 20 7946 0958"
	c.Attributes = map[string]any{"tier": "gold", "visits": 3.0, "tags": []any{"a", "b"}}
	must(t, s.CreateContact(ctx(t), siteA, c))

	got, err := s.GetContact(ctx(t), siteA, c.ID)
	must(t, err)
	sameJSON(t, "stored contact", got, c)

	_, err = s.GetContact(ctx(t), siteB, c.ID)
	wantErr(t, "GetContact from another site", err, errs.ErrNotFound)
	_, err = s.GetContact(ctx(t), siteA, contactID(99))
	wantErr(t, "GetContact of an unknown id", err, errs.ErrNotFound)
	wantErr(t, "CreateContact with a taken id", s.CreateContact(ctx(t), siteA, newContact(1, "other@example.com", "")), errs.ErrConflict)
	got, err = s.GetContact(ctx(t), siteA, c.ID)
	must(t, err)
	sameJSON(t, "contact after a refused duplicate", got, c)

	// The same id on another site is another contact.
	must(t, s.CreateContact(ctx(t), siteB, newContact(1, "b@example.com", "")))

	wantErr(t, "DeleteContact from another site", s.DeleteContact(ctx(t), siteB, contactID(2)), errs.ErrNotFound)
	must(t, s.DeleteContact(ctx(t), siteA, c.ID))
	_, err = s.GetContact(ctx(t), siteA, c.ID)
	wantErr(t, "GetContact after delete", err, errs.ErrNotFound)
	wantErr(t, "DeleteContact twice", s.DeleteContact(ctx(t), siteA, c.ID), errs.ErrNotFound)
	if _, err := s.GetContact(ctx(t), siteB, c.ID); err != nil {
		t.Errorf("site B's contact with the same id was deleted too: %v", err)
	}
}

// testContactUpdateRevision: an update applies only at the expected revision.
func testContactUpdateRevision(t *testing.T, s Store) {
	c := newContact(1, "ada@example.com", "Ada")
	must(t, s.CreateContact(ctx(t), siteA, c))
	next := *c
	next.Revision, next.Email, next.UpdatedDate = "2", "ada@lovelace.org", at(60)
	must(t, s.UpdateContact(ctx(t), siteA, &next, 1))
	got, err := s.GetContact(ctx(t), siteA, c.ID)
	must(t, err)
	sameJSON(t, "updated contact", got, &next)

	stale := *c
	stale.Revision, stale.Email = "2", "stale@example.com"
	wantErr(t, "UpdateContact at a stale revision", s.UpdateContact(ctx(t), siteA, &stale, 1), errs.ErrConflict)
	wantErr(t, "UpdateContact on another site", s.UpdateContact(ctx(t), siteB, &next, 2), errs.ErrNotFound)
	missing := *newContact(7, "x@example.com", "")
	missing.Revision = "2"
	wantErr(t, "UpdateContact of an unknown id", s.UpdateContact(ctx(t), siteA, &missing, 1), errs.ErrNotFound)
	got, err = s.GetContact(ctx(t), siteA, c.ID)
	must(t, err)
	sameJSON(t, "contact after refused updates", got, &next)
}

func queryContactIDs(t *testing.T, s Store, site, raw string) ([]string, string) {
	t.Helper()
	q, err := wql.Parse(json.RawMessage(raw), contacts.QuerySchema())
	must(t, err)
	page, next, err := s.QueryContacts(ctx(t), site, q)
	must(t, err)
	ids := []string{}
	for _, c := range page {
		ids = append(ids, c.ID)
	}
	return ids, next
}

// testContactQuery: filters and sorts on every query field, missing fields as WQL defines them, and only
// the caller's site.
func testContactQuery(t *testing.T, s Store) {
	must(t, s.CreateContact(ctx(t), siteA, newContact(1, "ada@example.com", "Ada")))
	must(t, s.CreateContact(ctx(t), siteA, newContact(2, "alan@example.com", "Alan")))
	must(t, s.CreateContact(ctx(t), siteA, newContact(3, "grace@example.org", "Grace")))
	noName := newContact(4, "", "")
	noName.Phone = "555 0100"
	must(t, s.CreateContact(ctx(t), siteA, noName))
	must(t, s.CreateContact(ctx(t), siteB, newContact(5, "ada@example.com", "Ada")))

	cases := []struct {
		name, query string
		want        []int
	}{
		{"everything, by id", `{}`, []int{1, 2, 3, 4}},
		{"email equals", `{"filter":{"email":"ada@example.com"}}`, []int{1}},
		{"email in", `{"filter":{"email":{"$in":["ada@example.com","grace@example.org"]}}}`, []int{1, 3}},
		{"first name prefix", `{"filter":{"name.first":{"$startsWith":"Al"}}}`, []int{2}},
		{"last name", `{"filter":{"name.last":"L3"}}`, []int{3}},
		{"phone exists", `{"filter":{"phone":{"$exists":true}}}`, []int{4}},
		{"email missing", `{"filter":{"email":{"$exists":false}}}`, []int{4}},
		{"email ne matches missing", `{"filter":{"email":{"$ne":"ada@example.com"}}}`, []int{2, 3, 4}},
		{"created after", `{"filter":{"createdDate":{"$gt":"2026-02-01T09:00:02Z"}}}`, []int{3, 4}},
		{"updated before", `{"filter":{"updatedDate":{"$lte":"2026-02-01T09:00:02Z"}}}`, []int{1, 2}},
		{"newest first", `{"sort":[{"fieldName":"createdDate","order":"DESC"}]}`, []int{4, 3, 2, 1}},
		{"by first name, missing first", `{"sort":[{"fieldName":"name.first","order":"ASC"}]}`, []int{4, 1, 2, 3}},
		{"by email descending, missing last", `{"sort":[{"fieldName":"email","order":"DESC"}]}`, []int{3, 2, 1, 4}},
		{"or", `{"filter":{"$or":[{"email":"ada@example.com"},{"phone":"555 0100"}]}}`, []int{1, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, next := queryContactIDs(t, s, siteA, tc.query)
			want := []string{}
			for _, n := range tc.want {
				want = append(want, contactID(n))
			}
			if !slices.Equal(got, want) || next != "" {
				t.Errorf("QueryContacts(%s) = %v next %q, want %v", tc.query, got, next, want)
			}
		})
	}
	got, _ := queryContactIDs(t, s, siteB, `{}`)
	if !slices.Equal(got, []string{contactID(5)}) {
		t.Errorf("site B's query = %v, want only its own contact", got)
	}
}

// testContactQueryPaging: following next cursors visits every contact once, in order.
func testContactQueryPaging(t *testing.T, s Store) {
	const n = 23
	for i := 1; i <= n; i++ {
		must(t, s.CreateContact(ctx(t), siteA, newContact(i, fmt.Sprintf("p%02d@example.com", n-i), "")))
	}
	var seen []string
	ids, next := queryContactIDs(t, s, siteA, `{"sort":[{"fieldName":"email","order":"ASC"}],"cursorPaging":{"limit":5}}`)
	seen = append(seen, ids...)
	for pages := 1; next != ""; pages++ {
		if pages > n {
			t.Fatal("paging does not end")
		}
		ids, next = queryContactIDs(t, s, siteA, `{"cursorPaging":{"cursor":"`+next+`"}}`)
		if len(ids) > 5 {
			t.Fatalf("page of %d, limit 5", len(ids))
		}
		seen = append(seen, ids...)
	}
	var want []string
	for i := n; i >= 1; i-- {
		want = append(want, contactID(i))
	}
	if !slices.Equal(seen, want) {
		t.Errorf("paged ids = %v, want %v", seen, want)
	}
}
