// Package phpform reads application/x-www-form-urlencoded bodies the way PHP does, bracketed keys
// included: `data[points]=5&data[tags][]=a` is {"data": {"points": "5", "tags": ["a"]}}. Piggy's PHP SDK
// sends its request bodies this way (Guzzle `form_params`, built with http_build_query), so the Piggy
// surface must understand them as well as JSON.
//
// Choices where PHP's behaviour is odd or configuration-dependent:
//   - Values are always strings: a form has no types.
//   - A container whose keys are exactly 0..n-1 becomes a JSON array, as PHP's json_encode would turn it.
//   - `k[]` appends with the next integer key, counted per container.
//   - A later pair replaces what an earlier one put at the same key, whatever its kind (PHP does the same).
//   - A key that does not start with a name (`[a]=1`) is skipped; a bracket that is not closed is part of
//     the name (`a[b=1` is the key "a[b").
//   - Limits: MaxPairs pairs and MaxDepth bracket levels (PHP's max_input_vars and
//     max_input_nesting_level play these roles); past them Parse fails rather than truncating silently.
package phpform

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Limits of Parse.
const (
	MaxPairs = 1000
	MaxDepth = 32
)

// Parse decodes a form body into nested maps, arrays and strings.
func Parse(body string) (map[string]any, error) {
	root := map[string]any{}
	if body == "" {
		return root, nil
	}
	pairs := strings.Split(body, "&")
	if len(pairs) > MaxPairs {
		return nil, fmt.Errorf("form has %d pairs, more than %d", len(pairs), MaxPairs)
	}
	for _, pair := range pairs {
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, fmt.Errorf("form key %q: %w", rawKey, err)
		}
		v, err := url.QueryUnescape(rawVal)
		if err != nil {
			return nil, fmt.Errorf("form value of %q: %w", k, err)
		}
		path, err := splitKey(k)
		if err != nil {
			return nil, err
		}
		if len(path) == 0 {
			continue
		}
		set(root, path, v)
	}
	return normalize(root).(map[string]any), nil
}

// splitKey splits `a[b][]` into ["a", "b", ""]; "" stands for an append.
func splitKey(k string) ([]string, error) {
	open := strings.IndexByte(k, '[')
	if open < 0 {
		if k == "" {
			return nil, nil
		}
		return []string{k}, nil
	}
	if open == 0 {
		return nil, nil
	}
	path := []string{k[:open]}
	rest := k[open:]
	for len(rest) > 0 && rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			if len(path) == 1 {
				return []string{k}, nil // an unclosed first bracket: the whole key is a name
			}
			break // PHP drops what follows an unclosed later bracket
		}
		path = append(path, rest[1:end])
		if len(path)-1 > MaxDepth {
			return nil, fmt.Errorf("form key %q nests more than %d levels", k, MaxDepth)
		}
		rest = rest[end+1:]
	}
	return path, nil
}

// node is a container being built: its values by key and the next integer key for an append.
type node struct {
	vals map[string]any
	next int
}

func set(root map[string]any, path []string, v string) {
	top := &node{vals: root}
	for k := range root {
		if n, err := strconv.Atoi(k); err == nil && n >= top.next {
			top.next = n + 1
		}
	}
	cur := top
	for i, seg := range path {
		if seg == "" {
			seg = strconv.Itoa(cur.next)
		}
		if n, err := strconv.Atoi(seg); err == nil && n >= cur.next && strconv.Itoa(n) == seg {
			cur.next = n + 1
		}
		if i == len(path)-1 {
			cur.vals[seg] = v
			return
		}
		child, ok := cur.vals[seg].(*node)
		if !ok {
			child = &node{vals: map[string]any{}}
			cur.vals[seg] = child
		}
		cur = child
	}
}

// normalize turns the builder's nodes into plain maps, and maps keyed exactly 0..n-1 into arrays.
func normalize(v any) any {
	switch x := v.(type) {
	case *node:
		return normalizeMap(x.vals, true)
	case map[string]any:
		return normalizeMap(x, false)
	}
	return v
}

func normalizeMap(m map[string]any, mayBeList bool) any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = normalize(e)
	}
	if !mayBeList || len(out) == 0 {
		return out
	}
	list := make([]any, len(out))
	for k, e := range out {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 || n >= len(out) || strconv.Itoa(n) != k {
			return out
		}
		list[n] = e
	}
	return list
}

// Encode is PHP's http_build_query for the values Parse produces (maps, arrays, strings; other scalars
// are formatted with %v), keys in sorted order. Nil values are left out, as http_build_query does.
func Encode(m map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = encode(parts, url.QueryEscape(k), m[k])
	}
	return strings.Join(parts, "&")
}

func encode(parts []string, prefix string, v any) []string {
	switch x := v.(type) {
	case nil:
		return parts
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = encode(parts, prefix+url.QueryEscape("["+k+"]"), x[k])
		}
		return parts
	case []any:
		for i, e := range x {
			parts = encode(parts, prefix+url.QueryEscape("["+strconv.Itoa(i)+"]"), e)
		}
		return parts
	case string:
		return append(parts, prefix+"="+url.QueryEscape(x))
	}
	return append(parts, prefix+"="+url.QueryEscape(fmt.Sprint(v)))
}
