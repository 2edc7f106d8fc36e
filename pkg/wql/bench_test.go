package wql

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkPage10k is QueryAutomations evaluated in memory over a large site: a status and name-prefix
// filter, sorted by name, first page of 50.
func BenchmarkPage10k(b *testing.B) {
	prefixes := []string{"Welcome", "Abandoned", "Reminder", "Birthday", "Follow-up"}
	docs := make([]map[string]any, 10000)
	for i := range docs {
		raw := fmt.Sprintf(`{"id":"%08x-0000-4000-8000-000000000000","name":"%s %d","origin":"USER",
			"createdDate":"2024-01-02T03:04:05.678Z","updatedDate":"2024-03-01T00:00:00Z",
			"configuration":{"status":"%s","trigger":{"appId":"app-%d","triggerKey":"form_submitted"},"rootActionIds":["r1"],
			"actions":{"r1":{"id":"r1","type":"APP_DEFINED","appDefinedInfo":{"appId":"app","actionKey":"send","inputMapping":{"to":"x"}}}}},
			"settings":{"readonly":false}}`, i*7919%10000, prefixes[i%len(prefixes)], i, []string{"ACTIVE", "INACTIVE"}[i%3/2], i%10)
		if err := json.Unmarshal([]byte(raw), &docs[i]); err != nil {
			b.Fatal(err)
		}
	}
	q, err := Parse(json.RawMessage(`{"filter":{"$and":[{"configuration.status":"ACTIVE"},{"name":{"$startsWith":"Wel"}}]},"sort":[{"fieldName":"name"}],"cursorPaging":{"limit":50}}`), AutomationSchema())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		page, next, err := q.Page(docs)
		if err != nil || len(page) != 50 || next == "" {
			b.Fatalf("Page = %d, %q, %v", len(page), next, err)
		}
	}
}
