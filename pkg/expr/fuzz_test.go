package expr

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fuzzEnv keeps the budget small so that every fuzz input finishes quickly; a hang or a panic is a bug.
func fuzzEnv(payload map[string]any) *Env {
	return &Env{
		Payload:  payload,
		Now:      func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) },
		MaxSteps: 20_000,
	}
}

// checkEval evaluates twice: results must be JSON-encodable (no NaN or Inf escapes) and identical (no
// evaluation may modify the parse tree or the payload), and errors must carry context.
func checkEval(t *testing.T, eval func(*Env) (any, error), payload map[string]any) {
	v1, err1 := eval(fuzzEnv(payload))
	v2, err2 := eval(fuzzEnv(payload))
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("nondeterministic: %v / %v", err1, err2)
	}
	if err1 != nil {
		var ee *EvalError
		if !errors.As(err1, &ee) {
			t.Fatalf("error without context: %T %v", err1, err1)
		}
		return
	}
	if !reflect.DeepEqual(v1, v2) {
		t.Fatalf("nondeterministic: %#v / %#v", v1, v2)
	}
	if _, err := json.Marshal(v1); err != nil {
		t.Fatalf("result %#v is not JSON: %v", v1, err)
	}
}

func checkParseErr(t *testing.T, src string, err error) {
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("parse error is %T, want *ParseError: %v", err, err)
	}
	if pe.Pos < 0 || pe.Pos > len(src) {
		t.Fatalf("parse error position %d outside input of %d bytes", pe.Pos, len(src))
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{
		"plain", "{{10}}", `Hi {{var("contact.name.first")}}, total {{toString(var("t"))}}`,
		`{{arraySome(["a"];contains(arrayMap(var("forms");"data.id");$_))}}`, "{{ contains([\"guid1\",\"guid2\"];formId) }}",
	} {
		f.Add(s)
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(fuzzPayload), &payload); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tm, err := ParseTemplate(src)
		if err != nil {
			checkParseErr(t, src, err)
			return
		}
		_ = tm.Vars()
		if !strings.Contains(src, "{{") {
			if tm.IsDynamic() {
				t.Fatal("static text reported dynamic")
			}
			if v, err := tm.Eval(nil); err != nil || v != src {
				t.Fatalf("static text changed: %q, %v", v, err)
			}
		}
		checkEval(t, tm.Eval, payload)
	})
}

const fuzzPayload = `{"a":1,"s":"x%41","t":true,"n":null,"arr":[1,"2",{"k":[3]}],"o":{"p":{"q":"2024-01-02T03:04:05Z"}},
"forms":[{"data":{"id":"f1"}}],"big":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]}`

func FuzzEval(f *testing.F) {
	for _, s := range [][2]string{
		{`numberGt(var("a");5)`, fuzzPayload},
		{`arraySome(var("big");arraySome(var("big");eq($_;3)))`, fuzzPayload},
		{`concat(var("s");"-";toString(var("arr")))`, fuzzPayload},
		{`addToDate(var("o.p.q");0;1;-1)`, fuzzPayload},
		{`round(divide(var("a");3);2)`, `{"a":10}`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, src, payloadJSON string) {
		var payload map[string]any
		if json.Unmarshal([]byte(payloadJSON), &payload) != nil {
			payload = nil
		}
		e, err := ParseExpr(src)
		if err != nil {
			checkParseErr(t, src, err)
			return
		}
		_ = e.Vars()
		checkEval(t, e.Eval, payload)
	})
}
