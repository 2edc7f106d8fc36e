package wql

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Match reports whether doc satisfies the query's filter (the cursor position is not a filter).
func (q *Query) Match(doc map[string]any) bool { return q.Filter.Match(doc) }

// Match reports whether doc satisfies n; a nil node matches everything.
func (n *Node) Match(doc map[string]any) bool {
	if n == nil {
		return true
	}
	switch n.Op {
	case "$and":
		for _, c := range n.Children {
			if !c.Match(doc) {
				return false
			}
		}
		return true
	case "$or":
		for _, c := range n.Children {
			if c.Match(doc) {
				return true
			}
		}
		return false
	case "$not":
		return len(n.Children) == 1 && !n.Children[0].Match(doc)
	}
	path := n.path
	if path == nil { // a Node built by hand rather than by Parse
		path = strings.Split(n.Field, ".")
	}
	raw := lookup(doc, path)
	if n.Op == "$exists" {
		want, _ := n.Value.(bool)
		return (raw != nil) == want
	}
	if s, isStr := raw.(string); isStr && (n.kind == String || n.kind == Enum) {
		return matchString(n, s) // the common case, without boxing the document value
	}
	v, ok := filterValue(n.kind, raw)
	switch n.Op {
	case "$eq":
		return ok && equal(v, n.Value)
	case "$ne":
		return !ok || !equal(v, n.Value)
	case "$lt":
		return ok && comparable(v, n.Value) && compare(v, n.Value) < 0
	case "$lte":
		return ok && comparable(v, n.Value) && compare(v, n.Value) <= 0
	case "$gt":
		return ok && comparable(v, n.Value) && compare(v, n.Value) > 0
	case "$gte":
		return ok && comparable(v, n.Value) && compare(v, n.Value) >= 0
	case "$in":
		vals, _ := n.Value.([]any)
		return ok && slices.ContainsFunc(vals, func(x any) bool { return equal(v, x) })
	case "$startsWith":
		s, isStr := v.(string)
		prefix, _ := n.Value.(string)
		return ok && isStr && strings.HasPrefix(s, prefix)
	case "$contains":
		s, isStr := v.(string)
		sub, _ := n.Value.(string)
		return ok && isStr && strings.Contains(s, sub)
	case "$hasSome", "$hasAll":
		have, isArr := v.([]string)
		want, _ := n.Value.([]string)
		if !ok || !isArr {
			return false
		}
		for _, w := range want {
			in := slices.Contains(have, w)
			if in && n.Op == "$hasSome" {
				return true
			}
			if !in && n.Op == "$hasAll" {
				return false
			}
		}
		return n.Op == "$hasAll"
	}
	return false
}

func matchString(n *Node, s string) bool {
	want, _ := n.Value.(string)
	switch n.Op {
	case "$eq":
		return s == want
	case "$ne":
		return s != want
	case "$lt":
		return s < want
	case "$lte":
		return s <= want
	case "$gt":
		return s > want
	case "$gte":
		return s >= want
	case "$in":
		vals, _ := n.Value.([]any)
		for _, x := range vals {
			if x, ok := x.(string); ok && x == s {
				return true
			}
		}
		return false
	case "$startsWith":
		return strings.HasPrefix(s, want)
	case "$contains":
		return strings.Contains(s, want)
	}
	return false
}

// lookup walks a dotted path; nil means missing or null.
func lookup(doc map[string]any, path []string) any {
	var cur any = doc
	for _, seg := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	return cur
}

// filterValue converts a document value to the field kind's comparable form; false when it is missing or
// of another type.
func filterValue(k Kind, v any) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch k {
	case String, Enum:
		s, ok := v.(string)
		return s, ok
	case Number:
		return number(v)
	case Bool:
		b, ok := v.(bool)
		return b, ok
	case Timestamp:
		switch t := v.(type) {
		case string:
			return parseTime(t)
		case time.Time:
			return float64(t.UnixMilli()), true
		}
		return nil, false
	case StringArray:
		switch a := v.(type) {
		case []string:
			return a, true
		case []any:
			ss := make([]string, 0, len(a))
			for _, e := range a {
				if s, ok := e.(string); ok {
					ss = append(ss, s)
				}
			}
			return ss, true
		}
		return nil, false
	case Object:
		_, ok := v.(map[string]any)
		return v, ok
	}
	return nil, false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// parseTime reads an RFC 3339 timestamp as Unix milliseconds, the precision the SDK sends.
func parseTime(s string) (float64, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return float64(t.UnixMilli()), true
}

func equal(a, b any) bool {
	if am, ok := a.(map[string]any); ok {
		bm, ok := b.(map[string]any)
		if !ok {
			return false
		}
		ja, err1 := json.Marshal(am)
		jb, err2 := json.Marshal(bm)
		return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
	}
	return comparable(a, b) && compare(a, b) == 0
}

func comparable(a, b any) bool { return rank(a) == rank(b) && rank(a) < 4 }

// rank orders values of different types: missing/null < bool < number < string < anything else.
func rank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case float64:
		return 2
	case string:
		return 3
	}
	return 4
}

// compare is a total order over sort keys (nil, bool, float64, string).
func compare(a, b any) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		case x == y:
			return 0
		case x != x && y != y: // both NaN (never from JSON, but keep the order total)
			return 0
		case x != x:
			return -1
		}
		return 1
	case string:
		return strings.Compare(x, b.(string))
	}
	return 0
}
