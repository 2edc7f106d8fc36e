package mapcheck

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestResolvePath(t *testing.T) {
	s, _ := decode(json.RawMessage(triggerSchema))
	free, _ := decode(json.RawMessage(`{"type":"object","properties":{"a":{"type":"object"},"m":{"additionalProperties":{"type":"number"}},
		"t":{"type":"array","items":[{"type":"string"}]},"o":{"oneOf":[{"properties":{"x":{"type":"string"}}},{"properties":{"y":{}}}]}}}`))
	tests := []struct {
		s    any
		path string
		ok   bool
	}{
		{s, "formId", true}, {s, "formIds[0]", true}, {s, "forms[0].data.id", true}, {s, "forms[1][0]", false},
		{s, "forms.data", false}, {s, "contact.name.first", true}, {s, "contact.name.last", false},
		{s, "amount.x", false}, {s, "", false}, {s, "formId.", false}, {s, "[0]", false},
		{free, "a.anything.deep", true}, {free, "m.k", true}, {free, "t[0]", true}, {free, "t[5]", true},
		{free, "o.x", true}, {free, "o.y", true}, {free, "o.z", false},
		{true, "x.y", true}, {false, "x", false}, {nil, "x", true}, {"junk", "x", true},
	}
	for _, tc := range tests {
		if _, ok := resolvePath(tc.s, tc.path); ok != tc.ok {
			t.Errorf("resolvePath(%v, %q) = %v, want %v", tc.s, tc.path, ok, tc.ok)
		}
	}
}

func TestInlineBounded(t *testing.T) {
	// A self-referencing and a doubly recursive schema are cut off instead of looping or exploding.
	for _, raw := range []string{
		`{"$ref":"#/definitions/a","definitions":{"a":{"$ref":"#/definitions/a"}}}`,
		`{"$ref":"#/$defs/n","$defs":{"n":{"type":"object","properties":{"l":{"$ref":"#/$defs/n"},"r":{"$ref":"#/$defs/n"}}}}}`,
		`{"$ref":"#/definitions/missing"}`, `{"$ref":"other.json#/x"}`, `{"$ref":5}`, `[1,{"$ref":"#/0"}]`, `null`, `"str"`,
	} {
		s, _ := decode(json.RawMessage(raw))
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	s, _ := decode(json.RawMessage(`{"properties":{"p":{"$ref":"#/definitions/x~1y"}},"definitions":{"x/y":{"type":"integer"}}}`))
	want := map[string]any{"properties": map[string]any{"p": map[string]any{"type": "integer"}}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("escaped pointer: got %v", s)
	}
}

func TestCompatible(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		target []string
		src    exprInfo
		ok     bool
	}{
		{[]string{"number"}, exprInfo{schema: typed("integer")}, true},
		{[]string{"integer"}, exprInfo{schema: typed("number")}, true},
		{[]string{"integer"}, exprInfo{schema: typed("number"), num: f(2.5)}, false},
		{[]string{"integer"}, exprInfo{schema: typed("number"), num: f(2)}, true},
		{[]string{"boolean"}, exprInfo{schema: typed("string")}, false},
		{[]string{"boolean"}, exprInfo{schema: map[string]any{"type": []any{"boolean", "null"}}}, true},
		{[]string{"boolean"}, exprInfo{schema: typed("null")}, true},
		{[]string{"object"}, exprInfo{schema: map[string]any{}}, true},
		{[]string{"array"}, exprInfo{}, true},
		{nil, exprInfo{schema: typed("string")}, true},
	}
	for _, tc := range tests {
		if got := compatible(tc.target, tc.src); got != tc.ok {
			t.Errorf("compatible(%v, %v) = %v, want %v", tc.target, tc.src.schema, got, tc.ok)
		}
	}
}
