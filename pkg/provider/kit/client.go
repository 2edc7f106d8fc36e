package kit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client makes the calls an app makes to Switchyard: ReportEvent and CancelEvent for its triggers,
// ReportActionInvocationCompleted for its async actions. It authenticates with an app API key (one per
// site: POST /v1/api-keys with the app's id). Safe for concurrent use.
type Client struct {
	base    string
	key     string
	hc      *http.Client
	timeout time.Duration
}

// ClientOptions tune a Client. Zero fields take the defaults.
type ClientOptions struct {
	HTTPClient *http.Client  // default: a client of its own
	Timeout    time.Duration // per call, default 10 s
}

// NewClient returns a Client for the platform at baseURL (e.g. http://127.0.0.1:8080) acting with
// apiKey.
func NewClient(baseURL, apiKey string, o ClientOptions) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), key: apiKey, hc: o.HTTPClient, timeout: o.Timeout}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	return c
}

// APIError is the platform's answer to a refused call: the HTTP status and Wix's error body.
type APIError struct {
	StatusCode int
	// Code is applicationError.code (e.g. TRIGGER_NOT_FOUND, INVOCATION_EXPIRED); empty for
	// validation errors, which carry Violations instead.
	Code       string
	Message    string
	Violations []FieldViolation
	RequestID  string
}

// FieldViolation names one invalid request field.
type FieldViolation struct {
	Field        string `json:"field"`
	Description  string `json:"description"`
	ViolatedRule string `json:"violatedRule"`
}

func (e *APIError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("switchyard: HTTP %d %s: %s", e.StatusCode, e.Code, e.Message)
	}
	return fmt.Sprintf("switchyard: HTTP %d: %s", e.StatusCode, e.Message)
}

// HasCode reports whether err is an *APIError with the given applicationError code.
func HasCode(err error, code string) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == code
}

// Idempotency makes repeated reports of one event start its automations once.
type Idempotency struct {
	Key string `json:"key"`
	// TTL is how long the key is remembered (default on the platform: 7 days).
	TTL time.Duration `json:"-"`
}

// Event is one ReportEvent.
type Event struct {
	TriggerKey string
	Payload    map[string]any
	// ExternalEntityID makes the event cancellable with CancelEvent.
	ExternalEntityID string
	Idempotency      *Idempotency
}

// ReportEvent reports an event of one of the app's triggers and returns the activations it started.
func (c *Client) ReportEvent(ctx context.Context, ev Event) ([]string, error) {
	body := map[string]any{"triggerKey": ev.TriggerKey, "payload": ev.Payload}
	if body["payload"] == nil {
		body["payload"] = map[string]any{}
	}
	if ev.ExternalEntityID != "" {
		body["externalEntityId"] = ev.ExternalEntityID
	}
	if ev.Idempotency != nil {
		idem := map[string]any{"key": ev.Idempotency.Key}
		if ev.Idempotency.TTL > 0 {
			idem["ttlInMilliseconds"] = fmt.Sprint(ev.Idempotency.TTL.Milliseconds()) // int64: a JSON string
		}
		body["idempotency"] = idem
	}
	var out struct {
		ActivationIDs []string `json:"activationIds"`
	}
	if err := c.post(ctx, "/automations/v1/events/report", body, &out); err != nil {
		return nil, fmt.Errorf("report %s event: %w", ev.TriggerKey, err)
	}
	return out.ActivationIDs, nil
}

// CancelEvent cancels every pending activation of (triggerKey, externalEntityID).
func (c *Client) CancelEvent(ctx context.Context, triggerKey, externalEntityID string) error {
	body := map[string]any{"triggerKey": triggerKey, "externalEntityId": externalEntityID}
	if err := c.post(ctx, "/automations/v1/events/cancel", body, nil); err != nil {
		return fmt.Errorf("cancel %s event %s: %w", triggerKey, externalEntityID, err)
	}
	return nil
}

// Completion is the outcome of an async action: Success with Result (the action's output), or a
// failure with ErrorDescription.
type Completion struct {
	Success          bool
	Result           map[string]any
	ErrorDescription string
}

// ReportActionInvocationCompleted completes an action whose invoke answered with a timeout, naming it
// by the invocation token of its activationContext. alreadyCompleted is true when the platform had
// recorded a completion for it before (a repeat is harmless). A completion after the timeout is an
// *APIError with Code INVOCATION_EXPIRED.
func (c *Client) ReportActionInvocationCompleted(ctx context.Context, invocationToken string, done Completion) (alreadyCompleted bool, err error) {
	body := map[string]any{"invocationToken": invocationToken}
	if done.Success {
		result := done.Result
		if result == nil {
			result = map[string]any{}
		}
		body["status"], body["successInfo"] = "SUCCESS", map[string]any{"result": result}
	} else {
		body["status"], body["failureInfo"] = "FAILURE", map[string]any{"errorDescription": done.ErrorDescription}
	}
	var out struct {
		AlreadyCompleted bool `json:"alreadyCompleted"`
	}
	if err := c.post(ctx, "/automations_runtime/v1/report-action-invocation-completed", body, &out); err != nil {
		return false, fmt.Errorf("report invocation completed: %w", err)
	}
	return out.AlreadyCompleted, nil
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return apiError(resp, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("response is not the expected JSON: %w", err)
	}
	return nil
}

func apiError(resp *http.Response, raw []byte) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Wix-Request-Id")}
	var body struct {
		Message string `json:"message"`
		Details struct {
			ApplicationError *struct {
				Code        string `json:"code"`
				Description string `json:"description"`
			} `json:"applicationError"`
			ValidationError *struct {
				FieldViolations []FieldViolation `json:"fieldViolations"`
			} `json:"validationError"`
		} `json:"details"`
	}
	if json.Unmarshal(raw, &body) != nil {
		e.Message = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		if e.Message == "" {
			e.Message = resp.Status
		}
		return e
	}
	e.Message = body.Message
	if a := body.Details.ApplicationError; a != nil {
		e.Code = a.Code
		if e.Message == "" {
			e.Message = a.Description
		}
	}
	if v := body.Details.ValidationError; v != nil {
		e.Violations = v.FieldViolations
	}
	return e
}
