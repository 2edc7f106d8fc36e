package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Paths of the action-provider SPI methods, appended to the app's providerBaseUri.
const (
	PathInvoke                = "/v1/invoke"
	PathValidateConfiguration = "/v1/validate-configuration"
	PathQuotaInfo             = "/v1/quota-info"
)

// InvokeRequest is the body of POST {providerBaseUri}/v1/invoke.
type InvokeRequest struct {
	ActionKey string `json:"actionKey"`
	// ActionParams is the action's input after mapping; Wix requires the field, so the client sends
	// {} rather than null when it is nil.
	ActionParams      map[string]any     `json:"actionParams"`
	ActivationContext *ActivationContext `json:"activationContext,omitempty"`
}

// ActivationContext is the metadata about the run that Wix sends with an invoke.
type ActivationContext struct {
	ActivationID string `json:"activationId,omitempty"`
	// EsbConfigurationID is the automation's runtime configuration id (reference §4.2).
	EsbConfigurationID string         `json:"esbConfigurationId,omitempty"`
	TriggerKey         string         `json:"triggerKey,omitempty"`
	TriggerAppID       string         `json:"triggerAppId,omitempty"`
	ActionID           string         `json:"actionId,omitempty"`
	Payload            map[string]any `json:"payload,omitempty"`
	ActionAppID        string         `json:"actionAppId,omitempty"`
	// InvocationToken is what the provider passes back to ReportActionInvocationCompleted when it
	// answers with a timeout.
	InvocationToken      string                `json:"invocationToken,omitempty"`
	ActivationSourceInfo *ActivationSourceInfo `json:"activationSourceInfo,omitempty"`
	InitiatorInfo        *InitiatorInfo        `json:"initiatorInfo,omitempty"`
	PreinstalledInfo     *PreinstalledInfo     `json:"preinstalledInfo,omitempty"`
	ForceSync            bool                  `json:"forceSync,omitempty"`
}

// Values of ActivationSourceInfo.ActivationInitiationSource.
const (
	SourceTriggerProviderEvent = "TRIGGER_PROVIDER_EVENT"
	SourceManualActivation     = "MANUAL_ACTIVATION"
	SourceRerunActivation      = "RERUN_ACTIVATION"
)

// ActivationSourceInfo says how the activation started. The two *Info members are a flattened oneof.
type ActivationSourceInfo struct {
	ActivationInitiationSource string                `json:"activationInitiationSource,omitempty"`
	ManualActivationInfo       *ManualActivationInfo `json:"manualActivationInfo,omitempty"`
	RerunActivationInfo        *RerunActivationInfo  `json:"rerunActivationInfo,omitempty"`
}

// ManualActivationInfo details a MANUAL_ACTIVATION.
type ManualActivationInfo struct {
	TestMode bool `json:"testMode,omitempty"`
}

// RerunActivationInfo details a RERUN_ACTIVATION.
type RerunActivationInfo struct {
	OriginalActivationID string `json:"originalActivationId,omitempty"`
	SkipDelays           bool   `json:"skipDelays,omitempty"`
}

// InitiatorInfo identifies the user who started the activation.
type InitiatorInfo struct {
	InitiatorUserID string `json:"initiatorUserId,omitempty"`
	WixEmployee     bool   `json:"wixEmployee,omitempty"`
}

// PreinstalledInfo identifies the preinstalled automation, if the run belongs to one.
type PreinstalledInfo struct {
	AppID       string `json:"appId,omitempty"`
	ComponentID string `json:"componentId,omitempty"`
}

// Values of InvokeResponse.InvokeTimeoutType.
const (
	InvokeTimeoutUnknown = "UNKNOWN_INVOKE_TIMEOUT_TYPE"
	InvokeImmediate      = "IMMEDIATE"
	InvokeTimeoutLength  = "TIMEOUT_LENGTH"
	InvokeTimeoutDate    = "TIMEOUT_DATE"
)

// Limits on an asynchronous invoke's timeout (reference §4.2).
const (
	MinTimeoutMinutes = 1
	MaxTimeoutMinutes = 24 * 60
)

// InvokeResponse is the provider's answer to an invoke.
type InvokeResponse struct {
	Result               map[string]any        `json:"result"`
	InvokeTimeoutType    string                `json:"invokeTimeoutType,omitempty"`
	TimeoutLengthOptions *TimeoutLengthOptions `json:"timeoutLengthOptions,omitempty"`
	TimeoutDateOptions   *TimeoutDateOptions   `json:"timeoutDateOptions,omitempty"`
}

// TimeoutLengthOptions goes with TIMEOUT_LENGTH.
type TimeoutLengthOptions struct {
	TimeoutInMinutes int `json:"timeoutInMinutes"`
}

// UnmarshalJSON also accepts the minutes as a decimal string, as proto3 JSON writers may send them.
func (o *TimeoutLengthOptions) UnmarshalJSON(b []byte) error {
	var raw struct {
		TimeoutInMinutes json.RawMessage `json:"timeoutInMinutes"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	s, ok, err := scalarText(raw.TimeoutInMinutes)
	if err != nil || !ok {
		o.TimeoutInMinutes = 0
		if err != nil {
			return fmt.Errorf("timeoutInMinutes: %w", err)
		}
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return fmt.Errorf("timeoutInMinutes: %q is not an integer", s)
	}
	o.TimeoutInMinutes = int(n)
	return nil
}

// TimeoutDateOptions goes with TIMEOUT_DATE.
type TimeoutDateOptions struct {
	TimeoutDate time.Time `json:"timeoutDate"`
}

// TimeoutType is the effective timeout type: anything other than TIMEOUT_LENGTH or TIMEOUT_DATE —
// empty, UNKNOWN_INVOKE_TIMEOUT_TYPE or a value this version does not know — means IMMEDIATE, Wix's
// default.
func (r *InvokeResponse) TimeoutType() string {
	if r == nil {
		return InvokeImmediate
	}
	switch r.InvokeTimeoutType {
	case InvokeTimeoutLength, InvokeTimeoutDate:
		return r.InvokeTimeoutType
	}
	return InvokeImmediate
}

// Validate checks the timeout fields against now: TIMEOUT_LENGTH needs timeoutInMinutes in
// 1..1440, TIMEOUT_DATE needs a timeoutDate after now and at most one year ahead. An IMMEDIATE
// response is always valid; its timeout options, if any, are ignored.
func (r *InvokeResponse) Validate(now time.Time) error {
	if r == nil {
		return errors.New("empty invoke response")
	}
	switch r.TimeoutType() {
	case InvokeTimeoutLength:
		if r.TimeoutLengthOptions == nil {
			return errors.New("TIMEOUT_LENGTH without timeoutLengthOptions")
		}
		if m := r.TimeoutLengthOptions.TimeoutInMinutes; m < MinTimeoutMinutes || m > MaxTimeoutMinutes {
			return fmt.Errorf("timeoutLengthOptions.timeoutInMinutes must be %d..%d, got %d",
				MinTimeoutMinutes, MaxTimeoutMinutes, m)
		}
	case InvokeTimeoutDate:
		if r.TimeoutDateOptions == nil || r.TimeoutDateOptions.TimeoutDate.IsZero() {
			return errors.New("TIMEOUT_DATE without timeoutDateOptions.timeoutDate")
		}
		d := r.TimeoutDateOptions.TimeoutDate
		if !d.After(now) {
			return fmt.Errorf("timeoutDateOptions.timeoutDate %s is not in the future", d.UTC().Format(time.RFC3339Nano))
		}
		if d.After(now.AddDate(1, 0, 0)) {
			return fmt.Errorf("timeoutDateOptions.timeoutDate %s is more than 1 year ahead", d.UTC().Format(time.RFC3339Nano))
		}
	}
	return nil
}

// Deadline is when the engine stops waiting for ReportActionInvocationCompleted. ok is false for an
// IMMEDIATE response and for one that fails Validate(now).
func (r *InvokeResponse) Deadline(now time.Time) (deadline time.Time, ok bool) {
	if r.Validate(now) != nil {
		return time.Time{}, false
	}
	switch r.TimeoutType() {
	case InvokeTimeoutLength:
		return now.Add(time.Duration(r.TimeoutLengthOptions.TimeoutInMinutes) * time.Minute), true
	case InvokeTimeoutDate:
		return r.TimeoutDateOptions.TimeoutDate, true
	}
	return time.Time{}, false
}

// ValidateConfigurationRequest is the body of POST {providerBaseUri}/v1/validate-configuration.
type ValidateConfigurationRequest struct {
	ActionKey string `json:"actionKey"`
	// InputMapping is the action's input mapping as stringified JSON, as Wix sends it.
	InputMapping string `json:"inputMapping"`
}

// ValidateConfigurationResponse is the provider's verdict on an action's configuration.
type ValidateConfigurationResponse struct {
	Valid               bool                 `json:"valid"`
	ConfigurationErrors []ConfigurationError `json:"configurationErrors,omitempty"`
}

// ConfigurationError is Wix's ProviderConfigurationError.
type ConfigurationError struct {
	FieldKey string `json:"fieldKey,omitempty"`
	Message  string `json:"message"`
	CTALabel string `json:"ctaLabel,omitempty"`
	CTAURL   string `json:"ctaUrl,omitempty"`
	Title    string `json:"title"`
}

// QuotaInfoRequest is the body of POST {providerBaseUri}/v1/quota-info.
type QuotaInfoRequest struct {
	ActionKey string `json:"actionKey"`
}

// QuotaInfoResponse is the provider's answer to quota-info.
type QuotaInfoResponse struct {
	ActionQuotaInfo ActionQuotaInfo `json:"actionQuotaInfo"`
}

// ActionQuotaInfo has the same shape here as in GetActionsQuotaInfo (reference §2.5).
type ActionQuotaInfo struct {
	Enforced  bool        `json:"enforced"`
	QuotaInfo []QuotaInfo `json:"quotaInfo"`
}

// QuotaInfo is the quota of one group of plans.
type QuotaInfo struct {
	Plans      []Plan  `json:"plans"`
	Quotas     []Quota `json:"quotas"`
	UpgradeCTA *CTA    `json:"upgradeCta,omitempty"`
}

// Plan is a premium plan of the app.
type Plan struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Quota is the usage of one feature. Usage and limit are int64 on Wix's side, hence strings.
type Quota struct {
	FeatureName  string    `json:"featureName"`
	RenewalDate  time.Time `json:"renewalDate,omitzero"`
	CurrentUsage string    `json:"currentUsage"`
	// Limit is nil when the feature is unlimited.
	Limit          *string         `json:"limit"`
	AdditionalInfo *AdditionalInfo `json:"additionalInfo,omitempty"`
}

// UnmarshalJSON also accepts currentUsage and limit as JSON numbers: providers written in
// JavaScript tend to send them that way.
func (q *Quota) UnmarshalJSON(b []byte) error {
	type plain Quota
	var aux struct {
		plain
		CurrentUsage json.RawMessage `json:"currentUsage"`
		Limit        json.RawMessage `json:"limit"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*q = Quota(aux.plain)
	usage, _, err := scalarText(aux.CurrentUsage)
	if err != nil {
		return fmt.Errorf("currentUsage: %w", err)
	}
	q.CurrentUsage = usage
	limit, ok, err := scalarText(aux.Limit)
	if err != nil {
		return fmt.Errorf("limit: %w", err)
	}
	q.Limit = nil
	if ok {
		q.Limit = &limit
	}
	return nil
}

// AdditionalInfo explains a quota to the user.
type AdditionalInfo struct {
	Description string `json:"description"`
	CTA         *CTA   `json:"cta,omitempty"`
}

// CTA is a call to action: a link and its label.
type CTA struct {
	URL   string `json:"url"`
	Label string `json:"label"`
}

// scalarText returns a JSON string's value or a JSON number's literal text; ok is false for an
// absent or null value.
func scalarText(raw json.RawMessage) (s string, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, err
		}
		return s, true, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", false, errors.New("must be a string or a number")
	}
	return n.String(), true, nil
}

// decodeJSON decodes exactly one JSON value from body into v; trailing data is an error.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
