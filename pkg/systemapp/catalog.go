package systemapp

import (
	"encoding/json"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
)

// Fixed ids of the system app's catalog entries: every deployment, and every concurrent registration,
// writes the same records.
const (
	triggerContactUpdatedID = "5e1f0000-0000-4000-8000-000000000101"
	actionWebhookID         = "5e1f0000-0000-4000-8000-000000000201"
)

// Name is the system app's display name.
const Name = "Switchyard"

// ContactUpdatedSchema is the payload of contact_updated: the contact as it is after the update.
const ContactUpdatedSchema = `{"type":"object","required":["contactId"],"properties":{
  "contactId":{"type":"string","format":"uuid","identityType":"contact","title":"Contact ID"},
  "email":{"type":"string"},"phone":{"type":"string"},
  "name":{"type":"object","properties":{"first":{"type":"string"},"last":{"type":"string"}}},
  "attributes":{"type":"object"},
  "data":{"type":"object","description":"Extra data given when the run was started through the API."}}}`

// Webhook action schemas. The body is any JSON: string values inside it may hold {{ }} expressions,
// which the engine resolves like any input mapping before the action runs.
const (
	WebhookInputSchema = `{"type":"object","required":["url"],"additionalProperties":false,"properties":{
  "url":{"type":"string","format":"uri","maxLength":2048,"title":"URL","description":"http or https address to call."},
  "method":{"type":"string","enum":["GET","POST","PUT","PATCH","DELETE"],"default":"POST","title":"Method"},
  "headers":{"type":"object","additionalProperties":{"type":"string"},"title":"Headers"},
  "body":{"title":"Body","description":"Any JSON. A string is sent as text/plain, anything else as application/json."}}}`
	WebhookUISchema = `{"ui:order":["url","method","headers","body"],
  "url":{"ui:placeholder":"https://example.com/hooks/contact"},
  "method":{"ui:widget":"select"},
  "headers":{"ui:options":{"addable":true}},
  "body":{"ui:widget":"json"}}`
	WebhookOutputSchema = `{"type":"object","required":["status"],"properties":{
  "status":{"type":"integer","title":"Status code","description":"HTTP status of the final answer (2xx; anything else fails the action)."},
  "body":{"title":"Response body","description":"The answer's body: parsed when it is JSON, else its text."}}}`
)

// App is the system app's catalog record. It has no provider URI: its actions run in-process.
func App() *catalog.App { return &catalog.App{ID: AppID, Name: Name} }

// Triggers are the system app's trigger definitions.
func Triggers() []*catalog.Trigger {
	return []*catalog.Trigger{{ID: triggerContactUpdatedID, AppID: AppID, TriggerKey: TriggerContactUpdated,
		DisplayName: "Contact updated", PayloadDataSchema: json.RawMessage(ContactUpdatedSchema)}}
}

// Actions are the system app's action definitions.
func Actions() []*catalog.Action {
	return []*catalog.Action{{ID: actionWebhookID, AppID: AppID, ActionKey: ActionWebhook, DisplayName: "Call a webhook",
		InputSchema: json.RawMessage(WebhookInputSchema), UISchema: json.RawMessage(WebhookUISchema),
		OutputSchema: json.RawMessage(WebhookOutputSchema)}}
}
