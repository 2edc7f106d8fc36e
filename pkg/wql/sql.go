package wql

import (
	"strings"
	"unicode/utf8"
)

// SQL translates the filter, the cursor position and the sort to SQLite over cols, which maps each field
// (and "id", always needed for the tie-breaker) to a column expression: a real column or
// json_extract(doc,'$.name'). Values are always bound as args, never interpolated.
//
// Column conventions: Timestamp fields must yield Unix milliseconds (args are int64 ms), Bool fields 0/1
// (as json_extract does), StringArray fields JSON array text (for json_each). where is "" when there is
// no condition; orderBy has no ORDER BY keyword. ok is false when a filter or sort field is not in cols or
// an operator has no SQL form ($eq on a whole Object); the caller then evaluates in memory with [Query.Page].
func (q *Query) SQL(cols map[string]string) (where string, args []any, orderBy string, ok bool) {
	b := &sqlBuilder{cols: cols, ok: true}
	var parts []string
	if q.Filter != nil {
		parts = append(parts, b.node(q.Filter))
	}
	if q.after != nil {
		if k := b.keyset(q); k != "" {
			parts = append(parts, k)
		}
	}
	var order []string
	for _, s := range q.Sort {
		dir := " ASC"
		if s.Desc {
			dir = " DESC"
		}
		order = append(order, b.col(s.Field)+dir)
	}
	order = append(order, b.col("id")+" ASC")
	if !b.ok {
		return "", nil, "", false
	}
	switch len(parts) {
	case 0:
	case 1:
		where = parts[0]
	default:
		where = "(" + strings.Join(parts, ") AND (") + ")"
	}
	return where, b.args, strings.Join(order, ", "), true
}

type sqlBuilder struct {
	cols map[string]string
	args []any
	ok   bool
}

func (b *sqlBuilder) col(field string) string {
	c, ok := b.cols[field]
	if !ok || c == "" {
		b.ok = false
	}
	return c
}

func (b *sqlBuilder) arg(k Kind, v any) string {
	switch x := v.(type) {
	case bool:
		v = int64(0)
		if x {
			v = int64(1)
		}
	case float64:
		if k == Timestamp {
			v = int64(x)
		}
	}
	b.args = append(b.args, v)
	return "?"
}

func (b *sqlBuilder) list(k Kind, vs []any) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = b.arg(k, v)
	}
	return "(" + strings.Join(ph, ", ") + ")"
}

// node renders n. Leaves may be NULL on a missing field; $not coalesces its operand first so that
// NOT keeps the in-memory two-valued meaning (for AND/OR alone a NULL already acts as false).
func (b *sqlBuilder) node(n *Node) string {
	switch n.Op {
	case "$and", "$or":
		if len(n.Children) == 0 {
			if n.Op == "$and" {
				return "1"
			}
			return "0"
		}
		cs := make([]string, len(n.Children))
		for i, c := range n.Children {
			cs[i] = b.node(c)
		}
		if len(cs) == 1 {
			return cs[0]
		}
		return "(" + strings.Join(cs, " "+strings.ToUpper(n.Op[1:])+" ") + ")"
	case "$not":
		if len(n.Children) != 1 {
			b.ok = false
			return ""
		}
		return "NOT coalesce(" + b.node(n.Children[0]) + ", 0)"
	}
	c := b.col(n.Field)
	switch n.Op {
	case "$eq":
		if n.kind == Object {
			b.ok = false
			return ""
		}
		return c + " = " + b.arg(n.kind, n.Value)
	case "$ne":
		if n.kind == Object {
			b.ok = false
			return ""
		}
		return c + " IS NOT " + b.arg(n.kind, n.Value)
	case "$lt":
		return c + " < " + b.arg(n.kind, n.Value)
	case "$lte":
		return c + " <= " + b.arg(n.kind, n.Value)
	case "$gt":
		return c + " > " + b.arg(n.kind, n.Value)
	case "$gte":
		return c + " >= " + b.arg(n.kind, n.Value)
	case "$in":
		vs, _ := n.Value.([]any)
		return c + " IN " + b.list(n.kind, vs)
	case "$startsWith":
		s, _ := n.Value.(string)
		b.args = append(b.args, int64(utf8.RuneCountInString(s))) // SQLite substr counts characters
		return "substr(" + c + ", 1, ?) = " + b.arg(n.kind, s)
	case "$contains":
		return "instr(" + c + ", " + b.arg(n.kind, n.Value) + ") > 0"
	case "$hasSome", "$hasAll":
		ss, _ := n.Value.([]string)
		vs := make([]any, len(ss))
		for i, s := range ss {
			vs[i] = s
		}
		if n.Op == "$hasSome" {
			return "EXISTS (SELECT 1 FROM json_each(" + c + ") WHERE value IN " + b.list(n.kind, vs) + ")"
		}
		in := b.list(n.kind, vs)
		return "(SELECT count(DISTINCT value) FROM json_each(" + c + ") WHERE value IN " + in + ") = " + b.arg(Number, int64(len(ss)))
	case "$exists":
		if want, _ := n.Value.(bool); want {
			return c + " IS NOT NULL"
		}
		return c + " IS NULL"
	}
	b.ok = false
	return ""
}

// keyset renders "strictly after the cursor position" in the query's order. SQLite sorts NULL first
// ascending and last descending, as Less does with missing values, so a NULL position needs IS NULL forms;
// with every column ascending and no NULL it is a row-value comparison that an index can serve.
func (b *sqlBuilder) keyset(q *Query) string {
	n := len(q.Sort)
	if len(q.after) != n+1 {
		b.ok = false
		return ""
	}
	kinds := make([]Kind, n+1)
	cols := make([]string, n+1)
	simple := true
	for i, s := range q.Sort {
		kinds[i] = q.schema[s.Field].Kind
		cols[i] = b.col(s.Field)
		if s.Desc || q.after[i] == nil {
			simple = false
		}
	}
	kinds[n], cols[n] = String, b.col("id")
	if simple {
		if n == 0 {
			return cols[0] + " > " + b.arg(String, q.after[0])
		}
		return "(" + strings.Join(cols, ", ") + ") > " + b.list(-1, kindsArgs(kinds, q.after))
	}
	var ors []string
	for i := 0; i <= n; i++ {
		var ands []string
		for j := 0; j < i; j++ {
			if q.after[j] == nil {
				ands = append(ands, cols[j]+" IS NULL")
			} else {
				ands = append(ands, cols[j]+" = "+b.arg(kinds[j], q.after[j]))
			}
		}
		desc := i < n && q.Sort[i].Desc
		switch v := q.after[i]; {
		case v == nil && desc:
			continue // nothing sorts after NULL descending
		case v == nil:
			ands = append(ands, cols[i]+" IS NOT NULL")
		case desc:
			ands = append(ands, "("+cols[i]+" < "+b.arg(kinds[i], v)+" OR "+cols[i]+" IS NULL)")
		default:
			ands = append(ands, cols[i]+" > "+b.arg(kinds[i], v))
		}
		ors = append(ors, strings.Join(ands, " AND "))
	}
	if len(ors) == 0 {
		return "0"
	}
	return "(" + strings.Join(ors, ") OR (") + ")"
}

// kindsArgs converts position values as arg would, for list, which only sees one kind.
func kindsArgs(kinds []Kind, vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		if f, ok := v.(float64); ok && kinds[i] == Timestamp {
			v = int64(f)
		}
		out[i] = v
	}
	return out
}
