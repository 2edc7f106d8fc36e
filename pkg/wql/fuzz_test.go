package wql

import (
	"encoding/json"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// FuzzParse feeds arbitrary "query" objects to Parse; whatever parses must page, translate to SQL and
// resume from its own cursor without panicking, and every rejection must be a 400.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"filter":{},"cursorPaging":{"limit":50}}`,
		`{"filter":{"$and":[{"configuration.status":"ACTIVE"},{"name":{"$startsWith":"Wel"}}]},"cursorPaging":{"limit":5},"sort":[{"fieldName":"name","order":"DESC"}]}`,
		`{"filter":{"origin":{"$ne":"PREINSTALLED"}}}`,
		`{"filter":{"name":{"$exists":true}},"sort":[{"fieldName":"createdDate"}],"cursorPaging":{"limit":1}}`,
		`{"filter":{"$or":[{"$not":{"settings.readonly":true}},{"createdDate":{"$lt":"2024-01-02T00:00:00Z"}}]}}`,
		`{"filter":{"configuration.trigger.filterValueSelection.selectedFilterValues":{"$hasAll":["f1__x"]}},"cursorPaging":{"limit":1}}`,
		`{"filter":{},"cursorPaging":{"limit":5,"cursor":"CURSOR123"}}`,
		`{"cursorPaging":{"cursor":"eyJ2IjoxLCJsIjo1LCJhIjpbIngiXX0","limit":1}}`,
	} {
		f.Add([]byte(s))
	}
	schema := AutomationSchema()
	docs := fixtures(f)
	cols := map[string]string{"id": "id", "name": "json_extract(doc,'$.name')", "createdDate": "created_at",
		"configuration.status": "status", "settings.readonly": "json_extract(doc,'$.settings.readonly')"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		q, err := Parse(json.RawMessage(raw), schema)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("Parse error is not a 400: %v", err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > MaxLimit || len(q.Sort) > MaxSort {
			t.Fatalf("out of range query: %+v", q)
		}
		page, next, err := q.Page(docs)
		if err != nil || len(page) > q.Limit {
			t.Fatalf("Page = %d docs, %v", len(page), err)
		}
		q.SQL(cols)
		if next == "" {
			return
		}
		body, _ := json.Marshal(map[string]any{"cursorPaging": map[string]any{"cursor": next}})
		r, err := Parse(body, schema)
		if err != nil {
			t.Fatalf("own cursor rejected: %v (query %s)", err, raw)
		}
		if _, _, err := r.Page(docs); err != nil {
			t.Fatal(err)
		}
		r.SQL(cols)
	})
}
