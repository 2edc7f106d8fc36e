package mapcheck

import (
	"math"
	"strconv"
	"strings"

	"github.com/switchyard-dev/switchyard/pkg/expr"
)

// resultTypes is the static result type of each built-in function (names lower-cased, as expr matches them
// case-insensitively). Functions not listed (if) have an unknown type, which is compatible with anything.
var resultTypes = func() map[string]string {
	m := map[string]string{}
	add := func(t string, names ...string) {
		for _, n := range names {
			m[strings.ToLower(n)] = t
		}
	}
	add("number",
		"sum", "multiply", "subtract", "divide", "mod", "average", "min", "max", "median", "round", "abs",
		"stringLen", "toNumber",
		"arraySize", "arraySum", "arrayMultiply", "arrayAverage", "arrayMin", "arrayMax", "arrayMedian",
		"year", "month", "day", "hour", "minute", "weekDay")
	add("string", "toString", "concat", "substring", "lower", "upper", "addToDate", "subtractFromDate", "now")
	add("boolean",
		"stringEq", "stringHasSubString", "startsWith", "endsWith", "isEmptyString", "stringContains",
		"eq", "numberEq", "gt", "numberGt", "gte", "lt", "numberLt", "lte", "numberContains", "boolEq",
		"arraySome", "arrayEvery", "arrayIncludesAnyOf", "arrayIncludesAllOf", "arrayIncludesOnly", "contains",
		"dateEq", "dateBefore", "dateAfter", "dateTimeEq", "dateTimeBefore", "dateTimeAfter",
		"and", "or", "not", "isEmpty")
	add("array", "arrayMap")
	return m
}()

// exprInfo is what is statically known about the value of a single {{expr}}.
type exprInfo struct {
	schema any      // the value's schema; nil = unknown
	num    *float64 // the value of a number literal
}

// singleType returns the static type of a template that IsSingle, against the available payload schema.
// The expr package keeps its tree private, so the top-level form is read from the source text; the template
// has already parsed, which makes this reading safe.
func singleType(t *expr.Template, avail any) exprInfo {
	src := strings.TrimSpace(t.String())
	if !strings.HasPrefix(src, "{{") || !strings.HasSuffix(src, "}}") || len(src) < 4 {
		return exprInfo{}
	}
	inner := strings.TrimSpace(src[2 : len(src)-2])
	if inner == "" {
		return exprInfo{}
	}
	varType := func() exprInfo {
		vs := t.Vars()
		if len(vs) != 1 {
			return exprInfo{}
		}
		sub, ok := resolvePath(avail, vs[0])
		if !ok {
			return exprInfo{} // reported as a missing variable
		}
		return exprInfo{schema: sub}
	}
	switch c := inner[0]; {
	case c == '"' || c == '\'':
		return exprInfo{schema: typed("string")}
	case c == '[':
		return exprInfo{schema: typed("array")}
	case c == '-' || c == '.' || (c >= '0' && c <= '9'):
		info := exprInfo{schema: typed("number")}
		if f, err := strconv.ParseFloat(inner, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			info.num = &f
		}
		return info
	case c == '$':
		if inner == "$" {
			return exprInfo{schema: typed("object")}
		}
		return varType()
	}
	i := 0
	for i < len(inner) && isIdentChar(inner[i]) {
		i++
	}
	name := inner[:i]
	rest := strings.TrimLeft(inner[i:], " \t\r\n")
	if strings.HasPrefix(rest, "(") {
		if strings.EqualFold(name, "var") {
			return varType()
		}
		if rt, ok := resultTypes[strings.ToLower(name)]; ok {
			return exprInfo{schema: typed(rt)}
		}
		return exprInfo{}
	}
	if !strings.HasPrefix(rest, ".") {
		switch name {
		case "true", "false":
			return exprInfo{schema: typed("boolean")}
		case "null":
			return exprInfo{schema: typed("null")}
		}
	}
	return varType() // legacy bare path
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '-' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func typed(t string) map[string]any { return map[string]any{"type": t} }

// compatible reports whether a value of static type src may fill a field whose (non-null) types are target.
// Unknown on either side is compatible; number and integer are interchangeable except for a non-integral
// number literal into an integer-only field.
func compatible(target []string, src exprInfo) bool {
	if len(target) == 0 || src.schema == nil || isNullOnly(src.schema) {
		return true
	}
	st := types(src.schema)
	if len(st) == 0 {
		return true
	}
	for _, t := range target {
		for _, s := range st {
			switch {
			case t == s && !(t == "integer" && src.num != nil && *src.num != math.Trunc(*src.num)):
				return true
			case t == "number" && s == "integer":
				return true
			case t == "integer" && s == "number":
				if src.num == nil || *src.num == math.Trunc(*src.num) {
					return true
				}
			}
		}
	}
	return false
}

// staticLiteralOK reports whether text without {{…}} is a literal of one of the target types.
func staticLiteralOK(target []string, text string) bool {
	s := strings.TrimSpace(text)
	for _, t := range target {
		switch t {
		case "string":
			return true
		case "number", "integer":
			f, err := strconv.ParseFloat(s, 64)
			if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && (t == "number" || f == math.Trunc(f)) {
				return true
			}
		case "boolean":
			if s == "true" || s == "false" {
				return true
			}
		}
	}
	return false
}
