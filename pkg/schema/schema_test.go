package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

func TestCompileRejectsBadSchemas(t *testing.T) {
	for _, tc := range []struct{ name, schema, want string }{
		{"not json", `{`, "not valid JSON"},
		{"not an object", `[1]`, "must be a JSON object"},
		{"bad type", `{"type":"nope"}`, "invalid JSON Schema"},
		{"remote ref", `{"$ref":"https://example.com/s.json"}`, "invalid JSON Schema"},
		{"file ref", `{"$ref":"file:///etc/passwd"}`, "invalid JSON Schema"},
		{"too large", `{"description":"` + strings.Repeat("x", MaxSchemaBytes) + `"}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]byte(tc.schema))
			if err == nil || !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile(%s) = %v, want an Invalid error containing %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestValidateNamesFields(t *testing.T) {
	s, err := Compile([]byte(`{"type":"object","required":["email","items"],"properties":{
		"email":{"type":"string","format":"email"},
		"items":{"type":"array","items":{"type":"object","properties":{"price":{"type":"number"}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, value string
		fields      []string
	}{
		{"valid", `{"email":"a@b.co","items":[{"price":1}]}`, nil},
		{"missing both", `{}`, []string{"payload.email", "payload.items"}},
		{"format asserted", `{"email":"not-an-email","items":[]}`, []string{"payload.email"}},
		{"nested index", `{"email":"a@b.co","items":[{"price":1},{"price":"x"}]}`, []string{"payload.items[1].price"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v any
			json.Unmarshal([]byte(tc.value), &v)
			got := s.Validate(v, "payload")
			if len(got) != len(tc.fields) {
				t.Fatalf("violations = %+v, want fields %v", got, tc.fields)
			}
			for i, f := range tc.fields {
				if got[i].Field != f {
					t.Fatalf("violation %d = %+v, want field %s", i, got[i], f)
				}
			}
		})
	}
}

func TestCacheReturnsSameCompiledSchema(t *testing.T) {
	c := NewCache(2)
	a, err := c.Compile([]byte(`{"type":"string"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Compile([]byte(`{"type":"string"}`))
	if a != b {
		t.Fatal("identical schema compiled twice")
	}
	for _, s := range []string{`{"type":"number"}`, `{"type":"boolean"}`, `{"type":"array"}`} {
		if _, err := c.Compile([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.entries) > 2 {
		t.Fatalf("cache holds %d entries, bound is 2", len(c.entries))
	}
}

func TestCheckPayloadKeys(t *testing.T) {
	for _, tc := range []struct {
		name, payload string
		field         string
	}{
		{"valid", `{"a":"x","b_2":1,"c":true,"d":[{"x":1,"y":"z"}],"e":null}`, ""},
		{"leading underscore", `{"_a":1}`, "payload._a"},
		{"dash", `{"a-b":1}`, "payload.a-b"},
		{"nested object", `{"o":{"a":1}}`, "payload.o"},
		{"array of scalars", `{"l":[1]}`, "payload.l[0]"},
		{"nested in array item", `{"l":[{"a":{"b":1}}]}`, "payload.l[0].a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p map[string]any
			json.Unmarshal([]byte(tc.payload), &p)
			vs := CheckPayloadKeys(p, "payload")
			if tc.field == "" && len(vs) != 0 || tc.field != "" && (len(vs) != 1 || vs[0].Field != tc.field) {
				t.Fatalf("violations = %+v, want %q", vs, tc.field)
			}
		})
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{`{}`, `{"type":"object","properties":{"a":{"$ref":"#/definitions/x"}},"definitions":{"x":{"type":"string"}}}`,
		`{"$ref":"#foo"}`, `{"$ref":"#"}`, `{"allOf":[{"$ref":"#"}]}`, `{"pattern":"(a+)+$"}`, `true`} {
		f.Add([]byte(s), []byte(`{"a":"b"}`))
	}
	f.Fuzz(func(t *testing.T, schema, value []byte) {
		s, err := Compile(schema)
		if err != nil {
			return
		}
		var v any
		if json.Unmarshal(value, &v) == nil {
			s.Validate(v, "v")
		}
	})
}
