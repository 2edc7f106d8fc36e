package wql

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// Less orders documents by the query's sort, then by id ascending, so the order is total and stable
// across pages.
func (q *Query) Less(a, b map[string]any) bool { return q.cmp(q.key(a), q.key(b)) < 0 }

// Page filters docs, orders them, skips up to the cursor position and returns at most Limit of them with
// the cursor of the next page ("" when there is none).
func (q *Query) Page(docs []map[string]any) (page []map[string]any, next string, err error) {
	type keyed struct {
		doc map[string]any
		key []any
	}
	var hits []keyed
	for _, d := range docs {
		if !q.Filter.Match(d) {
			continue
		}
		k := q.key(d)
		if q.after != nil && q.cmp(k, q.after) <= 0 {
			continue
		}
		hits = append(hits, keyed{d, k})
	}
	slices.SortFunc(hits, func(a, b keyed) int { return q.cmp(a.key, b.key) })
	limit := q.limit()
	more := len(hits) > limit
	if more {
		hits = hits[:limit]
	}
	page = make([]map[string]any, len(hits))
	for i, h := range hits {
		page[i] = h.doc
	}
	if more {
		next, err = q.encodeCursor(hits[len(hits)-1].key)
	}
	return page, next, err
}

// CursorAfter returns the cursor of the page that follows doc, for stores that read pages with [Query.SQL]
// (fetch Limit+1 rows; when the extra row exists, the cursor is CursorAfter(the Limit-th row)).
func (q *Query) CursorAfter(doc map[string]any) (string, error) { return q.encodeCursor(q.key(doc)) }

func (q *Query) limit() int {
	if q.Limit <= 0 {
		return DefaultLimit
	}
	return q.Limit
}

// key is a document's position: one sort key per Sort, then its id.
func (q *Query) key(doc map[string]any) []any {
	k := make([]any, len(q.Sort)+1)
	for i, s := range q.Sort {
		f, ok := q.schema[s.Field]
		if !ok {
			f.Kind = -1
		}
		k[i] = sortKey(f.Kind, lookup(doc, q.sortPath(i)))
	}
	k[len(q.Sort)] = sortKey(-1, doc["id"])
	return k
}

func (q *Query) sortPath(i int) []string {
	if len(q.sortPaths) == len(q.Sort) {
		return q.sortPaths[i]
	}
	return strings.Split(q.Sort[i].Field, ".")
}

func (q *Query) cmp(a, b []any) int {
	for i, s := range q.Sort {
		if c := compare(a[i], b[i]); c != 0 {
			if s.Desc {
				return -c
			}
			return c
		}
	}
	return compare(a[len(a)-1], b[len(b)-1])
}

// sortKey reduces a document value to nil, bool, float64 or string: timestamps to Unix ms, arrays and
// objects to their JSON text.
func sortKey(k Kind, v any) any {
	if v == nil {
		return nil
	}
	if k == Timestamp {
		switch t := v.(type) {
		case string:
			if ms, ok := parseTime(t); ok {
				return ms
			}
		case time.Time:
			return float64(t.UnixMilli())
		}
	}
	switch x := v.(type) {
	case string, bool:
		return x
	}
	if f, ok := number(v); ok {
		return f
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

// cursorDoc is the JSON inside a cursor. V lets a later format reject old cursors cleanly.
type cursorDoc struct {
	V int             `json:"v"`
	F json.RawMessage `json:"f,omitempty"`
	S []any           `json:"s,omitempty"`
	L int             `json:"l"`
	A []any           `json:"a"`
}

const cursorVersion = 1

func (q *Query) encodeCursor(after []any) (string, error) {
	c := cursorDoc{V: cursorVersion, L: q.limit(), A: after}
	if q.Filter != nil {
		f, err := json.Marshal(q.Filter.wire())
		if err != nil {
			return "", errs.New(errs.Internal, "", "encode cursor filter: %v", err)
		}
		c.F = f
	}
	for _, s := range q.Sort {
		order := "ASC"
		if s.Desc {
			order = "DESC"
		}
		c.S = append(c.S, map[string]any{"fieldName": s.Field, "order": order})
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", errs.New(errs.Internal, "", "encode cursor: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(cursor string, s Schema) (*Query, error) {
	bad := errs.Violation("query.cursorPaging.cursor", "FORMAT", "is not a cursor this server issued")
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, bad
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c cursorDoc
	if err := dec.Decode(&c); err != nil || dec.More() || c.V != cursorVersion || c.L < 1 || c.L > MaxLimit {
		return nil, bad
	}
	p := &parser{s: s}
	q := &Query{schema: s, Limit: c.L}
	if len(c.F) > 0 && string(c.F) != "null" {
		var f any
		if json.Unmarshal(c.F, &f) != nil {
			return nil, bad
		}
		q.Filter = p.filter(f)
	}
	q.Sort = p.sorts(c.S)
	q.sortPaths = splitSorts(q.Sort)
	if len(p.vs) > 0 || len(c.A) != len(q.Sort)+1 || len(c.S) != len(q.Sort) {
		return nil, bad
	}
	for _, v := range c.A {
		if rank(v) > 3 {
			return nil, bad
		}
	}
	q.after = c.A
	return q, nil
}

// wire renders a node back to WQL JSON, the form cursors carry.
func (n *Node) wire() map[string]any {
	switch n.Op {
	case "$and", "$or":
		if n.Op == "$and" && len(n.Children) == 0 {
			return map[string]any{}
		}
		cs := make([]any, len(n.Children))
		for i, c := range n.Children {
			cs[i] = c.wire()
		}
		if n.Op == "$and" {
			if m, ok := mergeAnd(cs); ok {
				return m
			}
		}
		return map[string]any{n.Op: cs}
	case "$not":
		var c map[string]any
		if len(n.Children) == 1 {
			c = n.Children[0].wire()
		}
		return map[string]any{"$not": c}
	}
	v := n.Value
	if n.kind == Timestamp {
		v = wireTime(v)
	}
	return map[string]any{n.Field: map[string]any{n.Op: v}}
}

// mergeAnd folds the operands of an $and back into one object, as the parser found them, so a cursor's
// filter is no deeper than the request's; false when two operands use the same key the same way.
func mergeAnd(cs []any) (map[string]any, bool) {
	out := map[string]any{}
	for _, c := range cs {
		for k, v := range c.(map[string]any) {
			prev, dup := out[k]
			if !dup {
				out[k] = v
				continue
			}
			pm, ok1 := prev.(map[string]any)
			vm, ok2 := v.(map[string]any)
			if !ok1 || !ok2 || strings.HasPrefix(k, "$") || !hasOperator(pm) || !hasOperator(vm) {
				return nil, false
			}
			merged := maps.Clone(pm)
			for op, x := range vm {
				if _, clash := merged[op]; clash {
					return nil, false
				}
				merged[op] = x
			}
			out[k] = merged
		}
	}
	return out, true
}

func wireTime(v any) any {
	switch x := v.(type) {
	case float64:
		return time.UnixMilli(int64(x)).UTC().Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = wireTime(e)
		}
		return out
	}
	return v
}
