// Package schema compiles the JSON Schemas apps register (trigger payloads, action inputs and outputs) and
// validates values against them. Remote `$ref` loading is off so a user's schema can never make the server
// fetch a URL or read a file; formats are asserted.
package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// MaxSchemaBytes bounds a registered schema.
const MaxSchemaBytes = 256 << 10

// Schema is a compiled JSON Schema.
type Schema struct {
	compiled *jsonschema.Schema
	Raw      json.RawMessage
}

// Cache compiles each distinct schema once. Schemas are keyed by content, so re-registering an identical
// schema, or many automations using one action, costs one compilation.
type Cache struct {
	mu      sync.Mutex
	entries map[[32]byte]*Schema
	max     int
}

// NewCache returns a cache holding at most max compiled schemas (0 → 4096).
func NewCache(max int) *Cache {
	if max <= 0 {
		max = 4096
	}
	return &Cache{entries: map[[32]byte]*Schema{}, max: max}
}

// Compile compiles raw, from the cache when it was seen before. An invalid schema is an *errs.Error of
// kind Invalid whose message says what is wrong.
func (c *Cache) Compile(raw []byte) (*Schema, error) {
	key := sha256.Sum256(raw)
	c.mu.Lock()
	s, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := Compile(raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		for k := range c.entries { // evict an arbitrary entry: recompiling is only a cost, never wrong
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = s
	c.mu.Unlock()
	return s, nil
}

// Compile compiles one schema without caching.
func Compile(raw []byte) (*Schema, error) {
	if len(raw) > MaxSchemaBytes {
		return nil, errs.New(errs.Invalid, "", "schema is larger than %d bytes", MaxSchemaBytes)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, errs.New(errs.Invalid, "", "schema is not valid JSON: %v", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		if _, isBool := doc.(bool); !isBool {
			return nil, errs.New(errs.Invalid, "", "schema must be a JSON object")
		}
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7) // Wix trigger and action schemas are draft-07
	c.AssertFormat()
	c.UseLoader(jsonschema.SchemeURLLoader{}) // no scheme is loadable: remote and file $refs fail to compile
	const loc = "mem:///schema.json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, errs.New(errs.Invalid, "", "schema: %v", err)
	}
	compiled, err := c.Compile(loc)
	if err != nil {
		return nil, errs.New(errs.Invalid, "", "invalid JSON Schema: %s", strings.ReplaceAll(err.Error(), loc, ""))
	}
	return &Schema{compiled: compiled, Raw: append(json.RawMessage(nil), raw...)}, nil
}

// Validate checks v (a value decoded by encoding/json) and returns one violation per failing location,
// with field paths under prefix (e.g. "payload" → "payload.items[0].price").
func (s *Schema) Validate(v any, prefix string) []errs.FieldViolation {
	err := s.compiled.Validate(v)
	if err == nil {
		return nil
	}
	verr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []errs.FieldViolation{{Field: prefix, Description: err.Error(), ViolatedRule: "SCHEMA"}}
	}
	var out []errs.FieldViolation
	seen := map[string]bool{}
	for _, u := range verr.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		f := FieldPath(prefix, u.InstanceLocation)
		if req, ok := u.Error.Kind.(*kind.Required); ok {
			// Name each missing property itself: that is the field the caller has to fix.
			for _, m := range req.Missing {
				mf := FieldPath(f, "/"+m)
				if !seen[mf] {
					seen[mf] = true
					out = append(out, errs.FieldViolation{Field: mf, Description: "is required", ViolatedRule: "REQUIRED_FIELD"})
				}
			}
			continue
		}
		d := u.Error.String()
		if seen[f+d] {
			continue
		}
		seen[f+d] = true
		out = append(out, errs.FieldViolation{Field: f, Description: d, ViolatedRule: "SCHEMA"})
	}
	if len(out) == 0 {
		out = append(out, errs.FieldViolation{Field: prefix, Description: verr.Error(), ViolatedRule: "SCHEMA"})
	}
	return out
}

// FieldPath turns a JSON pointer into the dotted form Wix uses in fieldViolations ("a.b[0].c").
func FieldPath(prefix, pointer string) string {
	var b strings.Builder
	b.WriteString(prefix)
	if pointer == "" || pointer == "/" {
		return b.String()
	}
	for _, seg := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		if isIndex(seg) {
			fmt.Fprintf(&b, "[%s]", seg)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
