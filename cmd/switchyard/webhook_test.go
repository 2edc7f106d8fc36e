package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

const (
	actionHook   = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"
	actionNotify = "ffffffff-ffff-4fff-8fff-ffffffffffff"
)

// hookReceiver is the user's own endpoint: a real HTTP server on 127.0.0.1 recording what arrives.
type hookReceiver struct {
	mu  sync.Mutex
	got []hookRequest
}

type hookRequest struct {
	Method, Path, Email, ContentType string
	Body                             map[string]any
}

func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.got)
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	req := hookRequest{Method: r.Method, Path: r.URL.Path, Email: r.Header.Get("X-Customer-Email"), ContentType: r.Header.Get("Content-Type")}
	json.Unmarshal(raw, &req.Body)
	h.mu.Lock()
	h.got = append(h.got, req)
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"ticketId":"T-42","queue":"vip"}`)
}

func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.got...)
}

// webhookAutomation: on form_submitted, the system app's webhook action calls url with expressions mapped
// into the URL, a header and the body; then send_sms maps the webhook's output.
func webhookAutomation(url, status string) map[string]any {
	return map[string]any{"automation": map[string]any{
		"name": "Open a ticket", "origin": "USER",
		"configuration": map[string]any{
			"status":        status,
			"trigger":       map[string]any{"appId": testApp, "triggerKey": "form_submitted"},
			"rootActionIds": []string{actionHook},
			"actions": map[string]any{
				actionHook: map[string]any{"type": "APP_DEFINED", "appDefinedInfo": map[string]any{
					"appId": systemapp.AppID, "actionKey": systemapp.ActionWebhook,
					"inputMapping": map[string]any{
						"url":     url + `/tickets/{{var("name")}}`,
						"method":  "PUT",
						"headers": map[string]any{"X-Customer-Email": `{{var("email")}}`},
						"body": map[string]any{"contact": map[string]any{"name": `{{var("name")}}`, "email": `{{var("email")}}`},
							"source": "switchyard", "tags": []any{"form", `{{var("name")}}`}},
					},
					"postActionIds": []string{actionNotify}}},
				actionNotify: map[string]any{"type": "APP_DEFINED", "appDefinedInfo": map[string]any{
					"appId": testApp, "actionKey": "send_sms",
					"inputMapping": map[string]any{"text": `Ticket {{var("webhook-1.body.ticketId")}} (HTTP {{var("webhook-1.status")}}) in queue {{var("webhook-1.body.queue")}}`}}},
			},
		},
	}}
}

// TestWebhookActionEndToEnd drives the built server: a user's automation calls the system app's webhook
// action (never installed, no provider), the endpoint receives the mapped request, the action log holds
// {status, body}, and the next action maps that output. A second automation pointing at the cloud
// metadata address fails its webhook action with the guard's reason and the flow continues.
func TestWebhookActionEndToEnd(t *testing.T) {
	prov := testprovider.Start(t, map[string]testprovider.Handler{"send_sms": testprovider.Result(map[string]any{"messageId": "m-1"})})
	hooks := &hookReceiver{}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	// Webhooks may not reach loopback unless the allow-list names it: first without, then with the endpoint.
	noList := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	bOwner, bApp := setupSite(t, noList, testprovider.Start(t, nil).URL)
	bOwner.must("POST", "/v2/automations", webhookAutomation(hookSrv.URL, "ACTIVE"))
	if act := report(bApp, "Eve", "", nil); len(act) != 1 {
		t.Fatalf("report = %v", act)
	} else if log := bOwner.waitStatus(act[0].(string), 10*time.Second); hooks.count() != 0 {
		t.Fatalf("a webhook reached loopback without an allow-list entry: %v", log)
	} else if l := bOwner.must("GET", "/v2/activation-action-logs?activationId="+act[0].(string), nil); !strings.Contains(fmt.Sprint(l), "loopback") {
		t.Fatalf("the blocked webhook's action log does not name the reason: %v", l)
	}

	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey,
		"SWITCHYARD_ALLOWED_NETWORKS": strings.TrimPrefix(hookSrv.URL, "http://")})
	owner, app := setupSite(t, base, prov.URL)

	// The catalog lists the system app's action, like any app's.
	acts := owner.must("POST", "/v1/actions/query", map[string]any{"query": map[string]any{"filter": map[string]any{"appId": systemapp.AppID}}})
	if a, _ := acts["actions"].([]any); len(a) != 1 || dig(a[0], "actionKey") != "webhook" || dig(a[0], "outputSchema.properties.status.type") != "integer" {
		t.Fatalf("system app actions = %v", acts)
	}

	created := owner.must("POST", "/v2/automations", webhookAutomation(hookSrv.URL, "ACTIVE"))["automation"].(map[string]any)
	id := created["id"].(string)
	if v := owner.must("POST", "/v2/automations/"+id+"/validate", map[string]any{}); v["valid"] != true {
		t.Fatalf("the webhook automation does not validate against the registered schemas: %v", v)
	}

	rep := app.must("POST", "/automations/v1/events/report", map[string]any{
		"triggerKey": "form_submitted", "payload": map[string]any{"name": "Ada", "email": "ada@example.com"}})
	actID := rep["activationIds"].([]any)[0].(string)
	if log := owner.waitStatus(actID, 10*time.Second); log["status"] != "ENDED" || dig(log, "endedInfo.withFailedActions") != false {
		t.Fatalf("activation = %v, want ENDED without failed actions", log)
	}

	got := hooks.requests()
	want := []hookRequest{{Method: "PUT", Path: "/tickets/Ada", Email: "ada@example.com", ContentType: "application/json",
		Body: map[string]any{"contact": map[string]any{"name": "Ada", "email": "ada@example.com"}, "source": "switchyard", "tags": []any{"form", "Ada"}}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("endpoint received %+v\nwant %+v", got, want)
	}

	logs := owner.must("GET", "/v2/activation-action-logs?activationId="+actID, nil)["activationActionLogs"].([]any)
	if len(logs) != 2 {
		t.Fatalf("action logs = %v", logs)
	}
	hookLog := logs[0]
	if dig(hookLog, "id") != actionHook || dig(hookLog, "activationStatus") != "ENDED" {
		t.Fatalf("webhook action log = %v", hookLog)
	}
	if out := dig(hookLog, "endedInfo.appDefinedActionInfo.output"); !reflect.DeepEqual(out,
		map[string]any{"status": 201.0, "body": map[string]any{"ticketId": "T-42", "queue": "vip"}}) {
		t.Fatalf("webhook output = %v, want {status: 201, body: {ticketId, queue}}", out)
	}
	if in := dig(hookLog, "startedInfo.appDefinedActionInfo.input.url"); in != hookSrv.URL+"/tickets/Ada" {
		t.Fatalf("logged input url = %v", in)
	}
	sms := prov.CallsFor("send_sms")
	if len(sms) != 1 || sms[0].ActionParams["text"] != "Ticket T-42 (HTTP 201) in queue vip" {
		t.Fatalf("send_sms calls = %+v", sms)
	}

	// A webhook to the metadata address fails on the guard; the next action still runs.
	blocked := owner.must("POST", "/v2/automations", webhookAutomation("http://169.254.169.254/latest/meta-data", "INACTIVE"))["automation"].(map[string]any)
	run := owner.must("POST", "/automations/v1/events/test-automation", map[string]any{"identifierType": "AUTOMATION",
		"automationIdentifier": map[string]any{"automationId": blocked["id"]}, "payload": map[string]any{"name": "Bo", "email": "bo@example.com"}})["activationId"].(string)
	if log := owner.waitStatus(run, 10*time.Second); log["status"] != "ENDED" || dig(log, "endedInfo.withFailedActions") != true {
		t.Fatalf("blocked run = %v, want ENDED with failed actions", log)
	}
	logs = owner.must("GET", "/v2/activation-action-logs?activationId="+run, nil)["activationActionLogs"].([]any)
	if len(logs) != 2 || dig(logs[0], "activationStatus") != "FAILED" ||
		dig(logs[0], "failedInfo.errorDescription") != "webhook address blocked: 169.254.169.254 is a cloud metadata address" ||
		dig(logs[1], "activationStatus") != "ENDED" {
		t.Fatalf("blocked run action logs = %v", logs)
	}
	if n := len(hooks.requests()); n != 1 {
		t.Errorf("endpoint saw %d requests, want 1", n)
	}
}

func TestServeRefusesABadAllowList(t *testing.T) {
	for _, v := range []string{"10.0.0.0/33", "hooks.internal", "http://10.0.0.1"} {
		err := run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()},
			func(k string) string {
				return map[string]string{"SWITCHYARD_ALLOWED_NETWORKS": v, "SWITCHYARD_ADMIN_KEY": testAdminKey}[k]
			},
			io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--allowed-networks") {
			t.Errorf("SWITCHYARD_ALLOWED_NETWORKS=%q: %v, want a refusal naming --allowed-networks", v, err)
		}
	}
}
