package contacts_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// TestValidate: each bad field is named by its exact path; good contacts pass.
func TestValidate(t *testing.T) {
	deep := map[string]any{}
	cur := deep
	for range 12 {
		next := map[string]any{}
		cur["x"] = next
		cur = next
	}
	many := map[string]any{}
	for i := range 101 {
		many[strings.Repeat("k", i+1)] = 1
	}
	cases := []struct {
		name  string
		c     contacts.Contact
		field string // "" → valid
	}{
		{"empty", contacts.Contact{}, ""},
		{"full", contacts.Contact{Email: "ada@example.com", Phone: "+44 (20) 7946-0958", Name: &contacts.Name{First: "Ada", Last: "Lovelace"},
			Attributes: map[string]any{"tier": "gold", "points": 12.0}}, ""},
		{"email without domain dot", contacts.Contact{Email: "ada@example"}, "contact.email"},
		{"email with display name", contacts.Contact{Email: "Ada <ada@example.com>"}, "contact.email"},
		{"email not an address", contacts.Contact{Email: "ada"}, "contact.email"},
		{"email too long", contacts.Contact{Email: strings.Repeat("a", 250) + "@example.com"}, "contact.email"},
		{"phone letters", contacts.Contact{Phone: "call me"}, "contact.phone"},
		{"phone too long", contacts.Contact{Phone: strings.Repeat("1", 41)}, "contact.phone"},
		{"first name too long", contacts.Contact{Name: &contacts.Name{First: strings.Repeat("é", 101)}}, "contact.name.first"},
		{"last name too long", contacts.Contact{Name: &contacts.Name{Last: strings.Repeat("x", 101)}}, "contact.name.last"},
		{"too many attributes", contacts.Contact{Attributes: many}, "contact.attributes"},
		{"attributes too big", contacts.Contact{Attributes: map[string]any{"a": strings.Repeat("x", 17<<10)}}, "contact.attributes"},
		{"attributes too deep", contacts.Contact{Attributes: deep}, "contact.attributes"},
		{"empty attribute key", contacts.Contact{Attributes: map[string]any{"": 1}}, "contact.attributes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := contacts.Validate(&tc.c, "contact")
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) || len(e.Violations) == 0 || e.Violations[0].Field != tc.field {
				t.Fatalf("Validate = %v, want a violation on %s", err, tc.field)
			}
		})
	}
}

// TestParseFieldsAndApply: present fields replace, null clears, absent leaves alone, wrong types name the path.
func TestParseFieldsAndApply(t *testing.T) {
	base := contacts.Contact{Email: "a@example.com", Phone: "123", Name: &contacts.Name{First: "A"}, Attributes: map[string]any{"k": "v"}}
	cases := []struct {
		name, body string
		want       string // JSON of the client fields after Apply, or
		field      string // the violation
	}{
		{"nothing", `{}`, `{"email":"a@example.com","phone":"123","name":{"first":"A"},"attributes":{"k":"v"}}`, ""},
		{"replace email", `{"email":"b@example.com"}`, `{"email":"b@example.com","phone":"123","name":{"first":"A"},"attributes":{"k":"v"}}`, ""},
		{"clear phone and name", `{"phone":null,"name":null}`, `{"email":"a@example.com","attributes":{"k":"v"}}`, ""},
		{"replace attributes", `{"attributes":{"x":[1,2]}}`, `{"email":"a@example.com","phone":"123","name":{"first":"A"},"attributes":{"x":[1,2]}}`, ""},
		{"read-only fields ignored", `{"id":"x","revision":"9","createdDate":"2020-01-01T00:00:00Z"}`, `{"email":"a@example.com","phone":"123","name":{"first":"A"},"attributes":{"k":"v"}}`, ""},
		{"email not a string", `{"email":5}`, "", "contact.email"},
		{"name unknown field", `{"name":{"middle":"x"}}`, "", "contact.name"},
		{"attributes an array", `{"attributes":[1]}`, "", "contact.attributes"},
		{"not an object", `[1]`, "", "contact"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := contacts.ParseFields(json.RawMessage(tc.body), "contact")
			if tc.field != "" {
				var e *errs.Error
				if !errors.As(err, &e) || e.Violations[0].Field != tc.field {
					t.Fatalf("ParseFields = %v, want a violation on %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := base
			f.Apply(&c)
			got, _ := json.Marshal(map[string]any{"email": c.Email, "phone": c.Phone, "name": c.Name, "attributes": c.Attributes})
			var gm, wm map[string]any
			json.Unmarshal(got, &gm)
			for k, v := range gm {
				if v == nil || v == "" {
					delete(gm, k)
				}
			}
			json.Unmarshal([]byte(tc.want), &wm)
			g, _ := json.Marshal(gm)
			w, _ := json.Marshal(wm)
			if string(g) != string(w) {
				t.Fatalf("after Apply: %s, want %s", g, w)
			}
		})
	}
}

func TestIdentityField(t *testing.T) {
	cases := []struct {
		schema, want string
	}{
		{`{"type":"object","properties":{"contactId":{"type":"string","identityType":"contact"}}}`, "contactId"},
		{`{"type":"object","properties":{"b":{"type":"string","identityType":"contact"},"a":{"identityType":"contact"}}}`, "a"},
		{`{"type":"object","properties":{"n":{"type":"number","identityType":"contact"}}}`, ""},
		{`{"type":"object","properties":{"m":{"type":"string","identityType":"member"}}}`, ""},
		{`{"type":"object"}`, ""},
		{`true`, ""},
		{``, ""},
	}
	for _, tc := range cases {
		got, ok := contacts.IdentityFieldOf(json.RawMessage(tc.schema))
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("IdentityFieldOf(%s) = %q, %v; want %q", tc.schema, got, ok, tc.want)
		}
	}
}

func TestTriggerPayload(t *testing.T) {
	c := &contacts.Contact{ID: "c1", Email: "a@example.com", Name: &contacts.Name{Last: "L"}, Attributes: map[string]any{"k": 1.0}}
	got, _ := json.Marshal(contacts.TriggerPayload(c))
	if want := `{"attributes":{"k":1},"contactId":"c1","email":"a@example.com","name":{"last":"L"}}`; string(got) != want {
		t.Fatalf("TriggerPayload = %s, want %s", got, want)
	}
}
