package wql

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// Kind is the JSON type of a filterable field, which decides its operators and how values compare.
type Kind int

const (
	String      Kind = iota
	Number           // JSON number
	Bool             // JSON boolean
	Enum             // string restricted to Field.Enum
	StringArray      // array of strings: $hasSome/$hasAll
	Timestamp        // RFC 3339 string, compared as an instant
	Object           // a settings-like object: only $exists and $eq on the whole object
)

// Limits from reference §2.2.
const (
	MaxDepth     = 3
	MaxSort      = 5
	MaxLimit     = 500
	DefaultLimit = 50
	MaxCursorLen = 64000
)

// Field declares one dotted JSON path a query may use.
type Field struct {
	Kind     Kind
	Ops      []string // allowed operators; nil means every operator valid for the kind, empty means none
	Sortable bool
	Enum     []string // allowed values of an Enum
}

// Schema maps dotted JSON paths to what a query may do with them.
type Schema map[string]Field

// Query is a decoded, validated CursorQuery.
type Query struct {
	Filter *Node // nil matches everything
	Sort   []Sort
	Limit  int    // 1..MaxLimit
	Cursor string // the cursor this query was resumed from, if any

	schema    Schema
	after     []any      // position from the cursor: one value per Sort, then the id; nil on a first page
	sortPaths [][]string // Sort fields split on dots
}

// Sort is one sort order.
type Sort struct {
	Field string
	Desc  bool
}

// Node is one filter condition: a logical operator over Children, or a field operator with its operand.
type Node struct {
	Op       string  // $and, $or, $not, or a field operator such as $eq
	Field    string  // dotted path for field operators
	Value    any     // operand: string, float64 (timestamps: Unix ms), bool, []any ($in), []string ($hasSome/$hasAll), map ($eq on Object)
	Children []*Node // operands of $and/$or; the single operand of $not

	kind Kind
	path []string
}

var kindOps = map[Kind][]string{
	String:      {"$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$startsWith", "$contains", "$exists"},
	Number:      {"$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$exists"},
	Timestamp:   {"$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$exists"},
	Enum:        {"$eq", "$ne", "$in", "$exists"},
	Bool:        {"$eq", "$ne", "$exists"},
	StringArray: {"$hasSome", "$hasAll", "$exists"},
	Object:      {"$eq", "$exists"},
}

var fieldOps = []string{"$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$hasSome", "$hasAll", "$startsWith", "$contains", "$exists"}

func (f Field) allows(op string) bool {
	if !slices.Contains(kindOps[f.Kind], op) {
		return false
	}
	return f.Ops == nil || slices.Contains(f.Ops, op)
}

// parser collects every violation of a request rather than stopping at the first.
type parser struct {
	s  Schema
	vs []errs.FieldViolation
}

func (p *parser) add(field, rule, format string, args ...any) {
	v := errs.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...), ViolatedRule: rule}
	if !slices.Contains(p.vs, v) {
		p.vs = append(p.vs, v)
	}
}

// Parse decodes and validates the "query" object of a Query request against s. A request carrying a cursor
// gets the filter and sort the cursor was issued for.
func Parse(raw json.RawMessage, s Schema) (*Query, error) {
	q := &Query{schema: s}
	p := &parser{s: s}
	var top map[string]json.RawMessage
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &top); err != nil {
			return nil, errs.Violation("query", "FORMAT", "must be an object")
		}
	}
	limit, cursor := p.paging(top["cursorPaging"])
	var filter any
	if f := top["filter"]; len(f) > 0 && string(f) != "null" {
		if err := json.Unmarshal(f, &filter); err != nil {
			p.add("query.filter", "FORMAT", "must be an object")
		}
	}
	var sorts []any
	if so := top["sort"]; len(so) > 0 && string(so) != "null" {
		if err := json.Unmarshal(so, &sorts); err != nil {
			p.add("query.sort", "FORMAT", "must be an array")
		}
	}
	if cursor != "" {
		if m, ok := filter.(map[string]any); filter != nil && (!ok || len(m) > 0) {
			p.add("query.filter", "CURSOR_WITH_FILTER", "must not be given with a cursor: the cursor carries it")
		}
		if len(sorts) > 0 {
			p.add("query.sort", "CURSOR_WITH_SORT", "must not be given with a cursor: the cursor carries it")
		}
		if err := errs.Violations(p.vs); err != nil {
			return nil, err
		}
		c, err := decodeCursor(cursor, s)
		if err != nil {
			return nil, err
		}
		c.Cursor = cursor
		if limit > 0 {
			c.Limit = limit
		}
		return c, nil
	}
	if filter != nil {
		q.Filter = p.filter(filter)
	}
	q.Sort = p.sorts(sorts)
	q.sortPaths = splitSorts(q.Sort)
	q.Limit = limit
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if err := errs.Violations(p.vs); err != nil {
		return nil, err
	}
	return q, nil
}

func (p *parser) paging(raw json.RawMessage) (limit int, cursor string) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, ""
	}
	var cp map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cp); err != nil {
		p.add("query.cursorPaging", "FORMAT", "must be an object")
		return 0, ""
	}
	if l := cp["limit"]; len(l) > 0 && string(l) != "null" {
		var n float64
		var str string
		err := json.Unmarshal(l, &n)
		if err != nil && json.Unmarshal(l, &str) == nil { // proto3 JSON also accepts int32 as a string
			n, err = strconv.ParseFloat(str, 64)
		}
		switch {
		case err != nil || n != math.Trunc(n):
			p.add("query.cursorPaging.limit", "FORMAT", "must be an integer")
		case n < 0 || n > MaxLimit:
			p.add("query.cursorPaging.limit", "MAX", "must be between 1 and %d", MaxLimit)
		default:
			limit = int(n)
		}
	}
	if c := cp["cursor"]; len(c) > 0 && string(c) != "null" {
		if err := json.Unmarshal(c, &cursor); err != nil {
			p.add("query.cursorPaging.cursor", "FORMAT", "must be a string")
		} else if len(cursor) > MaxCursorLen {
			p.add("query.cursorPaging.cursor", "MAX_LENGTH", "must be at most %d characters", MaxCursorLen)
			cursor = ""
		}
	}
	return limit, cursor
}

func (p *parser) sorts(raw []any) []Sort {
	if len(raw) > MaxSort {
		p.add("query.sort", "MAX_SIZE", "must have at most %d items", MaxSort)
		return nil
	}
	var out []Sort
	for i, r := range raw {
		at := fmt.Sprintf("query.sort[%d]", i)
		m, ok := r.(map[string]any)
		if !ok {
			p.add(at, "FORMAT", "must be an object")
			continue
		}
		name, _ := m["fieldName"].(string)
		f, known := p.s[name]
		switch {
		case name == "":
			p.add(at+".fieldName", "REQUIRED_FIELD", "must be a non-empty string")
			continue
		case !known || !f.Sortable:
			p.add(at+".fieldName", "UNSUPPORTED_FIELD", "%q is not a sortable field", name)
			continue
		case slices.ContainsFunc(out, func(s Sort) bool { return s.Field == name }):
			p.add(at+".fieldName", "DUPLICATE", "%q is already sorted on", name)
			continue
		}
		var desc bool
		switch o := m["order"]; o {
		case nil, "ASC", "":
		case "DESC":
			desc = true
		default:
			p.add(at+".order", "FORMAT", "must be ASC or DESC")
			continue
		}
		out = append(out, Sort{Field: name, Desc: desc})
	}
	return out
}

func (p *parser) filter(v any) *Node {
	m, ok := v.(map[string]any)
	if !ok {
		p.add("query.filter", "FORMAT", "must be an object")
		return nil
	}
	n := p.object(m, 1)
	if n != nil && n.Op == "$and" && len(n.Children) == 0 {
		return nil
	}
	return n
}

// object parses one filter object; nil means it had errors. An empty object is an empty $and (true).
func (p *parser) object(m map[string]any, depth int) *Node {
	if depth > MaxDepth {
		p.add("query.filter", "MAX_DEPTH", "must not be nested deeper than %d levels", MaxDepth)
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a canonical order keeps SQL and cursors deterministic
	var parts []*Node
	bad := false
	keep := func(n *Node) {
		if n == nil {
			bad = true
			return
		}
		parts = append(parts, n)
	}
	for _, k := range keys {
		v := m[k]
		switch {
		case k == "$and" || k == "$or":
			arr, ok := v.([]any)
			if !ok || len(arr) == 0 {
				p.add("query.filter."+k, "FORMAT", "must be a non-empty array of filter objects")
				bad = true
				continue
			}
			n := &Node{Op: k}
			for _, el := range arr {
				em, ok := el.(map[string]any)
				if !ok {
					p.add("query.filter."+k, "FORMAT", "must be a non-empty array of filter objects")
					bad = true
					continue
				}
				if c := p.object(em, depth+1); c != nil {
					n.Children = append(n.Children, c)
				} else {
					bad = true
				}
			}
			keep(n)
		case k == "$not":
			em, ok := v.(map[string]any)
			if !ok {
				p.add("query.filter.$not", "FORMAT", "must be a filter object")
				bad = true
				continue
			}
			if c := p.object(em, depth+1); c != nil {
				keep(&Node{Op: "$not", Children: []*Node{c}})
			} else {
				bad = true
			}
		case strings.HasPrefix(k, "$"):
			p.add("query.filter."+k, "UNSUPPORTED_OPERATOR", "%s is not a supported operator", k)
			bad = true
		default:
			for _, n := range p.field(k, v) {
				keep(n)
			}
		}
	}
	if bad {
		return nil
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return &Node{Op: "$and", Children: parts}
}

// field parses the conditions on one field: a bare value (implicit $eq) or an object of operators.
func (p *parser) field(path string, v any) []*Node {
	at := "query.filter." + path
	f, ok := p.s[path]
	if !ok || (f.Ops != nil && len(f.Ops) == 0) {
		p.add(at, "UNSUPPORTED_FIELD", "%q is not a filterable field", path)
		return []*Node{nil}
	}
	m, isObj := v.(map[string]any)
	if !isObj || !hasOperator(m) {
		return []*Node{p.leaf(path, f, "$eq", v)}
	}
	ops := make([]string, 0, len(m))
	for op := range m {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	out := make([]*Node, 0, len(ops))
	for _, op := range ops {
		if !strings.HasPrefix(op, "$") {
			p.add(at, "FORMAT", "must not mix operators and field names")
			out = append(out, nil)
			continue
		}
		out = append(out, p.leaf(path, f, op, m[op]))
	}
	return out
}

func hasOperator(m map[string]any) bool {
	for k := range m {
		if strings.HasPrefix(k, "$") {
			return true
		}
	}
	return false
}

func (p *parser) leaf(path string, f Field, op string, v any) *Node {
	at := "query.filter." + path
	if !slices.Contains(fieldOps, op) {
		p.add(at, "UNSUPPORTED_OPERATOR", "%s is not a supported operator", op)
		return nil
	}
	if !f.allows(op) {
		p.add(at, "UNSUPPORTED_OPERATOR", "operator %s is not supported on this field", op)
		return nil
	}
	n := &Node{Op: op, Field: path, kind: f.Kind, path: strings.Split(path, ".")}
	var ok bool
	switch op {
	case "$exists":
		n.Value, ok = v.(bool)
		if !ok {
			p.add(at, "INVALID_TYPE", "%s takes true or false", op)
			return nil
		}
	case "$startsWith", "$contains":
		n.Value, ok = v.(string)
		if !ok {
			p.add(at, "INVALID_TYPE", "%s takes a string", op)
			return nil
		}
	case "$hasSome", "$hasAll":
		arr, _ := v.([]any)
		var ss []string
		for _, e := range arr {
			s, isStr := e.(string)
			if !isStr {
				arr = nil
				break
			}
			if !slices.Contains(ss, s) {
				ss = append(ss, s)
			}
		}
		if len(arr) == 0 {
			p.add(at, "INVALID_TYPE", "%s takes a non-empty array of strings", op)
			return nil
		}
		n.Value = ss
	case "$in":
		arr, _ := v.([]any)
		if len(arr) == 0 {
			p.add(at, "INVALID_TYPE", "$in takes a non-empty array")
			return nil
		}
		vals := make([]any, len(arr))
		for i, e := range arr {
			if vals[i], ok = p.operand(at, f, e); !ok {
				return nil
			}
		}
		n.Value = vals
	default:
		if n.Value, ok = p.operand(at, f, v); !ok {
			return nil
		}
	}
	return n
}

// operand checks a comparison value against the field's kind and returns it in comparable form.
func (p *parser) operand(at string, f Field, v any) (any, bool) {
	switch f.Kind {
	case String:
		if s, ok := v.(string); ok {
			return s, true
		}
		p.add(at, "INVALID_TYPE", "must be a string")
	case Enum:
		s, ok := v.(string)
		if ok && (len(f.Enum) == 0 || slices.Contains(f.Enum, s)) {
			return s, true
		}
		p.add(at, "INVALID_TYPE", "must be one of %s", strings.Join(f.Enum, ", "))
	case Number:
		if x, ok := v.(float64); ok {
			return x, true
		}
		p.add(at, "INVALID_TYPE", "must be a number")
	case Bool:
		if b, ok := v.(bool); ok {
			return b, true
		}
		p.add(at, "INVALID_TYPE", "must be true or false")
	case Timestamp:
		if m, ok := v.(map[string]any); ok && len(m) == 1 {
			v = m["$date"]
		}
		if s, ok := v.(string); ok {
			if ms, ok := parseTime(s); ok {
				return ms, true
			}
		}
		p.add(at, "INVALID_TYPE", "must be an RFC 3339 timestamp")
	case Object:
		if m, ok := v.(map[string]any); ok {
			return m, true
		}
		p.add(at, "INVALID_TYPE", "must be an object")
	default:
		p.add(at, "INVALID_TYPE", "cannot be compared")
	}
	return nil, false
}

func splitSorts(ss []Sort) [][]string {
	out := make([][]string, len(ss))
	for i, s := range ss {
		out[i] = strings.Split(s.Field, ".")
	}
	return out
}
