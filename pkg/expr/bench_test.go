package expr

import (
	"encoding/json"
	"testing"
)

// BenchmarkTemplateEval evaluates a typical action input mapping, parsed once as the engine does.
func BenchmarkTemplateEval(b *testing.B) {
	var mapping any
	if err := json.Unmarshal([]byte(`{
		"to": "{{var(\"contact.email\")}}",
		"subject": "Order {{var(\"order.number\")}} confirmed",
		"body": {"text": "Hi {{var(\"contact.name.first\")}}, your total is {{toString(round(multiply(var(\"order.total\");1.17);2))}}."},
		"points": "{{multiply(var(\"account.points.balance\");2)}}",
		"vip": "{{arraySome(var(\"contact.labels\");stringEq($_;\"vip\"))}}",
		"static": "hello",
		"n": 5
	}`), &mapping); err != nil {
		b.Fatal(err)
	}
	m, err := ParseMapping(mapping)
	if err != nil {
		b.Fatal(err)
	}
	env := &Env{Payload: map[string]any{
		"contact": map[string]any{"email": "a@b.com", "name": map[string]any{"first": "Ada"}, "labels": []any{"new", "vip"}},
		"order":   map[string]any{"number": 1042.0, "total": 99.5},
		"account": map[string]any{"points": map[string]any{"balance": 120.0}},
	}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}
