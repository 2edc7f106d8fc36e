// Package systemapp is Switchyard's built-in app: installed on every site, registered in the catalog like
// any other app, with its triggers and actions served in-process instead of over HTTP.
package systemapp

// AppID is the system app's fixed id, the same on every deployment (documented in the README).
const AppID = "5e1f0000-0000-4000-8000-000000000001"

// Keys of the system app's triggers and actions.
const (
	// TriggerContactUpdated fires when a contact is updated through /v1/contacts; its payload is the contact.
	TriggerContactUpdated = "contact_updated"
	// ActionWebhook calls an HTTP endpoint: inputs url, method, headers, body; output {status, body}.
	ActionWebhook = "webhook"
)
