package mapcheck

import (
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/automation"
)

// TestContactScope: `contact.*` is in scope exactly when the trigger's payload schema marks a field with
// "identityType": "contact" (the engine then enriches the payload with that contact).
func TestContactScope(t *testing.T) {
	const marked = `{"type":"object","additionalProperties":false,"properties":{
		"contactId":{"type":"string","identityType":"contact"},"data":{"type":"object"}}}`
	const plain = `{"type":"object","additionalProperties":false,"properties":{
		"contactId":{"type":"string"},"data":{"type":"object"}}}`
	cases := []struct {
		name, schema, mapping string
		wantIssue             bool
	}{
		{"email with identity", marked, "{{contact.email}}", false},
		{"first name with identity", marked, "{{contact.name.first}}", false},
		{"attribute with identity", marked, "{{contact.attributes.tier}}", false},
		{"unknown contact field", marked, "{{contact.shoeSize}}", true},
		{"email without identity", plain, "{{contact.email}}", true},
		{"data either way", plain, "{{data.points}}", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cat := testCatalog{triggers: map[string]string{"sys/contact_updated": tc.schema},
				actions: map[string]def{"app-a/send": {in: `{"type":"object","properties":{"to":{"type":"string"}}}`}}}
			a := &automation.Automation{Configuration: &automation.Configuration{
				Trigger:       &automation.Trigger{AppID: "sys", TriggerKey: "contact_updated"},
				RootActionIDs: []string{"a1"},
				Actions: map[string]*automation.Action{"a1": {ID: "a1", Type: automation.TypeAppDefined,
					AppDefinedInfo: &automation.AppDefinedInfo{AppID: "app-a", ActionKey: "send", InputMapping: map[string]any{"to": tc.mapping}}}},
			}}
			issues := Check(a, cat)
			got := false
			for _, is := range issues {
				if is.ErrorType == MappingVariableMissingFromSchema && is.FieldKey == "to" {
					got = true
				}
			}
			if got != tc.wantIssue {
				t.Errorf("missing-variable issue = %v, want %v; issues %+v", got, tc.wantIssue, issues)
			}
			avail, err := AvailableSchema(a, "a1", cat)
			if err != nil {
				t.Fatal(err)
			}
			_, hasContact := avail["properties"].(map[string]any)["contact"]
			if hasContact != (tc.schema == marked) {
				t.Errorf("AvailableSchema has contact = %v, want %v", hasContact, tc.schema == marked)
			}
		})
	}
}
