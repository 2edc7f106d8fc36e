package expr

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testPayload is shared read-only by the tests; evaluation must never modify it.
func testPayload(t testing.TB) map[string]any {
	t.Helper()
	const js = `{
	  "formId": "guid2",
	  "price": 42,
	  "qty": "3",
	  "flag": true,
	  "empty": "",
	  "nothing": null,
	  "tags": ["vip", "new"],
	  "nums": [3, 1, 2, 10],
	  "formIds": ["f1", "f2"],
	  "forms": [{"data": {"id": "f1"}}, {"data": {"id": "f3"}}, {"other": 1}],
	  "contact": {"id": "c-1", "email": "a@b.com", "name": {"first": "Ada", "last": "Lovelace"}},
	  "account": {"points": {"balance": 120}},
	  "order-info": {"total-price": 99.5},
	  "when": "2024-03-10T22:30:00Z",
	  "whenMs": 1710109800000,
	  "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 5}]
	}`
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func testEnv(t testing.TB) *Env {
	return &Env{
		Payload: testPayload(t),
		Now:     func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC) },
	}
}

type evalCase struct {
	src  string
	want any
	err  string // substring of the expected error; "" means success
}

func runTemplateCases(t *testing.T, cases []evalCase) {
	t.Helper()
	env := testEnv(t)
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			tm, err := ParseTemplate(c.src)
			if err == nil {
				var got any
				got, err = tm.Eval(env)
				if err == nil {
					if c.err != "" {
						t.Fatalf("got %#v, want error containing %q", got, c.err)
					}
					if !reflect.DeepEqual(got, c.want) {
						t.Fatalf("got %#v (%T), want %#v (%T)", got, got, c.want, c.want)
					}
					return
				}
			}
			if c.err == "" {
				t.Fatalf("unexpected error: %v", err)
			}
			if !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %q does not contain %q", err, c.err)
			}
		})
	}
}

func TestTemplateForms(t *testing.T) {
	t.Parallel()
	runTemplateCases(t, []evalCase{
		// Static values come back unchanged.
		{src: "", want: ""},
		{src: "plain text", want: "plain text"},
		{src: "a }} b", want: "a }} b"},
		{src: "100% sure", want: "100% sure"},
		// Literals.
		{src: "{{10}}", want: 10.0},
		{src: "{{-3}}", want: -3.0},
		{src: "{{12.5}}", want: 12.5},
		{src: "{{0.5}}", want: 0.5},
		{src: "{{.5}}", want: 0.5},
		{src: "{{1e3}}", want: 1000.0},
		{src: "{{true}}", want: true},
		{src: "{{false}}", want: false},
		{src: "{{null}}", want: nil},
		{src: `{{"text"}}`, want: "text"},
		{src: `{{'single'}}`, want: "single"},
		{src: `{{"a%40b.com"}}`, want: "a@b.com"},
		{src: `{{"Hello%2C%20world%20%F0%9F%91%8B"}}`, want: "Hello, world 👋"},
		{src: `{{"100% sure"}}`, want: "100% sure"},
		{src: `{{"%zz and %41"}}`, want: "%zz and A"},
		{src: `{{"%FF"}}`, want: "%FF"},
		{src: `{{"a}}b"}}`, want: "a}}b"},
		{src: `{{"say \"hi\""}}`, want: `say "hi"`},
		{src: `{{["a","b"]}}`, want: []any{"a", "b"}},
		{src: `{{[1,2]}}`, want: []any{1.0, 2.0}},
		{src: `{{[]}}`, want: []any{}},
		{src: `{{[1;"x";[true]]}}`, want: []any{1.0, "x", []any{true}}},
		{src: `{{[var("price"), 1]}}`, want: []any{42.0, 1.0}},
		// Single expression with surrounding whitespace keeps its type.
		{src: "  {{ 10 }}\n", want: 10.0},
		// var() and legacy paths.
		{src: `{{var("contact.name.first")}}`, want: "Ada"},
		{src: `{{var('contact.name.first')}}`, want: "Ada"},
		{src: `{{ var( "contact.email" ) }}`, want: "a@b.com"},
		{src: `{{var(contact.email)}}`, want: "a@b.com"},
		{src: "{{contact.email}}", want: "a@b.com"},
		{src: "{{ formId }}", want: "guid2"},
		{src: "{{order-info.total-price}}", want: 99.5},
		{src: `{{var("order-info.total-price")}}`, want: 99.5},
		{src: `{{var("contact.name")}}`, want: map[string]any{"first": "Ada", "last": "Lovelace"}},
		{src: `{{var("missing.path")}}`, want: nil},
		{src: `{{var("contact.email.deeper")}}`, want: nil},
		{src: `{{var("")}}`, want: nil},
		{src: "{{nothing}}", want: nil},
		{src: "{{$.contact.id}}", want: "c-1"},
		// Text with several expressions.
		{src: "Hi {{contact.name.first}}, thanks for contacting our business", want: "Hi Ada, thanks for contacting our business"},
		{src: `Hi {{var("contact.name.first")}}, total {{toString(var("price"))}}`, want: "Hi Ada, total 42"},
		{src: "{{contact.name.first}} {{contact.name.last}}", want: "Ada Lovelace"},
		{src: "x{{1}}", want: "x1"},
		{src: "{{1}}{{2}}", want: "12"},
		{src: "[{{missing}}]", want: "[]"},
		{src: "{{flag}}/{{12.50}}/{{1e21}}/{{0.0000001}}", want: "true/12.5/1e+21/1e-7"},
		{src: "tags={{tags}} c={{contact.name}}", want: `tags=["vip","new"] c={"first":"Ada","last":"Lovelace"}`},
		{src: "<{{concat(\"a&b\";\"<c>\")}}>", want: "<a&b<c>>"},
		// concat / toString / toNumber.
		{src: `{{concat(var("contact.name.first");" - ";var("contact.name.last"))}}`, want: "Ada - Lovelace"},
		{src: `{{concat("n=";price;", ok=";flag;", none=";missing)}}`, want: "n=42, ok=true, none="},
		{src: `{{concat("a","b")}}`, want: "ab"},
		{src: `{{concat(tags;"!")}}`, want: `["vip","new"]!`},
		{src: `{{toString(42)}}`, want: "42"},
		{src: `{{toString(12.5)}}`, want: "12.5"},
		{src: `{{toString(true)}}`, want: "true"},
		{src: `{{toString(missing)}}`, want: ""},
		{src: `{{toString(["a",1])}}`, want: `["a",1]`},
		{src: `{{toNumber("12.5")}}`, want: 12.5},
		{src: `{{toNumber(" 7 ")}}`, want: 7.0},
		{src: `{{toNumber(qty)}}`, want: 3.0},
		{src: `{{toNumber(price)}}`, want: 42.0},
		{src: `{{toNumber(true)}}`, want: 1.0},
		{src: `{{toNumber(missing)}}`, want: nil},
		{src: `{{toNumber("")}}`, want: nil},
		{src: `{{toNumber("abc")}}`, err: `toNumber at offset 2: arg 1: expected a number, got string "abc"`},
		{src: `{{toNumber(tags)}}`, err: "expected a number, got array"},
		// Function names are matched case-insensitively, argument separators may be ',' (legacy).
		{src: `{{CONCAT("a";"b")}}`, want: "ab"},
		// §5.1 SDK examples, verbatim.
		{src: "{{multiply( var('account.points.balance') ;2 )}}", want: 240.0},
		{src: `{{ contains(["guid1","guid2"];formId) }}`, want: true},
		{src: "{{and(gt(price;10);lt(price;100))}}", want: true},
		{src: "{{contact.id}}", want: "c-1"},
		{src: "{{$}}", want: testPayload(t)},
	})
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src string
		pos int
		msg string
	}{
		{"{{", 2, "expected an expression"},
		{"{{}}", 2, "expected an expression"},
		{"{{ }}", 3, "expected an expression"},
		{"abc {{1", 4, "unterminated {{"},
		{"{{1 2}}", 4, `expected }}, found '2'`},
		{"{{foo(1)}}", 2, `unknown function "foo"`},
		{"Hi {{ nope(1) }}", 6, `unknown function "nope"`},
		{`{{"abc}}`, 2, "unterminated string"},
		{"{{concat(1)}}", 2, "concat takes at least 2 arguments, got 1"},
		{"{{not(1;2)}}", 2, "not takes 1 argument, got 2"},
		{"{{now(1)}}", 2, "now takes no arguments"},
		{"{{round()}}", 2, "round takes 1 to 2 arguments"},
		{"{{var(1)}}", 6, "var takes one string literal path"},
		{`{{var("a";"b")}}`, 2, "var takes 1 argument"},
		{"{{concat(1;2}}", 12, "expected ';' or ')' in call to concat"},
		{"{{concat(1;2", 2, "unterminated call"},
		{"{{[1,2}}", 6, "expected ',' or ']'"},
		{"{{-}}", 2, "invalid number"},
		{"{{1e999}}", 2, "number out of range"},
		{"{{$_}}", 2, "$_ is only defined inside"},
		{"{{$x}}", 2, "unknown variable"},
		{"{{a.}}", 4, "expected a path segment"},
		{"{{@}}", 2, "expected an expression, found '@'"},
		{"{{{x}}}", 2, "expected an expression, found '{'"},
		{"ok {{1}} then {{concat(}} ", 23, "expected an expression"},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			_, err := ParseTemplate(c.src)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want *ParseError, got %v", err)
			}
			if pe.Pos != c.pos || !strings.Contains(pe.Msg, c.msg) {
				t.Fatalf("got pos %d %q, want pos %d containing %q", pe.Pos, pe.Msg, c.pos, c.msg)
			}
		})
	}
}

func TestTemplateIntrospection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src             string
		dynamic, single bool
		vars            []string
	}{
		{"plain", false, false, nil},
		{" {{1}} ", true, true, nil},
		{"a {{1}}", true, false, nil},
		{"{{1}}{{2}}", true, false, nil},
		{`Hi {{contact.name.first}} {{var("contact.name.first")}} {{concat(var("a");$.b.c;x)}}`, true, false,
			[]string{"contact.name.first", "a", "b.c", "x"}},
		{`{{arraySome(["a"];contains(arrayMap(var("forms");"data.id");$_))}}`, true, true, []string{"forms"}},
	}
	for _, c := range cases {
		tm, err := ParseTemplate(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if tm.IsDynamic() != c.dynamic || tm.IsSingle() != c.single || !reflect.DeepEqual(tm.Vars(), c.vars) {
			t.Errorf("%s: dynamic=%v single=%v vars=%q", c.src, tm.IsDynamic(), tm.IsSingle(), tm.Vars())
		}
		if tm.String() != c.src {
			t.Errorf("String() = %q", tm.String())
		}
	}
}

func TestParseExpr(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	e, err := ParseExpr(` numberGt(var("price");5) `)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := e.Eval(env); err != nil || v != true {
		t.Fatalf("got %v, %v", v, err)
	}
	if !reflect.DeepEqual(e.Vars(), []string{"price"}) {
		t.Fatalf("vars %q", e.Vars())
	}
	for src, pos := range map[string]int{"": 0, "1 2": 2, "{{1}}": 0, "concat(1;": 9} {
		var pe *ParseError
		if _, err := ParseExpr(src); !errors.As(err, &pe) || pe.Pos != pos {
			t.Errorf("ParseExpr(%q): %v, want ParseError at %d", src, err, pos)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	p := testPayload(t)
	cases := []struct {
		path string
		want any
		ok   bool
	}{
		{"contact.name.first", "Ada", true},
		{"order-info.total-price", 99.5, true},
		{"nothing", nil, true},
		{"missing", nil, false},
		{"contact.email.x", nil, false},
		{"tags.0", nil, false},
		{"", nil, false},
		{"contact.", nil, false},
	}
	for _, c := range cases {
		got, ok := Lookup(p, c.path)
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", c.path, got, ok, c.want, c.ok)
		}
	}
	if _, ok := Lookup(nil, "a"); ok {
		t.Error("Lookup on nil payload found something")
	}
}

func TestEvalMapping(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	var mapping any
	if err := json.Unmarshal([]byte(`{
		"to": "{{contact.email}}",
		"count": "{{multiply(var('account.points.balance');2)}}",
		"static": "hello",
		"n": 5, "b": false, "z": null,
		"body": {"text": "Hi {{contact.name.first}}", "list": ["{{price}}", 1, {"k": "{{flag}}"}]},
		"someField": "{{10}}"
	}`), &mapping); err != nil {
		t.Fatal(err)
	}
	got, err := EvalMapping(mapping, env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"to": "a@b.com", "count": 240.0, "static": "hello", "n": 5.0, "b": false, "z": nil,
		"body":      map[string]any{"text": "Hi Ada", "list": []any{42.0, 1.0, map[string]any{"k": true}}},
		"someField": 10.0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	m, err := ParseMapping(mapping)
	if err != nil {
		t.Fatal(err)
	}
	wantVars := []string{"price", "flag", "contact.name.first", "account.points.balance", "contact.email"}
	if !reflect.DeepEqual(m.Vars(), wantVars) {
		t.Fatalf("vars %q", m.Vars())
	}

	// Errors name the JSON path of the failing string.
	errCases := []struct {
		mapping any
		path    string
	}{
		{map[string]any{"body": map[string]any{"text": "{{nope()}}"}}, "body.text"},
		{map[string]any{"body": map[string]any{"text": "{{divide(1;0)}}"}}, "body.text"},
		{map[string]any{"items": []any{"ok", map[string]any{"name": "{{x"}}}, "items[1].name"},
		{"{{toNumber(\"x\")}}", ""},
	}
	for _, c := range errCases {
		_, err := EvalMapping(c.mapping, env)
		var me *MappingError
		if !errors.As(err, &me) || me.Path != c.path {
			t.Errorf("%v: got %v, want MappingError at %q", c.mapping, err, c.path)
		}
	}
}

// Results must never alias the payload: the engine merges them back into it.
func TestResultsDoNotAliasPayload(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	got, err := EvalMapping(map[string]any{"author": "{{$}}", "name": "{{contact.name}}", "lit": "{{[1,2]}}"}, env)
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	m["author"].(map[string]any)["formId"] = "changed"
	m["name"].(map[string]any)["first"] = "changed"
	if env.Payload["formId"] != "guid2" || env.Payload["contact"].(map[string]any)["name"].(map[string]any)["first"] != "Ada" {
		t.Fatal("result aliases the payload")
	}
	tm, _ := ParseTemplate("{{[1,2]}}")
	v, _ := tm.Eval(env)
	v.([]any)[0] = "changed"
	if v2, _ := tm.Eval(env); v2.([]any)[0] != 1.0 {
		t.Fatal("result aliases the parse tree")
	}
}

func TestEvalBoolAndNumber(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	bools := []struct {
		src  string
		want bool
		err  bool
	}{
		{"{{true}}", true, false},
		{`{{numberGt(var("price");5)}}`, true, false},
		{"{{missing}}", false, false},
		{"true", true, false},
		{"{{flag}}", true, false},
		{"{{price}}", false, true},
		{"yes", false, true},
	}
	for _, c := range bools {
		tm, err := ParseTemplate(c.src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tm.EvalBool(env)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("EvalBool(%s) = %v, %v", c.src, got, err)
		}
	}
	nums := []struct {
		src    string
		want   float64
		ok, er bool
	}{
		{"{{3}}", 3, true, false},
		{"24", 24, true, false},
		{" {{ multiply(qty;2) }} ", 6, true, false},
		{"{{missing}}", 0, false, false},
		{"", 0, false, false},
		{"{{tags}}", 0, false, true},
		{"three", 0, false, true},
	}
	for _, c := range nums {
		tm, err := ParseTemplate(c.src)
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := tm.EvalNumber(env)
		if got != c.want || ok != c.ok || (err != nil) != c.er {
			t.Errorf("EvalNumber(%s) = %v, %v, %v", c.src, got, ok, err)
		}
	}
}

// Payloads built in Go (not decoded from JSON) may hold values JSON cannot; they must fail cleanly.
func TestGoBuiltPayloads(t *testing.T) {
	t.Parallel()
	cyclic := map[string]any{"a": 1.0}
	cyclic["self"] = cyclic
	payload := map[string]any{
		"cyclic": cyclic, "nan": math.NaN(), "inf": math.Inf(1), "i": 7, "u8": uint8(2), "num": json.Number("1.5"),
	}
	env := &Env{Payload: payload}
	for _, c := range []struct {
		src  string
		want any // nil with ok=false means an error is expected
		ok   bool
	}{
		{"{{cyclic.self.self.a}}", 1.0, true},
		{"{{$}}", nil, false},
		{"{{toString(cyclic)}}", nil, false},
		{"{{sum(nan;1)}}", nil, false},
		{"{{substring(\"abc\";nan;inf)}}", nil, false},
		{"{{addToDate(\"2024-01-01\";nan;0;0)}}", nil, false},
		{"{{sum(i;u8;num)}}", 10.5, true},
		{"{{i}}/{{num}}", "7/1.5", true},
		{"{{contains([7];i)}}", true, true},
	} {
		tm, err := ParseTemplate(c.src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tm.Eval(env)
		if c.ok && (err != nil || !reflect.DeepEqual(got, c.want)) {
			t.Errorf("%s = %#v, %v; want %#v", c.src, got, err, c.want)
		}
		if !c.ok {
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Errorf("%s = %#v, %v; want an EvalError", c.src, got, err)
			}
		}
	}
}
