// Package contacts is Switchyard's own contact model: the people automations run for. A contact is
// site-scoped, has a server-made GUID and an optimistic revision, and is what identity enrichment adds to
// a payload under `contact` (reference §2.3, end) when a trigger's payload schema marks a field with
// "identityType": "contact".
package contacts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// Contact is one person of a site, in its wire form.
type Contact struct {
	ID          string         `json:"id"`
	Revision    string         `json:"revision"` // int64 as a string, as Wix's revisions are
	Email       string         `json:"email,omitempty"`
	Phone       string         `json:"phone,omitempty"`
	Name        *Name          `json:"name,omitempty"`
	Attributes  map[string]any `json:"attributes,omitempty"`
	CreatedDate time.Time      `json:"createdDate"`
	UpdatedDate time.Time      `json:"updatedDate"`
}

// Name is a contact's name; either part may be absent.
type Name struct {
	First string `json:"first,omitempty"`
	Last  string `json:"last,omitempty"`
}

// Limits. Attributes are free JSON, bounded so that a contact always fits in one store record (and in an
// activation payload, which carries it after enrichment).
const (
	MaxEmailLen       = 254 // RFC 5321's path limit
	MaxPhoneLen       = 40
	MaxNamePartLen    = 100
	MaxAttributes     = 100
	MaxAttributeKey   = 100
	MaxAttributeBytes = 16 << 10
	MaxAttributeDepth = 10
)

var phoneRe = regexp.MustCompile(`^\+?[0-9][0-9 ().-]*$`)

// Fields is what a client may set on a contact: every field present in a create or update body. A field
// that is present and null clears it (update only); an absent field is left as it is.
type Fields struct {
	Email      *string
	Phone      *string
	Name       *Name
	Attributes map[string]any

	Has map[string]bool // which of email, phone, name, attributes the body carried (null included)
}

// ParseFields decodes a contact object from a request body, rejecting unknown or read-only fields
// silently as Wix does (they are ignored) and wrong types loudly, naming the path under prefix.
func ParseFields(raw json.RawMessage, prefix string) (Fields, error) {
	f := Fields{Has: map[string]bool{}}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return f, errs.Violation(prefix, "TYPE", "must be an object")
	}
	var vs []errs.FieldViolation
	str := func(key string) *string {
		v, ok := m[key]
		if !ok {
			return nil
		}
		f.Has[key] = true
		if isNull(v) {
			return nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			vs = append(vs, errs.FieldViolation{Field: prefix + "." + key, Description: "must be a string", ViolatedRule: "TYPE"})
			return nil
		}
		return &s
	}
	f.Email, f.Phone = str("email"), str("phone")
	if v, ok := m["name"]; ok {
		f.Has["name"] = true
		if !isNull(v) {
			var n Name
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&n); err != nil {
				vs = append(vs, errs.FieldViolation{Field: prefix + ".name", Description: "must be an object with string fields first and last", ViolatedRule: "TYPE"})
			} else {
				f.Name = &n
			}
		}
	}
	if v, ok := m["attributes"]; ok {
		f.Has["attributes"] = true
		if !isNull(v) {
			if err := json.Unmarshal(v, &f.Attributes); err != nil || f.Attributes == nil {
				vs = append(vs, errs.FieldViolation{Field: prefix + ".attributes", Description: "must be an object", ViolatedRule: "TYPE"})
				f.Attributes = nil
			}
		}
	}
	if err := errs.Violations(vs); err != nil {
		return f, err
	}
	return f, nil
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// Apply writes the fields present in f onto c.
func (f Fields) Apply(c *Contact) {
	if f.Has["email"] {
		c.Email = deref(f.Email)
	}
	if f.Has["phone"] {
		c.Phone = deref(f.Phone)
	}
	if f.Has["name"] {
		c.Name = f.Name
		if c.Name != nil && *c.Name == (Name{}) {
			c.Name = nil
		}
	}
	if f.Has["attributes"] {
		c.Attributes = f.Attributes
		if len(c.Attributes) == 0 {
			c.Attributes = nil
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Validate checks a contact's client-set fields, naming each bad one by its path under prefix.
func Validate(c *Contact, prefix string) error {
	var vs []errs.FieldViolation
	add := func(field, rule, format string, args ...any) {
		vs = append(vs, errs.FieldViolation{Field: prefix + "." + field, Description: fmt.Sprintf(format, args...), ViolatedRule: rule})
	}
	if c.Email != "" {
		switch {
		case len(c.Email) > MaxEmailLen:
			add("email", "MAX_LENGTH", "must be at most %d characters", MaxEmailLen)
		case !validEmail(c.Email):
			add("email", "FORMAT", "must be an email address such as ada@example.com")
		}
	}
	if c.Phone != "" {
		switch {
		case utf8.RuneCountInString(c.Phone) > MaxPhoneLen:
			add("phone", "MAX_LENGTH", "must be at most %d characters", MaxPhoneLen)
		case !phoneRe.MatchString(c.Phone):
			add("phone", "FORMAT", "may hold only digits, spaces and + ( ) . -, starting with + or a digit")
		}
	}
	if c.Name != nil {
		if utf8.RuneCountInString(c.Name.First) > MaxNamePartLen {
			add("name.first", "MAX_LENGTH", "must be at most %d characters", MaxNamePartLen)
		}
		if utf8.RuneCountInString(c.Name.Last) > MaxNamePartLen {
			add("name.last", "MAX_LENGTH", "must be at most %d characters", MaxNamePartLen)
		}
	}
	if len(c.Attributes) > MaxAttributes {
		add("attributes", "MAX_ITEMS", "must hold at most %d keys", MaxAttributes)
	}
	for k := range c.Attributes {
		if k == "" || utf8.RuneCountInString(k) > MaxAttributeKey {
			add("attributes", "KEY", "keys must be 1 to %d characters", MaxAttributeKey)
			break
		}
	}
	if c.Attributes != nil {
		if b, err := json.Marshal(c.Attributes); err != nil || len(b) > MaxAttributeBytes {
			add("attributes", "MAX_SIZE", "must be at most %d bytes of JSON", MaxAttributeBytes)
		} else if depth(c.Attributes) > MaxAttributeDepth {
			add("attributes", "MAX_DEPTH", "must nest at most %d levels deep", MaxAttributeDepth)
		}
	}
	return errs.Violations(vs)
}

// validEmail accepts a bare address (no display name, no comments) with a dotted domain.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func depth(v any) int {
	switch x := v.(type) {
	case map[string]any:
		d := 0
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		d := 0
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}

// QuerySchema is what QueryContacts filters and sorts on.
func QuerySchema() wql.Schema {
	str := []string{"$eq", "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$startsWith", "$exists"}
	return wql.Schema{
		"id":          {Kind: wql.String, Ops: []string{"$eq", "$ne", "$in", "$exists"}},
		"email":       {Kind: wql.String, Ops: str, Sortable: true},
		"phone":       {Kind: wql.String, Ops: str, Sortable: true},
		"name.first":  {Kind: wql.String, Ops: str, Sortable: true},
		"name.last":   {Kind: wql.String, Ops: str, Sortable: true},
		"createdDate": {Kind: wql.Timestamp, Sortable: true},
		"updatedDate": {Kind: wql.Timestamp, Sortable: true},
	}
}

// TriggerPayload is the payload of the system trigger contact_updated: the contact's id and fields.
func TriggerPayload(c *Contact) map[string]any {
	p := map[string]any{"contactId": c.ID}
	if c.Email != "" {
		p["email"] = c.Email
	}
	if c.Phone != "" {
		p["phone"] = c.Phone
	}
	if c.Name != nil {
		n := map[string]any{}
		if c.Name.First != "" {
			n["first"] = c.Name.First
		}
		if c.Name.Last != "" {
			n["last"] = c.Name.Last
		}
		p["name"] = n
	}
	if c.Attributes != nil {
		p["attributes"] = clone(c.Attributes)
	}
	return p
}

// AsPayload is the contact as identity enrichment adds it under `contact`: its JSON form as a plain value.
func AsPayload(c *Contact) map[string]any {
	b, err := json.Marshal(c)
	if err != nil {
		return map[string]any{"id": c.ID}
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return map[string]any{"id": c.ID}
	}
	return m
}

func clone(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}
