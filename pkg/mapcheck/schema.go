package mapcheck

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Bounds that keep odd or hostile schemas cheap: local $ref chains are followed at most maxRefDepth deep
// (recursive schemas are cut off there and become "any"), an inlined schema has at most maxNodes nodes, and
// combinator (allOf/anyOf/oneOf) nesting is searched at most maxCombDepth deep.
const (
	maxRefDepth  = 8
	maxNodes     = 50_000
	maxCombDepth = 16
)

// A schema here is a decoded JSON Schema value: map[string]any, a bool (true = anything, false = nothing),
// or nil meaning "unknown" (no definition, undecodable, unsupported $ref). Unknown is always compatible.

// decode parses raw JSON Schema text and inlines its local references. Empty or invalid input is unknown.
func decode(raw json.RawMessage) (any, bool) {
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, false
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false
	}
	return inline(v), true
}

// inline returns a copy of the schema with local `#/definitions/…` and `#/$defs/…` references replaced by
// their targets (depth- and size-bounded) and the definition tables dropped, so that the result can be
// embedded inside another schema and walked without a root document.
func inline(root any) any {
	budget := maxNodes
	return inlineNode(root, root, 0, &budget)
}

// literalKeys hold data, not schemas: never resolve "$ref" inside them.
var literalKeys = map[string]bool{"enum": true, "const": true, "default": true, "examples": true, "example": true}

func inlineNode(n, root any, refDepth int, budget *int) any {
	*budget--
	if *budget < 0 {
		return map[string]any{}
	}
	switch x := n.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			target, ok := resolveRef(root, ref)
			if !ok || refDepth >= maxRefDepth {
				return map[string]any{} // anything else is an unknown type
			}
			return inlineNode(target, root, refDepth+1, budget)
		}
		out := make(map[string]any, len(x))
		for k, v := range x {
			switch {
			case k == "definitions" || k == "$defs":
				continue
			case literalKeys[k]:
				out[k] = v
			default:
				out[k] = inlineNode(v, root, refDepth, budget)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = inlineNode(v, root, refDepth, budget)
		}
		return out
	}
	return n
}

// resolveRef follows a local JSON pointer under #/definitions or #/$defs.
func resolveRef(root any, ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#/definitions/") && !strings.HasPrefix(ref, "#/$defs/") {
		return nil, false
	}
	cur := root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// types lists the JSON types a schema allows, without "null"; nil means unknown (anything goes).
func types(s any) []string {
	m, ok := s.(map[string]any)
	if !ok {
		return nil
	}
	var out []string
	switch t := m["type"].(type) {
	case string:
		if t != "null" {
			out = append(out, t)
		}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok && s != "null" {
				out = append(out, s)
			}
		}
	}
	return out
}

// isNullOnly reports whether the schema is exactly {"type":"null"} (a null literal).
func isNullOnly(s any) bool {
	m, ok := s.(map[string]any)
	return ok && m["type"] == "null"
}

func has(ts []string, t string) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// prop returns the schema of property key of an object schema. found is false when the schema declares
// which properties exist and key is not one of them, or when the value cannot have properties at all
// (scalars and arrays: runtime paths never index into arrays).
func prop(s any, key string) (sub any, found bool) {
	return propDepth(s, key, 0)
}

func propDepth(s any, key string, depth int) (any, bool) {
	if depth > maxCombDepth {
		return nil, true
	}
	switch x := s.(type) {
	case bool:
		if x {
			return nil, true
		}
		return nil, false
	case map[string]any:
		if props, ok := x["properties"].(map[string]any); ok {
			if p, ok := props[key]; ok {
				return p, true
			}
		}
		combos := false
		for _, c := range [...]string{"allOf", "anyOf", "oneOf"} {
			branches, ok := x[c].([]any)
			if !ok {
				continue
			}
			combos = true
			for _, b := range branches {
				if sub, ok := propDepth(b, key, depth+1); ok {
					return sub, true
				}
			}
		}
		if _, ok := x["patternProperties"]; ok {
			return nil, true
		}
		switch ap := x["additionalProperties"].(type) {
		case bool:
			if ap {
				return nil, true
			}
			return nil, false
		case map[string]any:
			return ap, true
		}
		if _, ok := x["properties"]; ok || combos {
			return nil, false
		}
		ts := types(x)
		if len(ts) == 0 || has(ts, "object") {
			return nil, true // a free-form object
		}
		return nil, false
	}
	return nil, true // unknown
}

// item returns the item schema of an array schema for index i.
func item(s any, i int) (any, bool) {
	switch x := s.(type) {
	case bool:
		return nil, x
	case map[string]any:
		switch it := x["items"].(type) {
		case map[string]any, bool:
			return it, it != false
		case []any: // tuple form
			if i >= 0 && i < len(it) {
				return it[i], true
			}
			return nil, true
		}
		if pi, ok := x["prefixItems"].([]any); ok && i >= 0 && i < len(pi) {
			return pi[i], true
		}
		ts := types(x)
		return nil, len(ts) == 0 || has(ts, "array")
	}
	return nil, true
}

// resolvePath walks a dotted path; each segment may carry [n] suffixes that step into array items
// (trigger filter keys like forms[0].data.id). Segments that are not well-formed are looked up verbatim.
func resolvePath(s any, path string) (any, bool) {
	if path == "" {
		return nil, false
	}
	cur := s
	for _, seg := range strings.Split(path, ".") {
		name, idx := splitIndexes(seg)
		if name == "" {
			return nil, false
		}
		var ok bool
		if cur, ok = prop(cur, name); !ok {
			return nil, false
		}
		for _, i := range idx {
			if cur, ok = item(cur, i); !ok {
				return nil, false
			}
		}
	}
	return cur, true
}

// splitIndexes splits "forms[0][1]" into "forms" and [0 1]; anything malformed is returned verbatim.
func splitIndexes(seg string) (string, []int) {
	open := strings.IndexByte(seg, '[')
	if open < 0 || !strings.HasSuffix(seg, "]") {
		return seg, nil
	}
	name := seg[:open]
	var idx []int
	rest := seg[open:]
	for rest != "" {
		if rest[0] != '[' {
			return seg, nil
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return seg, nil
		}
		n, err := strconv.Atoi(rest[1:end])
		if err != nil || n < 0 {
			return seg, nil
		}
		idx = append(idx, n)
		rest = rest[end+1:]
	}
	return name, idx
}

// required lists the required property names of an object schema (also from allOf branches), sorted.
func required(s any) []string {
	seen := map[string]bool{}
	var walk func(s any, depth int)
	walk = func(s any, depth int) {
		m, ok := s.(map[string]any)
		if !ok || depth > maxCombDepth {
			return
		}
		if r, ok := m["required"].([]any); ok {
			for _, e := range r {
				if k, ok := e.(string); ok {
					seen[k] = true
				}
			}
		}
		if all, ok := m["allOf"].([]any); ok {
			for _, b := range all {
				walk(b, depth+1)
			}
		}
	}
	walk(s, 0)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// collectProps copies the declared properties of an object schema, including those of its combinator
// branches (the union: lenient on purpose), into dst. It reports whether the schema is open, i.e. allows
// properties it does not declare.
func collectProps(s any, dst map[string]any, depth int) (open bool) {
	if depth > maxCombDepth {
		return true
	}
	switch x := s.(type) {
	case bool:
		return x
	case map[string]any:
		props, hasProps := x["properties"].(map[string]any)
		for k, v := range props {
			dst[k] = v
		}
		combos := false
		for _, c := range [...]string{"allOf", "anyOf", "oneOf"} {
			branches, ok := x[c].([]any)
			if !ok {
				continue
			}
			combos = true
			for _, b := range branches {
				if collectProps(b, dst, depth+1) {
					open = true
				}
			}
		}
		if _, ok := x["patternProperties"]; ok {
			open = true
		}
		switch ap := x["additionalProperties"].(type) {
		case bool:
			open = open || ap
		case map[string]any:
			open = true
		default:
			if !hasProps && !combos {
				ts := types(x)
				open = open || len(ts) == 0 || has(ts, "object")
			}
		}
		return open
	}
	return true
}

// literalType is the schema of a JSON literal in a mapping.
func literalType(v any) any {
	switch x := v.(type) {
	case string:
		return map[string]any{"type": "string"}
	case float64:
		if x == math.Trunc(x) {
			return map[string]any{"type": "integer"}
		}
		return map[string]any{"type": "number"}
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return map[string]any{"type": "integer"}
		}
		return map[string]any{"type": "number"}
	case int, int64, int32:
		return map[string]any{"type": "integer"}
	case bool:
		return map[string]any{"type": "boolean"}
	case []any:
		return map[string]any{"type": "array"}
	case map[string]any:
		return map[string]any{"type": "object"}
	}
	return nil
}
