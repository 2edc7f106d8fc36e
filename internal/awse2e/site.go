// Package awse2e runs Switchyard's AWS path offline, end to end: the real Lambda handlers of pkg/awsrt
// bound to a local Lambda Invoke API, the real state machine definition executed by
// aws-local-stepfunctions, the DynamoDB store on DynamoDB Local, a real provider over HTTP, and the REST
// API driving it all. Its tests are the proof that statemachines/activation.asl.json works with the
// engine; see "Running Switchyard on AWS" in the README.
//
// This file holds the fixtures the tests share with pkg/awsrt's tests: an API client that talks to an
// http.Handler directly, a site with an app, a trigger and actions registered through the API, and
// automations of known shapes.
package awse2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Ids and keys of the fixture site.
const (
	AdminKey = "sy_test_admin_key_for_aws_e2e"
	Site     = "11111111-1111-4111-8111-111111111111"
	App      = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	Trigger  = "form_submitted"
)

// Client calls the REST API handler in-process, as a key holder.
type Client struct {
	T       testing.TB
	Handler http.Handler
	Key     string
}

// Call sends one request and decodes the JSON answer into out (when not nil); it returns the status.
func (c Client) Call(method, path string, body, out any) int {
	c.T.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if c.Key != "" {
		req.Header.Set("Authorization", c.Key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	c.Handler.ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			c.T.Fatalf("%s %s: status %d, body is not JSON: %v: %s", method, path, rec.Code, err, rec.Body.Bytes())
		}
	}
	return rec.Code
}

// Must calls and fails the test unless the answer is 200.
func (c Client) Must(method, path string, body any) map[string]any {
	c.T.Helper()
	var out map[string]any
	if code := c.Call(method, path, body, &out); code != http.StatusOK {
		c.T.Fatalf("%s %s: status %d: %v", method, path, code, out)
	}
	return out
}

// ActivationLog returns GET /v2/activation-logs/{id}'s activationLog.
func (c Client) ActivationLog(id string) map[string]any {
	c.T.Helper()
	log, _ := c.Must("GET", "/v2/activation-logs/"+id, nil)["activationLog"].(map[string]any)
	return log
}

// ActionLogs returns the activation's action logs in the order the actions ran.
func (c Client) ActionLogs(id string) []map[string]any {
	c.T.Helper()
	var out []map[string]any
	for _, l := range c.Must("GET", "/v2/activation-action-logs?activationId="+id, nil)["activationActionLogs"].([]any) {
		out = append(out, l.(map[string]any))
	}
	return out
}

// Report reports one form_submitted event as the app and returns the activation ids.
func (c Client) Report(payload map[string]any, externalEntityID string) []string {
	c.T.Helper()
	body := map[string]any{"triggerKey": Trigger, "payload": payload}
	if externalEntityID != "" {
		body["externalEntityId"] = externalEntityID
	}
	var ids []string
	for _, id := range c.Must("POST", "/automations/v1/events/report", body)["activationIds"].([]any) {
		ids = append(ids, id.(string))
	}
	return ids
}

// Dig walks nested JSON maps by a dotted path.
func Dig(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// SetupSite registers, through the API, an app served by providerURL with the trigger form_submitted and
// the actions lookup_coupon, send_sms, note (any text) and approve (the test provider answers it
// asynchronously), installs it on Site, and returns an owner client and an app client for that site.
func SetupSite(t testing.TB, h http.Handler, providerURL string) (owner, app Client) {
	t.Helper()
	admin := Client{T: t, Handler: h, Key: AdminKey}
	admin.Must("POST", "/v1/apps", map[string]any{"app": map[string]any{"id": App, "name": "Forms", "providerBaseUri": providerURL}})
	admin.Must("POST", "/v1/triggers", triggerBody(nil))
	text := map[string]any{"type": "object", "required": []string{"text"}, "properties": map[string]any{"text": map[string]any{"type": "string"}}}
	for _, a := range []map[string]any{
		{"actionKey": "lookup_coupon", "displayName": "Look up coupon",
			"inputSchema":  map[string]any{"type": "object", "required": []string{"email"}, "properties": map[string]any{"email": map[string]any{"type": "string"}}},
			"outputSchema": map[string]any{"type": "object", "properties": map[string]any{"code": map[string]any{"type": "string"}}}},
		{"actionKey": "send_sms", "displayName": "Send SMS", "inputSchema": text},
		{"actionKey": "note", "displayName": "Note", "inputSchema": text},
		{"actionKey": "approve", "displayName": "Wait for approval", "inputSchema": text},
	} {
		a["appId"] = App
		admin.Must("POST", "/v1/actions", map[string]any{"action": a})
	}
	ownerKey := admin.Must("POST", "/v1/api-keys", map[string]any{"apiKey": map[string]any{"siteId": Site, "name": "owner"}})["key"].(string)
	appKey := admin.Must("POST", "/v1/api-keys", map[string]any{"apiKey": map[string]any{"siteId": Site, "appId": App, "name": "forms app"}})["key"].(string)
	owner = Client{T: t, Handler: h, Key: ownerKey}
	app = Client{T: t, Handler: h, Key: "Bearer " + appKey}
	owner.Must("POST", "/v1/installations", map[string]any{"appId": App})
	return owner, app
}

// triggerBody registers form_submitted, declaring the given trigger-provider methods.
func triggerBody(methods []string) map[string]any {
	t := map[string]any{
		"appId": App, "triggerKey": Trigger, "displayName": "Form submitted",
		"payloadDataSchema": map[string]any{"type": "object", "required": []string{"name", "email"},
			"properties": map[string]any{"name": map[string]any{"type": "string"}, "email": map[string]any{"type": "string", "format": "email"}}},
	}
	if len(methods) > 0 {
		t["implementedMethods"] = methods
	}
	return map[string]any{"trigger": t}
}

// DeclareTriggerMethods registers form_submitted again, now declaring trigger-provider methods
// (e.g. "refreshPayload") that its provider implements.
func DeclareTriggerMethods(t testing.TB, h http.Handler, methods ...string) {
	t.Helper()
	Client{T: t, Handler: h, Key: AdminKey}.Must("POST", "/v1/triggers", triggerBody(methods))
}

// ActionID is the id of the i-th action (from 1) of the fixture automations.
func ActionID(i int) string { return fmt.Sprintf("c0000000-0000-4000-8000-%012d", i) }

// Automation wraps actions into an ACTIVE automation of form_submitted starting at roots.
func Automation(name string, roots []string, actions map[string]any) map[string]any {
	return map[string]any{"automation": map[string]any{
		"name": name, "origin": "USER",
		"configuration": map[string]any{
			"status":        "ACTIVE",
			"trigger":       map[string]any{"appId": App, "triggerKey": Trigger},
			"rootActionIds": roots,
			"actions":       actions,
		},
	}}
}

// AppAction is an APP_DEFINED action of the fixture app.
func AppAction(key string, input map[string]any, posts ...string) map[string]any {
	info := map[string]any{"appId": App, "actionKey": key, "inputMapping": input}
	if len(posts) > 0 {
		info["postActionIds"] = posts
	}
	return map[string]any{"type": "APP_DEFINED", "appDefinedInfo": info}
}

// CouponBySMS is the walking skeleton of cmd/switchyard's e2e test: lookup_coupon, then send_sms with a
// text mapped from the first action's output.
func CouponBySMS() map[string]any {
	lookup, send := ActionID(1), ActionID(2)
	return Automation("Coupon by SMS", []string{lookup}, map[string]any{
		lookup: AppAction("lookup_coupon", map[string]any{"email": `{{var("email")}}`}, send),
		send: map[string]any{"type": "APP_DEFINED", "namespace": "sms", "appDefinedInfo": map[string]any{
			"appId": App, "actionKey": "send_sms",
			"inputMapping": map[string]any{"text": `Hi {{var("name")}}, your code is {{var("lookup_coupon-1.code")}}!`}}},
	})
}

// Chain is n note actions in a row, each mapping its text from the trigger payload.
func Chain(n int) map[string]any {
	actions := map[string]any{}
	for i := 1; i <= n; i++ {
		var posts []string
		if i < n {
			posts = []string{ActionID(i + 1)}
		}
		actions[ActionID(i)] = AppAction("note", map[string]any{"text": fmt.Sprintf(`{{var("name")}} #%d`, i)}, posts...)
	}
	return Automation(fmt.Sprintf("Chain of %d", n), []string{ActionID(1)}, actions)
}

// Delayed is a delay of the given length followed by one note.
func Delayed(d time.Duration) map[string]any {
	minutes := fmt.Sprintf("%g", d.Minutes())
	return Automation("Delayed note", []string{ActionID(1)}, map[string]any{
		ActionID(1): map[string]any{"type": "DELAY", "delayInfo": map[string]any{
			"offsetExpression": minutes, "offsetTimeUnit": "MINUTES", "postActionIds": []string{ActionID(2)}}},
		ActionID(2): AppAction("note", map[string]any{"text": "after the delay"}),
	})
}

// Approval is an async approve action followed by a note that maps the approval's result.
func Approval() map[string]any {
	return Automation("Approval", []string{ActionID(1)}, map[string]any{
		ActionID(1): AppAction("approve", map[string]any{"text": `approve {{var("name")}}`}, ActionID(2)),
		ActionID(2): AppAction("note", map[string]any{"text": `approved by {{var("approve-1.by")}}`}),
	})
}

// Fork is one note whose two successors run as parallel branches.
func Fork() map[string]any {
	return Automation("Fork", []string{ActionID(1)}, map[string]any{
		ActionID(1): AppAction("note", map[string]any{"text": "root"}, ActionID(2), ActionID(3)),
		ActionID(2): AppAction("note", map[string]any{"text": "left"}),
		ActionID(3): AppAction("note", map[string]any{"text": "right"}),
	})
}
