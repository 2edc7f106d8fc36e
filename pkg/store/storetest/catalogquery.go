package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

var catalogQueryTests = []test{
	{"Catalog/PutApp", testPutApp},
	{"Catalog/QueryApps", testQueryApps},
	{"Catalog/QueryTriggers", testQueryTriggers},
	{"Catalog/QueryActions", testQueryActions},
}

func testPutApp(t *testing.T, s Store) {
	c := ctx(t)
	wantErr(t, "PutApp of a missing app", s.PutApp(c, &catalog.App{ID: appA, Name: "x"}), errs.ErrNotFound)
	_, err := s.GetApp(c, appA)
	wantErr(t, "GetApp after a refused PutApp", err, errs.ErrNotFound)
	must(t, s.CreateApp(c, &catalog.App{ID: appA, Name: "first", CreatedDate: t0, UpdatedDate: t0}))
	want := &catalog.App{ID: appA, Name: "second", ProviderBaseURI: "https://p.example", CreatedDate: t0, UpdatedDate: at(9)}
	must(t, s.PutApp(c, want))
	got, err := s.GetApp(c, appA)
	must(t, err)
	sameJSON(t, "GetApp after PutApp", got, want)
	page, _, err := s.QueryApps(c, parseQuery(t, `{}`, wql.AppSchema()))
	must(t, err)
	sameJSON(t, "QueryApps after PutApp lists the app once, as replaced", page, []*catalog.App{want})
}

func parseQuery(t *testing.T, raw string, schema wql.Schema) *wql.Query {
	t.Helper()
	q, err := wql.Parse(json.RawMessage(raw), schema)
	must(t, err)
	return q
}

// pageAll follows next cursors from the first query to the end, failing on a loop.
func pageAll[T any](t *testing.T, first string, schema wql.Schema, query func(*wql.Query) ([]*T, string, error)) ([]*T, int) {
	t.Helper()
	all := []*T{}
	q := parseQuery(t, first, schema)
	for pages := 1; ; pages++ {
		page, next, err := query(q)
		must(t, err)
		all = append(all, page...)
		if next == "" {
			return all, pages
		}
		if pages > 50 {
			t.Fatal("more than 50 pages: the cursor does not advance")
		}
		q = parseQuery(t, `{"cursorPaging":{"cursor":"`+next+`"}}`, schema)
	}
}

func testQueryApps(t *testing.T, s Store) {
	c := ctx(t)
	var ids []string
	for i := range 7 {
		id := fmt.Sprintf("%08x-0000-4000-8000-000000000000", 7-i) // created in descending id order
		ids = append(ids, id)
		must(t, s.CreateApp(c, &catalog.App{ID: id, Name: fmt.Sprint("app ", i), CreatedDate: at(i), UpdatedDate: at(i)}))
	}
	slices.Sort(ids)
	all, pages := pageAll(t, `{"cursorPaging":{"limit":3}}`, wql.AppSchema(), func(q *wql.Query) ([]*catalog.App, string, error) {
		return s.QueryApps(c, q)
	})
	var got []string
	for _, a := range all {
		got = append(got, a.ID)
	}
	if !slices.Equal(got, ids) || pages != 3 {
		t.Errorf("QueryApps by 3: %v in %d pages, want %v in 3", got, pages, ids)
	}
	one, _, err := s.QueryApps(c, parseQuery(t, `{"cursorPaging":{"limit":1}}`, wql.AppSchema()))
	must(t, err)
	want, err := s.GetApp(c, ids[0])
	must(t, err)
	sameJSON(t, "QueryApps record", one, []*catalog.App{want})
}

// defs are the definitions both query tests register, over two apps: (app, key, displayName).
var defs = []struct{ app, key, name string }{
	{appA, "form_submitted", "Form submitted"},
	{appA, "form_viewed", "Form viewed"},
	{appA, "payment_received", "Payment received"},
	{appB, "form_submitted", "Another form submitted"},
	{appB, "order.placed", "Order placed"},
	{appB, "zeta", "A last one"},
}

// catalogCases are the same queries on triggers and actions; %s is the key field.
var catalogCases = []struct {
	name, query string
	want        []int // indexes into defs, in order
}{
	{"everything, by (app, key)", `{}`, []int{0, 1, 2, 3, 4, 5}},
	{"one app", `{"filter":{"appId":"` + appA + `"}}`, []int{0, 1, 2}},
	{"key prefix across apps", `{"filter":{"%s":{"$startsWith":"form_"}}}`, []int{0, 1, 3}},
	{"one app and a key", `{"filter":{"appId":"` + appB + `","%s":"form_submitted"}}`, []int{3}},
	{"key $in", `{"filter":{"%s":{"$in":["zeta","order.placed"]}}}`, []int{4, 5}},
	{"display name contains", `{"filter":{"displayName":{"$contains":"submitted"}}}`, []int{0, 3}},
	{"sorted by display name, descending", `{"sort":[{"fieldName":"displayName","order":"DESC"}]}`, []int{2, 4, 1, 0, 3, 5}},
	{"sorted by key then app", `{"sort":[{"fieldName":"%s"},{"fieldName":"appId","order":"DESC"}]}`, []int{3, 0, 1, 4, 2, 5}},
	{"or of two apps' keys", `{"filter":{"$or":[{"appId":"` + appA + `","%s":{"$startsWith":"pay"}},{"appId":"` + appB + `","%s":"zeta"}]}}`, []int{2, 5}},
	{"created after (in memory on SQLite)", `{"filter":{"createdDate":{"$gte":"2026-02-01T09:00:03Z"}},"sort":[{"fieldName":"createdDate","order":"DESC"}]}`, []int{5, 4, 3}},
	{"nothing", `{"filter":{"appId":"99999999-9999-4999-8999-999999999999"}}`, nil},
}

func testQueryTriggers(t *testing.T, s Store) {
	c := ctx(t)
	var stored []*catalog.Trigger
	for i, d := range defs {
		tr := &catalog.Trigger{ID: fmt.Sprintf("t%d", i), AppID: d.app, TriggerKey: d.key, DisplayName: d.name,
			PayloadDataSchema: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer","maximum":9007199254740993}}}`),
			CreatedDate:       at(i), UpdatedDate: at(i)}
		must(t, s.PutTrigger(c, tr))
		stored = append(stored, tr)
	}
	// Replacing a definition must not list it twice.
	stored[1].DisplayName = "Form viewed"
	must(t, s.PutTrigger(c, stored[1]))
	runCatalogCases(t, "triggerKey", wql.TriggerSchema(), stored, func(q *wql.Query) ([]*catalog.Trigger, string, error) {
		return s.QueryTriggers(c, q)
	})
}

func testQueryActions(t *testing.T, s Store) {
	c := ctx(t)
	var stored []*catalog.Action
	for i, d := range defs {
		a := &catalog.Action{ID: fmt.Sprintf("a%d", i), AppID: d.app, ActionKey: d.key, DisplayName: d.name,
			InputSchema: json.RawMessage(`{"type":"object"}`), OutputSchema: json.RawMessage(`{"type":"object","properties":{"status":{"type":"integer"}}}`),
			UISchema: json.RawMessage(`{"ui:order":["x"]}`), CreatedDate: at(i), UpdatedDate: at(i)}
		must(t, s.PutAction(c, a))
		stored = append(stored, a)
	}
	// A trigger of the same key must not show up among actions.
	must(t, s.PutTrigger(c, &catalog.Trigger{ID: "t9", AppID: appA, TriggerKey: "form_submitted", DisplayName: "Trigger", PayloadDataSchema: json.RawMessage(`{}`)}))
	runCatalogCases(t, "actionKey", wql.ActionSchema(), stored, func(q *wql.Query) ([]*catalog.Action, string, error) {
		return s.QueryActions(c, q)
	})
}

func runCatalogCases[T any](t *testing.T, keyField string, schema wql.Schema, stored []*T, query func(*wql.Query) ([]*T, string, error)) {
	t.Helper()
	for _, tc := range catalogCases {
		body := strings.ReplaceAll(tc.query, "%s", keyField)
		want := make([]*T, 0, len(tc.want))
		for _, i := range tc.want {
			want = append(want, stored[i])
		}
		t.Run(tc.name, func(t *testing.T) {
			// Whole result in one page, then the same by pages of 2 through the cursors.
			page, next, err := query(parseQuery(t, body, schema))
			must(t, err)
			if next != "" {
				t.Errorf("one page of %d has a next cursor", len(page))
			}
			sameJSON(t, "one page", page, want)
			paged := body[:len(body)-1]
			if paged != "{" {
				paged += ","
			}
			paged += `"cursorPaging":{"limit":2}}`
			all, pages := pageAll(t, paged, schema, query)
			sameJSON(t, "pages of 2", all, want)
			if wantPages := max(1, (len(want)+1)/2); pages != wantPages {
				t.Errorf("%d pages of 2 for %d records, want %d", pages, len(want), wantPages)
			}
		})
	}
}
