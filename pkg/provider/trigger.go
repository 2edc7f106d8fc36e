package provider

import (
	"context"
	"errors"
)

// Paths of the trigger-provider SPI methods (reference §4.3), appended to the app's providerBaseUri.
// They carry the /v1 prefix of the action methods: @wix/sdk dispatches on the URL suffix, which still
// matches, and one app serving both plugins tells the calls apart by triggerKey versus actionKey.
const (
	PathRefreshPayload               = "/v1/refresh-payload"
	PathTriggerValidateConfiguration = "/v1/validate-configuration"
)

// RefreshPayloadRequest is the body of POST {providerBaseUri}/v1/refresh-payload, sent before an action
// that follows a delay runs.
type RefreshPayloadRequest struct {
	TriggerKey       string         `json:"triggerKey,omitempty"`
	ExternalEntityID string         `json:"externalEntityId,omitempty"`
	Payload          map[string]any `json:"payload"`
}

// RefreshPayloadResponse is the trigger provider's fresh view of the event.
type RefreshPayloadResponse struct {
	Payload map[string]any `json:"payload"`
	// CancelActivation asks the platform to cancel the activation (CANCELLED_BY_REFRESH_PAYLOAD).
	CancelActivation bool `json:"cancelActivation,omitempty"`
}

// TriggerValidateConfigurationRequest is the body of a trigger's validate-configuration call.
type TriggerValidateConfigurationRequest struct {
	TriggerKey              string                 `json:"triggerKey"`
	SelectedFilterOptions   []SelectedFilterOption `json:"selectedFilterOptions,omitempty"`
	AutomationConfigMapping map[string]any         `json:"automationConfigMapping,omitempty"`
}

// SelectedFilterOption is the values an automation selected for one of the trigger's filters.
type SelectedFilterOption struct {
	FieldKey string   `json:"fieldKey"`
	Values   []string `json:"values"`
}

// RefreshPayload asks the trigger's provider for the event's current payload. An answer that neither
// cancels nor carries a payload object is Malformed: replacing the payload with nothing would lose it.
func (c *Client) RefreshPayload(ctx context.Context, target Target, req RefreshPayloadRequest) (*RefreshPayloadResponse, error) {
	if req.Payload == nil {
		req.Payload = map[string]any{}
	}
	return call(c, ctx, target, PathRefreshPayload, req, func(r *RefreshPayloadResponse) error {
		if !r.CancelActivation && r.Payload == nil {
			return errors.New("refresh-payload answer has no payload object")
		}
		return nil
	})
}

// ValidateTriggerConfiguration asks the trigger's provider whether an automation's filter selection
// and trigger configuration are valid.
func (c *Client) ValidateTriggerConfiguration(ctx context.Context, target Target, req TriggerValidateConfigurationRequest) (*ValidateConfigurationResponse, error) {
	return call[ValidateConfigurationResponse](c, ctx, target, PathTriggerValidateConfiguration, req, nil)
}
