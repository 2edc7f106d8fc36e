package phpform_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/phpform"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, body, want string // want: JSON, or "" for an error
	}{
		{"empty", ``, `{}`},
		{"flat", `a=1&b=two+words&c=%E2%9C%93`, `{"a":"1","b":"two words","c":"✓"}`},
		{"nested object", `data%5Bpoints%5D=5&data%5Bname%5D%5Bfirst%5D=Ada`, `{"data":{"name":{"first":"Ada"},"points":"5"}}`},
		{"raw brackets", `data[points]=5`, `{"data":{"points":"5"}}`},
		{"appends make a list", `t[]=a&t[]=b`, `{"t":["a","b"]}`},
		{"indexed list", `t[0]=a&t[1]=b`, `{"t":["a","b"]}`},
		{"gap keeps a map", `t[0]=a&t[2]=b`, `{"t":{"0":"a","2":"b"}}`},
		{"append after index", `t[5]=a&t[]=b`, `{"t":{"5":"a","6":"b"}}`},
		{"later wins", `a=1&a[b]=2`, `{"a":{"b":"2"}}`},
		{"later scalar wins", `a[b]=2&a=1`, `{"a":"1"}`},
		{"no value", `a&b=`, `{"a":"","b":""}`},
		{"nameless key skipped", `[a]=1&=2&c=3`, `{"c":"3"}`},
		{"unclosed bracket is a name", `a[b=1`, `{"a[b":"1"}`},
		{"trailing junk dropped", `a[b]x=1`, `{"a":{"b":"1"}}`},
		{"top level numbers stay a map", `0=a&1=b`, `{"0":"a","1":"b"}`},
		{"bad escape", `a=%zz`, ``},
		{"too deep", `a` + strings.Repeat("[x]", phpform.MaxDepth+1) + `=1`, ``},
		{"too many pairs", strings.Repeat("a=1&", phpform.MaxPairs) + "a=1", ``},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := phpform.Parse(tc.body)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Parse = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				t.Fatalf("Parse(%q) = %s, want %s", tc.body, g, tc.want)
			}
		})
	}
}

// TestEncodeIsHTTPBuildQuery: what the Piggy PHP SDK sends for a run, byte for byte as PHP 8 builds it.
func TestEncodeIsHTTPBuildQuery(t *testing.T) {
	got := phpform.Encode(map[string]any{"contact_uuid": "c1", "automation_uuid": "a1",
		"data": map[string]any{"points": "5", "tags": []any{"x", "y"}}, "skip": nil})
	want := "automation_uuid=a1&contact_uuid=c1&data%5Bpoints%5D=5&data%5Btags%5D%5B0%5D=x&data%5Btags%5D%5B1%5D=y"
	if got != want {
		t.Fatalf("Encode = %s, want %s", got, want)
	}
}

// FuzzParse: Parse never panics, stays within its limits, and what it returns survives Encode and Parse
// again unchanged.
func FuzzParse(f *testing.F) {
	f.Add("a[b][]=1&a[b][]=2&c=3")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := phpform.Parse(body)
		if err != nil {
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("result is not JSON: %v", err)
		}
		again, err := phpform.Parse(phpform.Encode(v))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", phpform.Encode(v), err)
		}
		if !reflect.DeepEqual(v, again) {
			a, _ := json.Marshal(v)
			b, _ := json.Marshal(again)
			t.Fatalf("round trip changed %s into %s (via %q)", a, b, phpform.Encode(v))
		}
	})
}
