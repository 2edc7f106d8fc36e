// Package catalog holds what apps register with the platform — apps, trigger and action definitions with
// their schemas — and which sites installed which apps. Shapes follow Wix's trigger catalog (reference §4.4).
package catalog

import (
	"encoding/json"
	"time"
)

// App is a provider of triggers and actions.
type App struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	ProviderBaseURI string `json:"providerBaseUri,omitempty"`
	// RequestFormat is how outbound service-plugin calls reach the provider (RequestFormatSwitchyard
	// when empty); see secrets.go.
	RequestFormat string    `json:"requestFormat,omitempty"`
	CreatedDate   time.Time `json:"createdDate"`
	UpdatedDate   time.Time `json:"updatedDate"`
}

// Trigger is an event kind an app reports, with the JSON Schema its payloads must satisfy.
type Trigger struct {
	ID                string          `json:"id"`
	AppID             string          `json:"appId"`
	TriggerKey        string          `json:"triggerKey"`
	DisplayName       string          `json:"displayName"`
	PayloadDataSchema json.RawMessage `json:"payloadDataSchema"`
	// ImplementedMethods are the trigger-provider methods the app implements (refreshPayload,
	// validateConfiguration); absent: none, and the platform calls none.
	ImplementedMethods ImplementedMethods `json:"implementedMethods,omitempty"`
	CreatedDate        time.Time          `json:"createdDate"`
	UpdatedDate        time.Time          `json:"updatedDate"`
}

// Action is an operation an app performs when an automation invokes it.
type Action struct {
	ID           string          `json:"id"`
	AppID        string          `json:"appId"`
	ActionKey    string          `json:"actionKey"`
	DisplayName  string          `json:"displayName"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema,omitempty"`
	UISchema     json.RawMessage `json:"uiSchema,omitempty"`
	// ImplementedMethods are the action-provider methods besides invoke that the app implements
	// (validateConfiguration, getQuotaInfo); absent: invoke only.
	ImplementedMethods ImplementedMethods `json:"implementedMethods,omitempty"`
	CreatedDate        time.Time          `json:"createdDate"`
	UpdatedDate        time.Time          `json:"updatedDate"`
}

// Installation records that a site installed an app: only then may the site use its triggers and actions.
type Installation struct {
	SiteID      string    `json:"siteId"`
	AppID       string    `json:"appId"`
	CreatedDate time.Time `json:"createdDate"`
}
