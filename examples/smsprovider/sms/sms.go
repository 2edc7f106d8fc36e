// Package sms is an example action provider built on Switchyard's Go kit: a send-sms action with a
// monthly quota and asynchronous delivery receipts.
//
//   - invoke (send-sms): checks the number, counts the message against the month's quota (over it: a
//     clear QUOTA_EXCEEDED failure), queues it and answers with a timeout — the automation waits.
//   - A delivery receipt (POST /receipts, as a carrier would send it) completes the waiting action
//     through ReportActionInvocationCompleted: DELIVERED → its output, FAILED → the action fails.
//   - quota-info reports the month's usage; validate-configuration rejects a literal "to" that is not
//     a phone number.
//
// Messages are kept in memory: enough for an example, lost on restart.
package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/provider/kit"
)

// ActionKey is the action this provider implements.
const ActionKey = "send-sms"

// Platform is the part of kit.Client the provider calls back.
type Platform interface {
	ReportActionInvocationCompleted(ctx context.Context, token string, done kit.Completion) (bool, error)
}

// Message is one SMS and where it is.
type Message struct {
	ID     string    `json:"id"`
	To     string    `json:"to"`
	Text   string    `json:"text"`
	Status string    `json:"status"` // QUEUED, DELIVERED, FAILED
	Queued time.Time `json:"queuedAt"`
	// Account is the quota bucket: the site the call is for (the kit's Call.InstanceID: the signed site
	// header of Switchyard's own format, metadata.instanceId of WIX_JWT).
	Account string `json:"account"`
	token   string
}

// Provider holds the state of the example.
type Provider struct {
	limit    int
	platform Platform
	now      func() time.Time

	mu       sync.Mutex
	messages map[string]*Message // by id
	byKey    map[string]*Message // by the invoke's Idempotency-Key: a repeated invoke is one message
	usage    map[string]int      // account + "|" + "2006-01" → messages queued
	order    []string
}

// New returns a provider allowing limit messages per account and month.
func New(limit int, platform Platform, now func() time.Time) *Provider {
	if now == nil {
		now = time.Now
	}
	return &Provider{limit: limit, platform: platform, now: now, messages: map[string]*Message{},
		byKey: map[string]*Message{}, usage: map[string]int{}}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Invoke is the kit's invoke handler.
func (p *Provider) Invoke(_ context.Context, call kit.Call, req *provider.InvokeRequest) (*provider.InvokeResponse, error) {
	if req.ActionKey != ActionKey {
		return nil, kit.Errorf(http.StatusBadRequest, "UNKNOWN_ACTION", "this provider has no action %q", req.ActionKey)
	}
	to, _ := req.ActionParams["to"].(string)
	text, _ := req.ActionParams["text"].(string)
	if !e164.MatchString(to) {
		return nil, kit.Errorf(http.StatusBadRequest, "INVALID_PHONE_NUMBER", "%q is not a phone number in E.164 form (+15550100)", to)
	}
	if req.ActivationContext == nil || req.ActivationContext.InvocationToken == "" {
		return nil, kit.Errorf(http.StatusBadRequest, "NO_INVOCATION_TOKEN", "send-sms completes asynchronously and needs activationContext.invocationToken")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.byKey[call.IdempotencyKey]; m != nil && call.IdempotencyKey != "" {
		return queued(m), nil
	}
	now := p.now().UTC()
	bucket := call.InstanceID + "|" + now.Format("2006-01")
	if used := p.usage[bucket]; used >= p.limit {
		return nil, kit.Errorf(http.StatusForbidden, "QUOTA_EXCEEDED", "monthly quota of %d SMS messages is used up (%d/%d); it renews on %s",
			p.limit, used, p.limit, renewal(now).Format("2006-01-02"))
	}
	p.usage[bucket]++
	m := &Message{ID: uuid.NewString(), To: to, Text: text, Status: "QUEUED", Queued: now, Account: call.InstanceID,
		token: req.ActivationContext.InvocationToken}
	p.messages[m.ID] = m
	p.order = append(p.order, m.ID)
	if call.IdempotencyKey != "" {
		p.byKey[call.IdempotencyKey] = m
	}
	return queued(m), nil
}

// queued is the answer to a queued message: wait up to an hour for its receipt. The result is the
// output the action keeps if no receipt comes.
func queued(m *Message) *provider.InvokeResponse {
	return &provider.InvokeResponse{Result: map[string]any{"messageId": m.ID, "status": "QUEUED"},
		InvokeTimeoutType: provider.InvokeTimeoutLength, TimeoutLengthOptions: &provider.TimeoutLengthOptions{TimeoutInMinutes: 60}}
}

// QuotaInfo is the kit's quota-info handler: this month's usage of the caller's account.
func (p *Provider) QuotaInfo(_ context.Context, call kit.Call, req *provider.QuotaInfoRequest) (*provider.QuotaInfoResponse, error) {
	if req.ActionKey != ActionKey {
		return nil, kit.Errorf(http.StatusBadRequest, "UNKNOWN_ACTION", "this provider has no action %q", req.ActionKey)
	}
	now := p.now().UTC()
	p.mu.Lock()
	used := p.usage[call.InstanceID+"|"+now.Format("2006-01")]
	p.mu.Unlock()
	limit := strconv.Itoa(p.limit)
	return &provider.QuotaInfoResponse{ActionQuotaInfo: provider.ActionQuotaInfo{Enforced: true, QuotaInfo: []provider.QuotaInfo{{
		Plans: []provider.Plan{{ID: "free", Name: "Free"}},
		Quotas: []provider.Quota{{FeatureName: "SMS messages", RenewalDate: renewal(now), CurrentUsage: strconv.Itoa(used), Limit: &limit,
			AdditionalInfo: &provider.AdditionalInfo{Description: "Messages sent this month"}}},
	}}}}, nil
}

// ValidateConfiguration rejects a literal "to" that is not a phone number; an expression is checked
// when it runs.
func (p *Provider) ValidateConfiguration(_ context.Context, _ kit.Call, req *provider.ValidateConfigurationRequest) (*provider.ValidateConfigurationResponse, error) {
	var mapping map[string]any
	if err := json.Unmarshal([]byte(req.InputMapping), &mapping); err != nil {
		return nil, kit.Errorf(http.StatusBadRequest, "MALFORMED_INPUT_MAPPING", "inputMapping is not a JSON object: %s", err)
	}
	to, _ := mapping["to"].(string)
	if to != "" && !strings.Contains(to, "{{") && !e164.MatchString(to) {
		return &provider.ValidateConfigurationResponse{Valid: false, ConfigurationErrors: []provider.ConfigurationError{{
			FieldKey: "to", Title: "Invalid phone number", Message: fmt.Sprintf("%q is not a phone number in E.164 form (+15550100)", to)}}}, nil
	}
	return &provider.ValidateConfigurationResponse{Valid: true}, nil
}

// Receipt records a carrier's delivery receipt and completes the waiting action.
func (p *Provider) Receipt(ctx context.Context, messageID string, delivered bool, reason string) error {
	p.mu.Lock()
	m := p.messages[messageID]
	if m == nil {
		p.mu.Unlock()
		return kit.Errorf(http.StatusNotFound, "MESSAGE_NOT_FOUND", "no message %s", messageID)
	}
	status := "DELIVERED"
	if !delivered {
		status = "FAILED"
	}
	m.Status = status
	token := m.token
	p.mu.Unlock()

	done := kit.Completion{Success: true, Result: map[string]any{"messageId": messageID, "status": status}}
	if !delivered {
		if reason == "" {
			reason = "the carrier did not deliver the message"
		}
		done = kit.Completion{ErrorDescription: fmt.Sprintf("SMS %s to %s failed: %s", messageID, m.To, reason)}
	}
	_, err := p.platform.ReportActionInvocationCompleted(ctx, token, done)
	return err
}

// Messages lists every message, oldest first.
func (p *Provider) Messages() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Message, 0, len(p.order))
	for _, id := range p.order {
		out = append(out, *p.messages[id])
	}
	return out
}

// renewal is the first day of the next month, when the quota starts over.
func renewal(now time.Time) time.Time {
	return time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}
