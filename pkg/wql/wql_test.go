package wql

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

func mustJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad fixture %s: %v", s, err)
	}
	return m
}

// fixtures are automation-like documents as the store decodes them.
func fixtures(t testing.TB) []map[string]any {
	docs := []string{
		`{"id":"a1","name":"Welcome email","origin":"USER","createdDate":"2024-01-02T03:04:05.678Z","updatedDate":"2024-03-01T00:00:00Z",
		  "configuration":{"status":"ACTIVE","trigger":{"appId":"app-1","triggerKey":"form_submitted","filterValueSelection":{"selectedFilterValues":["f1__x","f2__y"]}}},
		  "settings":{"readonly":true,"actionSettings":{"permanentActionIds":["p1"]}}}`,
		`{"id":"a2","name":"Welcome back","origin":"APPLICATION","createdDate":"2024-01-03T00:00:00Z",
		  "configuration":{"status":"INACTIVE","trigger":{"appId":"app-1","triggerKey":"member_login","filterValueSelection":{"selectedFilterValues":["f1__x"]}}},
		  "settings":{"readonly":false}}`,
		`{"id":"a3","name":"Abandoned cart","origin":"PREINSTALLED","createdDate":"2024-01-01T00:00:00.5Z",
		  "configuration":{"status":"ACTIVE","trigger":{"appId":"app-2","triggerKey":"cart_abandoned"}}}`,
		`{"id":"a4","name":"Wellness tip","origin":"RECIPE",
		  "configuration":{"status":"ACTIVE","trigger":{"appId":"app-2","triggerKey":"form_submitted"}},"settings":{}}`,
		`{"id":"a5","origin":"USER","configuration":{"status":"INACTIVE","trigger":{"appId":"app-3","triggerKey":"x"}}}`,
	}
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		out[i] = mustJSON(t, d)
	}
	return out
}

func ids(docs []map[string]any) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i], _ = d["id"].(string)
	}
	return out
}

func parseFilter(t testing.TB, filter string) *Query {
	t.Helper()
	q, err := Parse(json.RawMessage(`{"filter":`+filter+`}`), AutomationSchema())
	if err != nil {
		t.Fatalf("Parse(%s): %v", filter, err)
	}
	return q
}

func TestOperators(t *testing.T) {
	t.Parallel()
	docs := fixtures(t)
	tests := []struct {
		filter string
		want   []string
	}{
		{`{}`, []string{"a1", "a2", "a3", "a4", "a5"}},
		{`{"name":"Welcome back"}`, []string{"a2"}},
		{`{"name":{"$eq":"Welcome back"}}`, []string{"a2"}},
		{`{"name":{"$ne":"Welcome back"}}`, []string{"a1", "a3", "a4", "a5"}}, // missing counts as not equal
		{`{"name":{"$lt":"W"}}`, []string{"a3"}},
		{`{"name":{"$lte":"Welcome back"}}`, []string{"a2", "a3"}},
		{`{"name":{"$gt":"Welcome back"}}`, []string{"a1", "a4"}},
		{`{"name":{"$gte":"Welcome back"}}`, []string{"a1", "a2", "a4"}},
		{`{"name":{"$in":["Wellness tip","nope"]}}`, []string{"a4"}},
		{`{"name":{"$startsWith":"Wel"}}`, []string{"a1", "a2", "a4"}},
		{`{"name":{"$startsWith":"wel"}}`, nil}, // case-sensitive
		{`{"name":{"$exists":true}}`, []string{"a1", "a2", "a3", "a4"}},
		{`{"name":{"$exists":false}}`, []string{"a5"}},
		{`{"name":{"$gt":"A","$lt":"W"}}`, []string{"a3"}},
		{`{"configuration.status":"ACTIVE"}`, []string{"a1", "a3", "a4"}},
		{`{"configuration.status":{"$in":["INACTIVE"]}}`, []string{"a2", "a5"}},
		{`{"origin":{"$ne":"PREINSTALLED"}}`, []string{"a1", "a2", "a4", "a5"}},
		{`{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasSome":["f2__y","zz"]}}`, []string{"a1"}},
		{`{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasSome":["f1__x"]}}`, []string{"a1", "a2"}},
		{`{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasAll":["f1__x","f2__y"]}}`, []string{"a1"}},
		{`{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasAll":["f1__x"]}}`, []string{"a1", "a2"}},
		{`{"settings.actionSettings.permanentActionIds":{"$exists":true}}`, []string{"a1"}},
		{`{"settings.readonly":true}`, []string{"a1"}},
		{`{"settings.readonly":{"$ne":true}}`, []string{"a2", "a3", "a4", "a5"}},
		{`{"settings":{"$exists":true}}`, []string{"a1", "a2", "a4"}},
		{`{"settings":{}}`, []string{"a4"}},
		{`{"settings":{"$eq":{"readonly":false}}}`, []string{"a2"}},
		{`{"createdDate":{"$gt":"2024-01-02T00:00:00Z"}}`, []string{"a1", "a2"}},
		{`{"createdDate":{"$lt":"2024-01-01T00:00:01Z"}}`, []string{"a3"}},
		{`{"createdDate":{"$eq":{"$date":"2024-01-01T00:00:00.500Z"}}}`, []string{"a3"}},
		{`{"createdDate":{"$in":["2024-01-03T00:00:00.000Z"]}}`, []string{"a2"}},
		{`{"updatedDate":{"$exists":false}}`, []string{"a2", "a3", "a4", "a5"}},
		{`{"configuration.trigger.appId":"app-1","configuration.trigger.triggerKey":"form_submitted"}`, []string{"a1"}},
		{`{"$and":[{"configuration.trigger.appId":"app-2"},{"configuration.trigger.triggerKey":{"$startsWith":"form"}}]}`, []string{"a4"}},
		{`{"$or":[{"origin":"RECIPE"},{"name":{"$exists":false}}]}`, []string{"a4", "a5"}},
		{`{"$not":{"configuration.status":"ACTIVE"}}`, []string{"a2", "a5"}},
		{`{"$not":{"name":{"$startsWith":"Wel"}}}`, []string{"a3", "a5"}}, // $not of a comparison includes missing
		{`{"$and":[{"$or":[{"origin":"USER"},{"origin":"RECIPE"}]},{"configuration.status":"ACTIVE"}]}`, []string{"a1", "a4"}},
		{`{"$or":[{"$not":{"origin":"USER"}},{"id":"a1"}],"configuration.status":"ACTIVE"}`, []string{"a1", "a3", "a4"}},
		{`{"$and":[{}]}`, []string{"a1", "a2", "a3", "a4", "a5"}},
		{`{"id":{"$in":["a5","a2"]}}`, []string{"a2", "a5"}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			q := parseFilter(t, tt.filter)
			var got []string
			for _, d := range docs {
				if q.Match(d) {
					got = append(got, d["id"].(string))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
			// Page with the default order (id) must agree with Match.
			page, next, err := q.Page(docs)
			if err != nil || next != "" || !slices.Equal(ids(page), tt.want) {
				t.Errorf("Page = %v, %q, %v; want %v", ids(page), next, err, tt.want)
			}
		})
	}
}

// TestSDKBodies parses the request bodies §2.2 observed from the real SDK, verbatim.
func TestSDKBodies(t *testing.T) {
	t.Parallel()
	docs := fixtures(t)
	tests := []struct {
		body   string
		limit  int
		sort   []Sort
		want   []string
		filter bool
	}{
		{`{"query":{"filter":{},"cursorPaging":{"limit":50}}}`, 50, nil, []string{"a1", "a2", "a3", "a4", "a5"}, false},
		{`{"query":{"filter":{"$and":[{"configuration.status":"ACTIVE"},{"name":{"$startsWith":"Wel"}}]},"cursorPaging":{"limit":5},"sort":[{"fieldName":"name","order":"DESC"}]}}`,
			5, []Sort{{Field: "name", Desc: true}}, []string{"a4", "a1"}, true},
		{`{"query":{"filter":{"origin":{"$ne":"PREINSTALLED"}}}}`, 50, nil, []string{"a1", "a2", "a4", "a5"}, true},
		{`{"query":{"filter":{"name":{"$exists":true}}}}`, 50, nil, []string{"a1", "a2", "a3", "a4"}, true},
		{`{"query":{"filter":{"name":"n"}},"fields":["OVERRIDE_SCHEMA"]}`, 50, nil, nil, true},
		{`{"query":{"filter":{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasSome":["x"]}}}}`, 50, nil, nil, true},
		{`{"query":{"filter":{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasAll":["y"]}}}}`, 50, nil, nil, true},
		{`{"query":{"filter":{"configuration.trigger.appId":{"$in":["a","b"]}}}}`, 50, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var req struct{ Query json.RawMessage }
			if err := json.Unmarshal([]byte(tt.body), &req); err != nil {
				t.Fatal(err)
			}
			q, err := Parse(req.Query, AutomationSchema())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if q.Limit != tt.limit || !reflect.DeepEqual(q.Sort, tt.sort) || (q.Filter != nil) != tt.filter {
				t.Errorf("got limit %d sort %v filter %v", q.Limit, q.Sort, q.Filter)
			}
			page, _, err := q.Page(docs)
			if err != nil || !slices.Equal(ids(page), tt.want) {
				t.Errorf("Page = %v, %v; want %v", ids(page), err, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	deep := `{"$and":[{"$or":[{"$not":{"name":"x"}}]}]}`
	tests := []struct {
		query string
		field string // the first violation's field
		want  string // a fragment of its description
	}{
		{`[]`, "query", "object"},
		{`{"filter":[]}`, "query.filter", "object"},
		{`{"filter":"x"}`, "query.filter", "object"},
		{`{"filter":{"description":"x"}}`, "query.filter.description", "not a filterable field"},
		{`{"filter":{"configuration.trigger.filters":"x"}}`, "query.filter.configuration.trigger.filters", "not a filterable field"},
		{`{"filter":{"$nor":[{}]}}`, "query.filter.$nor", "not a supported operator"},
		{`{"filter":{"name":{"$regex":"x"}}}`, "query.filter.name", "$regex is not a supported operator"},
		{`{"filter":{"origin":{"$startsWith":"U"}}}`, "query.filter.origin", "$startsWith is not supported"},
		{`{"filter":{"id":{"$startsWith":"a"}}}`, "query.filter.id", "$startsWith is not supported"},
		{`{"filter":{"name":{"$hasSome":["a"]}}}`, "query.filter.name", "$hasSome is not supported"},
		{`{"filter":{"settings.readonly":{"$contains":"t"}}}`, "query.filter.settings.readonly", "$contains is not supported"},
		{`{"filter":{"name":5}}`, "query.filter.name", "must be a string"},
		{`{"filter":{"name":null}}`, "query.filter.name", "must be a string"},
		{`{"filter":{"settings.readonly":"true"}}`, "query.filter.settings.readonly", "true or false"},
		{`{"filter":{"configuration.status":"RUNNING"}}`, "query.filter.configuration.status", "one of ACTIVE, INACTIVE"},
		{`{"filter":{"createdDate":{"$gt":"yesterday"}}}`, "query.filter.createdDate", "RFC 3339"},
		{`{"filter":{"name":{"$in":"a"}}}`, "query.filter.name", "non-empty array"},
		{`{"filter":{"name":{"$in":[]}}}`, "query.filter.name", "non-empty array"},
		{`{"filter":{"name":{"$in":["a",1]}}}`, "query.filter.name", "must be a string"},
		{`{"filter":{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasAll":[1]}}}`, "query.filter.configuration.trigger.filterValueSelection.selectedFilterValues", "array of strings"},
		{`{"filter":{"name":{"$exists":"yes"}}}`, "query.filter.name", "true or false"},
		{`{"filter":{"name":{"$startsWith":1}}}`, "query.filter.name", "takes a string"},
		{`{"filter":{"name":{"$eq":"a","x":1}}}`, "query.filter.name", "mix operators"},
		{`{"filter":{"$and":{}}}`, "query.filter.$and", "non-empty array"},
		{`{"filter":{"$or":[]}}`, "query.filter.$or", "non-empty array"},
		{`{"filter":{"$or":["x"]}}`, "query.filter.$or", "non-empty array"},
		{`{"filter":{"$not":[]}}`, "query.filter.$not", "filter object"},
		{`{"filter":` + deep + `}`, "query.filter", "deeper than 3"},
		{`{"filter":{"$not":{"$not":{"$not":{"name":"x"}}}}}`, "query.filter", "deeper than 3"},
		{`{"sort":{}}`, "query.sort", "array"},
		{`{"sort":[{"fieldName":"description"}]}`, "query.sort[0].fieldName", "not a sortable field"},
		{`{"sort":[{"fieldName":"name"},{"fieldName":"settings.readonly"}]}`, "query.sort[1].fieldName", "not a sortable field"},
		{`{"sort":[{"order":"ASC"}]}`, "query.sort[0].fieldName", "non-empty"},
		{`{"sort":[{"fieldName":"name","order":"UP"}]}`, "query.sort[0].order", "ASC or DESC"},
		{`{"sort":[{"fieldName":"name"},{"fieldName":"name","order":"DESC"}]}`, "query.sort[1].fieldName", "already sorted"},
		{`{"sort":[1,2,3,4,5,6]}`, "query.sort", "at most 5"},
		{`{"cursorPaging":{"limit":501}}`, "query.cursorPaging.limit", "between 1 and 500"},
		{`{"cursorPaging":{"limit":-1}}`, "query.cursorPaging.limit", "between 1 and 500"},
		{`{"cursorPaging":{"limit":2.5}}`, "query.cursorPaging.limit", "integer"},
		{`{"cursorPaging":{"cursor":5}}`, "query.cursorPaging.cursor", "string"},
		{`{"cursorPaging":{"cursor":"` + strings.Repeat("A", MaxCursorLen+1) + `"}}`, "query.cursorPaging.cursor", "at most 64000"},
		{`{"cursorPaging":{"cursor":"CURSOR123"}}`, "query.cursorPaging.cursor", "not a cursor"},
		{`{"cursorPaging":"x"}`, "query.cursorPaging", "object"},
	}
	for _, tt := range tests {
		name := tt.query
		if len(name) > 100 {
			name = name[:100]
		}
		t.Run(name, func(t *testing.T) {
			_, err := Parse(json.RawMessage(tt.query), AutomationSchema())
			var e *errs.Error
			if !errs.Is(err, errs.Invalid) || !errorsAs(err, &e) || len(e.Violations) == 0 {
				t.Fatalf("Parse = %v, want a 400 with violations", err)
			}
			v := e.Violations[0]
			if v.Field != tt.field || !strings.Contains(v.Description, tt.want) {
				t.Errorf("violation %q: %q, want %q: …%s…", v.Field, v.Description, tt.field, tt.want)
			}
		})
	}
}

func errorsAs(err error, e **errs.Error) bool {
	x, ok := err.(*errs.Error)
	*e = x
	return ok
}

func TestParseCollectsViolations(t *testing.T) {
	t.Parallel()
	_, err := Parse(json.RawMessage(`{"filter":{"a":1,"name":2},"sort":[{"fieldName":"b"}],"cursorPaging":{"limit":1000}}`), AutomationSchema())
	var e *errs.Error
	if !errorsAs(err, &e) {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, v := range e.Violations {
		fields = append(fields, v.Field)
	}
	slices.Sort(fields)
	want := []string{"query.cursorPaging.limit", "query.filter.a", "query.filter.name", "query.sort[0].fieldName"}
	if !slices.Equal(fields, want) {
		t.Errorf("fields = %v, want %v", fields, want)
	}
}

func TestDepth(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{
		`{"name":"x"}`,
		`{"$and":[{"name":"x"}]}`,
		`{"$and":[{"$or":[{"name":"x","origin":"USER"}]}]}`,
		`{"$not":{"$not":{"name":{"$gt":"a","$lt":"b"}}}}`,
	} {
		parseFilter(t, ok)
	}
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{``, `null`, `{}`, `{"filter":null,"sort":null,"cursorPaging":null}`, `{"cursorPaging":{"limit":0}}`, `{"cursorPaging":{"limit":"50"}}`} {
		q, err := Parse(json.RawMessage(raw), AutomationSchema())
		if err != nil || q.Filter != nil || q.Sort != nil || q.Limit != DefaultLimit || q.Cursor != "" {
			t.Errorf("Parse(%q) = %+v, %v", raw, q, err)
		}
	}
}

// numbered makes n documents with names that repeat (ties) and some missing, for paging tests.
func numbered(n int) []map[string]any {
	docs := make([]map[string]any, n)
	for i := range docs {
		d := map[string]any{
			"id":            fmt.Sprintf("id-%02d", (i*7)%n), // ids not in insertion order
			"configuration": map[string]any{"status": []string{"ACTIVE", "INACTIVE"}[i%2]},
			"createdDate":   fmt.Sprintf("2024-01-%02dT00:00:00Z", 1+i%4),
		}
		if i%5 != 0 {
			d["name"] = fmt.Sprintf("name-%d", i%3)
		}
		docs[i] = d
	}
	return docs
}

func TestPagingFollowsNext(t *testing.T) {
	t.Parallel()
	docs := numbered(23)
	for _, sort := range []string{
		`[]`,
		`[{"fieldName":"name"}]`,
		`[{"fieldName":"name","order":"DESC"}]`,
		`[{"fieldName":"createdDate","order":"DESC"},{"fieldName":"name"}]`,
		`[{"fieldName":"configuration.status"},{"fieldName":"createdDate"},{"fieldName":"name","order":"DESC"}]`,
	} {
		t.Run(sort, func(t *testing.T) {
			q, err := Parse(json.RawMessage(`{"sort":`+sort+`,"cursorPaging":{"limit":5}}`), AutomationSchema())
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(docs)
			slices.SortStableFunc(want, func(a, b map[string]any) int {
				switch {
				case q.Less(a, b):
					return -1
				case q.Less(b, a):
					return 1
				}
				t.Fatalf("Less is not total: %v %v", a["id"], b["id"])
				return 0
			})
			checkOrder(t, q, want)
			var got []map[string]any
			pages := 0
			for cur := q; ; pages++ {
				page, next, err := cur.Page(docs)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				if next == "" {
					break
				}
				if len(page) != 5 {
					t.Fatalf("page %d has %d docs", pages, len(page))
				}
				// The SDK's result.next(): only the cursor, plus the limit it remembers.
				cur, err = Parse(json.RawMessage(`{"cursorPaging":{"cursor":"`+next+`"}}`), AutomationSchema())
				if err != nil {
					t.Fatalf("next cursor: %v", err)
				}
			}
			if pages != 4 || !slices.Equal(ids(got), ids(want)) {
				t.Errorf("%d pages: %v\nwant %v", pages+1, ids(got), ids(want))
			}
		})
	}
}

// checkOrder asserts the expected order honours each sort field, missing values first ascending.
func checkOrder(t *testing.T, q *Query, docs []map[string]any) {
	t.Helper()
	for i := 1; i < len(docs); i++ {
		a, b := docs[i-1], docs[i]
		for j, s := range q.Sort {
			ka, kb := q.key(a)[j], q.key(b)[j]
			c := compare(ka, kb)
			if s.Desc {
				c = -c
			}
			if c > 0 {
				t.Fatalf("%v before %v breaks %s", a["id"], b["id"], s.Field)
			}
			if c < 0 {
				break
			}
		}
	}
	if !missingFirst(q, docs) {
		t.Fatal("missing values must sort first ascending")
	}
}

// missingFirst reports whether documents missing the first sort field come first ascending, last descending.
func missingFirst(q *Query, docs []map[string]any) bool {
	if len(q.Sort) == 0 {
		return true
	}
	seen := false
	for _, d := range docs {
		missing := q.key(d)[0] == nil
		if q.Sort[0].Desc {
			missing = !missing
		}
		if !missing {
			seen = true
		} else if seen {
			return false
		}
	}
	return true
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	docs := numbered(23)
	q, err := Parse(json.RawMessage(`{"filter":{"$and":[{"$or":[{"name":{"$gt":"name-0","$lt":"name-9"}},{"name":{"$exists":false}}]}],"createdDate":{"$gte":"2024-01-02T00:00:00.000Z"}},"sort":[{"fieldName":"createdDate","order":"DESC"},{"fieldName":"name"}],"cursorPaging":{"limit":3}}`), AutomationSchema())
	if err != nil {
		t.Fatal(err)
	}
	page, next, err := q.Page(docs)
	if err != nil || len(page) != 3 || next == "" {
		t.Fatalf("Page = %d docs, %q, %v", len(page), next, err)
	}
	r, err := Parse(json.RawMessage(`{"filter":{},"cursorPaging":{"cursor":"`+next+`","limit":2}}`), AutomationSchema())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Filter.wire(), q.Filter.wire()) || !reflect.DeepEqual(r.Sort, q.Sort) {
		t.Errorf("restored filter %v sort %v\nwant %v %v", r.Filter.wire(), r.Sort, q.Filter.wire(), q.Sort)
	}
	if r.Limit != 2 || r.Cursor != next {
		t.Errorf("limit %d cursor %q", r.Limit, r.Cursor)
	}
	// The restored query continues where the first page stopped.
	all, _, _ := (&Query{Filter: q.Filter, Sort: q.Sort, Limit: 500, schema: q.schema}).Page(docs)
	rest, _, err := r.Page(docs)
	if err != nil || !slices.Equal(ids(rest), ids(all[3:5])) {
		t.Errorf("second page %v, want %v", ids(rest), ids(all[3:5]))
	}
	// Without a limit the cursor's own limit applies.
	r2, err := Parse(json.RawMessage(`{"cursorPaging":{"cursor":"`+next+`"}}`), AutomationSchema())
	if err != nil || r2.Limit != 3 {
		t.Errorf("limit %v, %v", r2, err)
	}
}

func TestCursorRejected(t *testing.T) {
	t.Parallel()
	q, _ := Parse(json.RawMessage(`{"filter":{"configuration.status":"ACTIVE"},"sort":[{"fieldName":"name"}],"cursorPaging":{"limit":1}}`), AutomationSchema())
	_, next, _ := q.Page(numbered(5))
	if next == "" {
		t.Fatal("no next cursor")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(next)
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	flipped := []byte(next)
	flipped[len(flipped)/2] ^= 1
	tests := map[string]struct{ query, field string }{
		"with filter":        {`{"filter":{"name":"x"},"cursorPaging":{"cursor":"` + next + `"}}`, "query.filter"},
		"with sort":          {`{"sort":[{"fieldName":"name"}],"cursorPaging":{"cursor":"` + next + `"}}`, "query.sort"},
		"flipped bit":        {`{"cursorPaging":{"cursor":"` + string(flipped) + `"}}`, "query.cursorPaging.cursor"},
		"truncated":          {`{"cursorPaging":{"cursor":"` + next[:len(next)-4] + `"}}`, "query.cursorPaging.cursor"},
		"not base64":         {`{"cursorPaging":{"cursor":"!!!"}}`, "query.cursorPaging.cursor"},
		"json garbage":       {`{"cursorPaging":{"cursor":"` + enc(`{"v":1`) + `"}}`, "query.cursorPaging.cursor"},
		"wrong version":      {`{"cursorPaging":{"cursor":"` + enc(strings.Replace(string(raw), `"v":1`, `"v":2`, 1)) + `"}}`, "query.cursorPaging.cursor"},
		"unknown field":      {`{"cursorPaging":{"cursor":"` + enc(strings.Replace(string(raw), `"v":1`, `"v":1,"x":1`, 1)) + `"}}`, "query.cursorPaging.cursor"},
		"widened filter":     {`{"cursorPaging":{"cursor":"` + enc(strings.Replace(string(raw), `configuration.status`, `description`, 1)) + `"}}`, "query.cursorPaging.cursor"},
		"bad sort":           {`{"cursorPaging":{"cursor":"` + enc(strings.Replace(string(raw), `"fieldName":"name"`, `"fieldName":"settings"`, 1)) + `"}}`, "query.cursorPaging.cursor"},
		"short position":     {`{"cursorPaging":{"cursor":"` + enc(`{"v":1,"l":5,"a":[]}`) + `"}}`, "query.cursorPaging.cursor"},
		"object in position": {`{"cursorPaging":{"cursor":"` + enc(`{"v":1,"l":5,"a":[{}]}`) + `"}}`, "query.cursorPaging.cursor"},
		"bad limit":          {`{"cursorPaging":{"cursor":"` + enc(`{"v":1,"l":501,"a":["x"]}`) + `"}}`, "query.cursorPaging.cursor"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(json.RawMessage(tt.query), AutomationSchema())
			var e *errs.Error
			if !errorsAs(err, &e) || e.Kind != errs.Invalid || e.Violations[0].Field != tt.field {
				t.Errorf("Parse = %v, want a 400 on %s", err, tt.field)
			}
		})
	}
	// A hand-made but valid cursor is just another query.
	if _, err := Parse(json.RawMessage(`{"cursorPaging":{"cursor":"`+enc(`{"v":1,"l":5,"a":["x"]}`)+`"}}`), AutomationSchema()); err != nil {
		t.Errorf("valid hand-made cursor: %v", err)
	}
}

func TestSQL(t *testing.T) {
	t.Parallel()
	cols := map[string]string{
		"id":                   "id",
		"name":                 "json_extract(doc,'$.name')",
		"configuration.status": "status",
		"createdDate":          "created_at",
		"origin":               "json_extract(doc,'$.origin')",
		"settings":             "json_extract(doc,'$.settings')",
		"settings.readonly":    "json_extract(doc,'$.settings.readonly')",
		"configuration.trigger.filterValueSelection.selectedFilterValues": "json_extract(doc,'$.configuration.trigger.filterValueSelection.selectedFilterValues')",
	}
	const sfv = "json_extract(doc,'$.configuration.trigger.filterValueSelection.selectedFilterValues')"
	tests := []struct {
		query, where, order string
		args                []any
		ok                  bool
	}{
		{`{}`, ``, `id ASC`, nil, true},
		{`{"filter":{"$and":[{"configuration.status":"ACTIVE"},{"name":{"$startsWith":"Wel"}}]},"sort":[{"fieldName":"name","order":"DESC"}]}`,
			`(status = ? AND substr(json_extract(doc,'$.name'), 1, ?) = ?)`, `json_extract(doc,'$.name') DESC, id ASC`,
			[]any{"ACTIVE", int64(3), "Wel"}, true},
		{`{"filter":{"origin":{"$ne":"PREINSTALLED"},"name":{"$in":["a","b"]}}}`,
			`(json_extract(doc,'$.name') IN (?, ?) AND json_extract(doc,'$.origin') IS NOT ?)`, `id ASC`, []any{"a", "b", "PREINSTALLED"}, true},
		{`{"filter":{"$or":[{"name":{"$gte":"m","$lt":"n"}},{"name":{"$exists":false}}]}}`,
			`((json_extract(doc,'$.name') >= ? AND json_extract(doc,'$.name') < ?) OR json_extract(doc,'$.name') IS NULL)`, `id ASC`, []any{"m", "n"}, true},
		{`{"filter":{"$not":{"settings.readonly":true}}}`, `NOT coalesce(json_extract(doc,'$.settings.readonly') = ?, 0)`, `id ASC`, []any{int64(1)}, true},
		{`{"filter":{"createdDate":{"$gt":"2024-01-02T03:04:05.678Z"}},"sort":[{"fieldName":"createdDate"}]}`,
			`created_at > ?`, `created_at ASC, id ASC`, []any{int64(1704164645678)}, true},
		{`{"filter":{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasSome":["a","b"]}}}`,
			`EXISTS (SELECT 1 FROM json_each(` + sfv + `) WHERE value IN (?, ?))`, `id ASC`, []any{"a", "b"}, true},
		{`{"filter":{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasAll":["a","b","a"]}}}`,
			`(SELECT count(DISTINCT value) FROM json_each(` + sfv + `) WHERE value IN (?, ?)) = ?`, `id ASC`, []any{"a", "b", int64(2)}, true},
		{`{"filter":{"settings":{"$exists":true}}}`, `json_extract(doc,'$.settings') IS NOT NULL`, `id ASC`, nil, true},
		{`{"filter":{"settings":{"$eq":{}}}}`, ``, ``, nil, false},             // no SQL form
		{`{"filter":{"configuration.trigger.appId":"x"}}`, ``, ``, nil, false}, // not mapped
		{`{"sort":[{"fieldName":"updatedDate"}]}`, ``, ``, nil, false},         // not mapped
		{`{"filter":{"name":"x';DROP TABLE automations;--"}}`, `json_extract(doc,'$.name') = ?`, `id ASC`, []any{"x';DROP TABLE automations;--"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := Parse(json.RawMessage(tt.query), AutomationSchema())
			if err != nil {
				t.Fatal(err)
			}
			where, args, order, ok := q.SQL(cols)
			if ok != tt.ok || where != tt.where || order != tt.order || !reflect.DeepEqual(args, tt.args) {
				t.Errorf("SQL =\n %v %q %#v %q\nwant\n %v %q %#v %q", ok, where, args, order, tt.ok, tt.where, tt.args, tt.order)
			}
		})
	}
	if _, _, _, ok := (&Query{}).SQL(map[string]string{"name": "n"}); ok {
		t.Error("id is needed for the tie-breaker")
	}
}

func TestSQLKeyset(t *testing.T) {
	t.Parallel()
	cols := map[string]string{"id": "id", "name": "name", "createdDate": "created_at", "configuration.status": "status"}
	s := AutomationSchema()
	tests := []struct {
		name  string
		q     *Query
		where string
		args  []any
	}{
		{"id only", &Query{schema: s, after: []any{"a7"}}, `id > ?`, []any{"a7"}},
		{"ascending row value", &Query{schema: s, Sort: []Sort{{Field: "name"}, {Field: "createdDate"}}, after: []any{"n", 1.7e12, "a7"}},
			`(name, created_at, id) > (?, ?, ?)`, []any{"n", int64(1.7e12), "a7"}},
		{"descending", &Query{schema: s, Sort: []Sort{{Field: "name", Desc: true}}, after: []any{"n", "a7"}},
			`((name < ? OR name IS NULL)) OR (name = ? AND id > ?)`, []any{"n", "n", "a7"}},
		{"null ascending", &Query{schema: s, Sort: []Sort{{Field: "name"}}, after: []any{nil, "a7"}},
			`(name IS NOT NULL) OR (name IS NULL AND id > ?)`, []any{"a7"}},
		{"null descending", &Query{schema: s, Sort: []Sort{{Field: "name", Desc: true}}, after: []any{nil, "a7"}},
			`(name IS NULL AND id > ?)`, []any{"a7"}},
		{"mixed with filter", &Query{schema: s, Filter: &Node{Op: "$eq", Field: "configuration.status", Value: "ACTIVE", kind: Enum},
			Sort: []Sort{{Field: "createdDate", Desc: true}, {Field: "name"}}, after: []any{1.5e12, "n", "a7"}},
			`(status = ?) AND (((created_at < ? OR created_at IS NULL)) OR (created_at = ? AND name > ?) OR (created_at = ? AND name = ? AND id > ?))`,
			[]any{"ACTIVE", int64(1.5e12), int64(1.5e12), "n", int64(1.5e12), "n", "a7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			where, args, _, ok := tt.q.SQL(cols)
			if !ok || where != tt.where || !reflect.DeepEqual(args, tt.args) {
				t.Errorf("SQL = %v %q %#v\nwant %q %#v", ok, where, args, tt.where, tt.args)
			}
		})
	}
}

// TestSQLFromCursor checks that a cursor's position reaches SQL with timestamps as milliseconds.
func TestSQLFromCursor(t *testing.T) {
	t.Parallel()
	q, _ := Parse(json.RawMessage(`{"sort":[{"fieldName":"createdDate"}],"cursorPaging":{"limit":1}}`), AutomationSchema())
	_, next, _ := q.Page(fixtures(t))
	r, err := Parse(json.RawMessage(`{"cursorPaging":{"cursor":"`+next+`"}}`), AutomationSchema())
	if err != nil {
		t.Fatal(err)
	}
	where, args, order, ok := r.SQL(map[string]string{"id": "id", "createdDate": "created_at"})
	// The first document by createdDate is one without it (a4 < a5: missing first).
	if !ok || where != `(created_at IS NOT NULL) OR (created_at IS NULL AND id > ?)` || !reflect.DeepEqual(args, []any{"a4"}) || order != "created_at ASC, id ASC" {
		t.Errorf("SQL = %v %q %#v %q", ok, where, args, order)
	}
}

func TestSchemaIsConsistent(t *testing.T) {
	t.Parallel()
	for path, f := range AutomationSchema() {
		for _, op := range f.Ops {
			if !f.allows(op) {
				t.Errorf("%s lists %s, invalid for its kind", path, op)
			}
		}
	}
}
