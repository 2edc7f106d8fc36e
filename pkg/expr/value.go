package expr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Values are JSON-shaped: nil, bool, float64, string, []any, map[string]any. Payloads built in Go may also
// hold other integer or float types and json.Number; the helpers below accept those too.

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	if _, ok := numeric(v); ok {
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// numeric reports v as a float64 if it is a Go number (not a numeric string).
func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

// toNum converts an argument to a number. present is false for an absent value (nil or ""), which
// functions propagate instead of failing. Numeric strings are accepted because form payloads often carry
// numbers as text.
func toNum(v any) (f float64, present bool, err error) {
	if v == nil {
		return 0, false, nil
	}
	if f, ok := numeric(v); ok {
		if math.IsInf(f, 0) || math.IsNaN(f) { // only possible in payloads built in Go, not from JSON
			return 0, false, fmt.Errorf("expected a finite number, got %v", f)
		}
		return f, true, nil
	}
	if s, ok := v.(string); ok {
		t := strings.TrimSpace(s)
		if t == "" {
			return 0, false, nil
		}
		f, err := strconv.ParseFloat(t, 64)
		if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, true, nil
		}
		return 0, false, fmt.Errorf("expected a number, got string %s", quoteShort(s))
	}
	return 0, false, fmt.Errorf("expected a number, got %s", typeName(v))
}

// num wraps an arithmetic result, refusing the values JSON cannot carry.
func num(f float64) (any, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("numeric overflow")
	}
	if f == 0 {
		f = 0 // no -0 in results: it would print as "-0" in JSON
	}
	return f, nil
}

// toBool converts a condition value. nil (a missing field) is false; "true"/"false" strings are accepted
// because payloads built from form input carry booleans as text.
func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
		return false, fmt.Errorf("expected a boolean, got string %s", quoteShort(x))
	}
	return false, fmt.Errorf("expected a boolean, got %s", typeName(v))
}

// toStr converts a text-function argument. Scalars are stringified; arrays and objects are an error
// because their JSON text is almost never what a text function was meant to receive.
func toStr(v any) (s string, present bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case []any, map[string]any:
		return "", false, fmt.Errorf("expected a string, got %s", typeName(v))
	}
	s, err = toText(v)
	return s, true, err
}

func quoteShort(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// toText stringifies a value for text output: numbers without a trailing .0, booleans as true/false, nil
// as the empty string (a missing field maps to empty), arrays and objects as JSON.
func toText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return fmtNum(x), nil
	case json.Number:
		return string(x), nil
	}
	if f, ok := numeric(v); ok {
		return fmtNum(f), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // text goes to emails and messages, not HTML; keep & < > readable
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("cannot stringify %s: %v", typeName(v), err)
	}
	if b.Len() > MaxStringLen+1 {
		return "", ErrTooLarge
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// fmtNum formats like JavaScript's Number#toString, which is what Wix users see: integral values without
// a fraction, exponent notation only below 1e-6 and from 1e21.
func fmtNum(f float64) string {
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a < 1e-6 || a >= 1e21 {
		s := strconv.FormatFloat(f, 'g', -1, 64)
		// Go writes e-07 / e+21; JavaScript writes e-7 / e+21.
		if i := strings.IndexByte(s, 'e'); i >= 0 && i+2 < len(s) {
			exp := strings.TrimLeft(s[i+2:], "0")
			s = s[:i+2] + exp
		}
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// maxCopyDepth is deeper than encoding/json will decode (10,000), so it only stops cyclic values a Go
// caller built by mistake, which would otherwise overflow the stack.
const maxCopyDepth = 10_001

// deepCopy copies maps and slices so results handed to callers never alias the payload or the parse tree.
func deepCopy(v any) (any, error) {
	return copyDepth(v, 0)
}

func copyDepth(v any, depth int) (any, error) {
	if depth > maxCopyDepth {
		return nil, fmt.Errorf("value nested deeper than %d levels: %w", maxCopyDepth, ErrTooLarge)
	}
	var err error
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x, nil
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			if m[k], err = copyDepth(e, depth+1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case []any:
		if x == nil {
			return x, nil
		}
		s := make([]any, len(x))
		for i, e := range x {
			if s[i], err = copyDepth(e, depth+1); err != nil {
				return nil, err
			}
		}
		return s, nil
	}
	return v, nil
}

// equal is the element equality of contains and the arrayIncludes family: JSON deep equality, except that
// a number equals a string holding the same number and a boolean equals "true"/"false" — trigger filter
// values are saved as strings while payload fields may be typed.
func (ev *evaluator) equal(a, b any) (bool, error) {
	if err := ev.step(0); err != nil {
		return false, err
	}
	if fa, ok := numeric(a); ok {
		if fb, ok := numeric(b); ok {
			return fa == fb, nil
		}
		if s, ok := b.(string); ok {
			fb, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			return err == nil && fa == fb, nil
		}
		return false, nil
	}
	switch x := a.(type) {
	case nil:
		return b == nil, nil
	case string:
		switch y := b.(type) {
		case string:
			return x == y, nil
		case bool:
			return strings.EqualFold(strings.TrimSpace(x), strconv.FormatBool(y)), nil
		}
		if _, ok := numeric(b); ok {
			return ev.equal(b, a)
		}
		return false, nil
	case bool:
		switch y := b.(type) {
		case bool:
			return x == y, nil
		case string:
			return ev.equal(b, a)
		}
		return false, nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false, nil
		}
		for i := range x {
			if eq, err := ev.equal(x[i], y[i]); err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false, nil
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok {
				return false, nil
			}
			if eq, err := ev.equal(xv, yv); err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	}
	return false, nil
}

// asList applies JSONata's sequence rule to array arguments: nil is an empty list and a scalar is a list of
// one, so a filter keeps working when a field holds one value instead of an array.
func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}
