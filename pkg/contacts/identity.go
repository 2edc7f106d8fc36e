package contacts

import (
	"encoding/json"
	"maps"
	"slices"
)

// PayloadKey is where identity enrichment puts the contact in a payload.
const PayloadKey = "contact"

// IdentityType is the payload-schema annotation that marks a field as holding a contact id (reference §4.3).
const IdentityType = "contact"

// IdentityField returns the top-level string property of a payload schema annotated with
// "identityType": "contact". When several are, the first in name order wins, so the choice is stable.
func IdentityField(schema any) (string, bool) {
	s, ok := schema.(map[string]any)
	if !ok {
		return "", false
	}
	props, ok := s["properties"].(map[string]any)
	if !ok {
		return "", false
	}
	for _, name := range slices.Sorted(maps.Keys(props)) {
		p, ok := props[name].(map[string]any)
		if !ok || p["identityType"] != IdentityType {
			continue
		}
		if t, ok := p["type"].(string); ok && t != "string" {
			continue
		}
		return name, true
	}
	return "", false
}

// IdentityFieldOf is IdentityField over a raw schema.
func IdentityFieldOf(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var s any
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return IdentityField(s)
}

// PayloadSchema is the JSON Schema of the contact identity enrichment adds under `contact`, for mapping
// checks and GetAutomationActionSchema.
func PayloadSchema() map[string]any {
	s := func() map[string]any { return map[string]any{"type": "string"} }
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"id":       map[string]any{"type": "string", "format": "uuid"},
			"revision": s(),
			"email":    s(),
			"phone":    s(),
			"name": map[string]any{"type": "object", "properties": map[string]any{
				"first": s(), "last": s(),
			}},
			"attributes":  map[string]any{"type": "object", "additionalProperties": true},
			"createdDate": map[string]any{"type": "string", "format": "date-time"},
			"updatedDate": map[string]any{"type": "string", "format": "date-time"},
		},
	}
}
