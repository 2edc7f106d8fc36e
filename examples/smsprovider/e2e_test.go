package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/provider/kit"
)

const (
	adminKey = "sy_admin_for_the_sms_example"
	site     = "11111111-1111-4111-8111-111111111111"
	appID    = "5a5a5a5a-5a5a-4a5a-8a5a-5a5a5a5a5a5a"
	actionID = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

// startSwitchyard builds cmd/switchyard and runs `switchyard serve` on a free port with a fresh data
// directory; it returns the base URL. The process gets SIGTERM when the test ends.
func startSwitchyard(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/switchyard-dev/switchyard/cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "warn")
	cmd.Env = append(os.Environ(), "SWITCHYARD_ADMIN_KEY="+adminKey)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("switchyard stderr:\n%s", stderr.String())
		}
	})
	urls := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (http://\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("switchyard did not start; stderr:\n%s", stderr.String())
		return ""
	}
}

type api struct {
	t    *testing.T
	base string
	key  string
}

func (a api) do(method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	if a.key != "" {
		req.Header.Set("Authorization", a.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (a api) must(method, path string, body any) map[string]any {
	a.t.Helper()
	code, out := a.do(method, path, body)
	if code != 200 {
		a.t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	return out
}

func dig(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// waitFor polls cond every 10 ms for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestSMSProviderEndToEnd runs the example against the built `switchyard serve`: messages wait for
// their delivery receipts, a failed receipt fails the action, the signing secret is rotated without a
// rejected call, and the monthly quota turns the next message into a clear failure.
func TestSMSProviderEndToEnd(t *testing.T) {
	base := startSwitchyard(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	provURL := "http://" + ln.Addr().String()
	admin := api{t: t, base: base, key: adminKey}

	reg := admin.must("POST", "/v1/apps", map[string]any{"app": map[string]any{"id": appID, "name": "SMS", "providerBaseUri": provURL + "/automations"}})
	secret1, _ := reg["signingSecret"].(string)
	if !strings.HasPrefix(secret1, "sysig_") || dig(reg, "app.requestFormat") != "SWITCHYARD" {
		t.Fatalf("registration = %v", reg)
	}
	admin.must("POST", "/v1/triggers", map[string]any{"trigger": map[string]any{"appId": appID, "triggerKey": "order_shipped",
		"displayName": "Order shipped", "payloadDataSchema": map[string]any{"type": "object", "required": []string{"phone", "name"},
			"properties": map[string]any{"phone": map[string]any{"type": "string"}, "name": map[string]any{"type": "string"}}}}})
	admin.must("POST", "/v1/actions", map[string]any{"action": map[string]any{"appId": appID, "actionKey": "send-sms", "displayName": "Send SMS",
		"inputSchema": map[string]any{"type": "object", "required": []string{"to", "text"}, "properties": map[string]any{
			"to": map[string]any{"type": "string"}, "text": map[string]any{"type": "string"}}},
		"outputSchema": map[string]any{"type": "object", "properties": map[string]any{"messageId": map[string]any{"type": "string"}, "status": map[string]any{"type": "string"}}}}})
	ownerKey := admin.must("POST", "/v1/api-keys", map[string]any{"apiKey": map[string]any{"siteId": site, "name": "owner"}})["key"].(string)
	appKey := admin.must("POST", "/v1/api-keys", map[string]any{"apiKey": map[string]any{"siteId": site, "appId": appID, "name": "sms"}})["key"].(string)
	owner := api{t: t, base: base, key: ownerKey}
	owner.must("POST", "/v1/installations", map[string]any{"appId": appID})
	owner.must("POST", "/v2/automations", map[string]any{"automation": map[string]any{"name": "Shipping SMS", "origin": "USER",
		"configuration": map[string]any{"status": "ACTIVE", "trigger": map[string]any{"appId": appID, "triggerKey": "order_shipped"},
			"rootActionIds": []string{actionID}, "actions": map[string]any{actionID: map[string]any{"type": "APP_DEFINED",
				"appDefinedInfo": map[string]any{"appId": appID, "actionKey": "send-sms", "inputMapping": map[string]any{
					"to": `{{var("phone")}}`, "text": `Hi {{var("name")}}, your order shipped`}}}}}}})

	// The provider knows only the first secret, for the whole test: rotation must not lock it out.
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, ln, config{platformURL: base, appKey: appKey, secrets: []string{secret1}, quota: 3}, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("provider: %v", err)
		}
	})
	prov := api{t: t, base: provURL}
	platform := kit.NewClient(base, appKey, kit.ClientOptions{})
	report := func(name, phone string) string {
		t.Helper()
		ids, err := platform.ReportEvent(context.Background(), kit.Event{TriggerKey: "order_shipped", Payload: map[string]any{"name": name, "phone": phone}})
		if err != nil || len(ids) != 1 {
			t.Fatalf("ReportEvent = %v, %v", ids, err)
		}
		return ids[0]
	}
	activation := func(id string) map[string]any {
		return owner.must("GET", "/v2/activation-logs/"+id, nil)["activationLog"].(map[string]any)
	}
	actionLog := func(id string) map[string]any {
		logs := owner.must("GET", "/v2/activation-action-logs?activationId="+id, nil)["activationActionLogs"].([]any)
		if len(logs) != 1 {
			t.Fatalf("action logs of %s = %v", id, logs)
		}
		return logs[0].(map[string]any)
	}
	ended := func(id string) map[string]any {
		t.Helper()
		waitFor(t, "activation "+id+" to end", func() bool { return activation(id)["status"] == "ENDED" })
		return actionLog(id)
	}
	messages := func(n int) []any {
		t.Helper()
		var list []any
		waitFor(t, "the provider to hold messages", func() bool {
			list, _ = prov.must("GET", "/messages", nil)["messages"].([]any)
			return len(list) >= n
		})
		return list
	}
	receipt := func(id, status, reason string) {
		t.Helper()
		prov.must("POST", "/receipts", map[string]any{"messageId": id, "status": status, "reason": reason})
	}

	a1, a2 := report("Ada", "+15550101"), report("Bo", "+15550102")
	msgs := messages(2)
	byTo := map[string]map[string]any{}
	for _, m := range msgs {
		byTo[dig(m, "to").(string)] = m.(map[string]any)
	}
	m1, m2 := byTo["+15550101"], byTo["+15550102"]
	if m1 == nil || m2 == nil || m1["text"] != "Hi Ada, your order shipped" || m1["status"] != "QUEUED" {
		t.Fatalf("messages = %v", msgs)
	}
	// Queued messages keep their activations waiting for the receipt.
	// The provider may hold the message a moment before the engine has recorded the invoke.
	waitFor(t, "a1 to be invoked async", func() bool {
		logs, _ := owner.must("GET", "/v2/activation-action-logs?activationId="+a1, nil)["activationActionLogs"].([]any)
		return len(logs) == 1 && (dig(logs[0], "status") == "STARTED" || dig(logs[0], "invokedAsyncInfo") != nil)
	})
	if s := activation(a1)["status"]; s == "ENDED" {
		t.Fatalf("activation ended before its delivery receipt")
	}

	receipt(m1["id"].(string), "DELIVERED", "")
	if l := ended(a1); dig(l, "endedInfo.appDefinedActionInfo.output.status") != "DELIVERED" || dig(l, "endedInfo.appDefinedActionInfo.output.messageId") != m1["id"] {
		t.Fatalf("delivered action log = %v", l)
	}
	receipt(m2["id"].(string), "FAILED", "handset unreachable")
	if l := ended(a2); !strings.Contains(str(dig(l, "failedInfo.errorDescription")), "handset unreachable") {
		t.Fatalf("failed delivery action log = %v", l)
	}
	if dig(activation(a2), "endedInfo.withFailedActions") != true {
		t.Fatalf("activation with a failed delivery = %v", activation(a2))
	}

	// Rotation: calls are signed with the new and the old secret for the grace period, so the provider,
	// still on the old one, keeps accepting them.
	rot := admin.must("POST", "/v1/apps/"+appID+"/rotate-signing-secret", nil)
	secret2, _ := rot["signingSecret"].(string)
	retires, err := time.Parse(time.RFC3339Nano, str(rot["previousSecretRetiresDate"]))
	if secret2 == secret1 || !strings.HasPrefix(secret2, "sysig_") || err != nil || time.Until(retires) < 23*time.Hour {
		t.Fatalf("rotation = %v", rot)
	}
	a3 := report("Cy", "+15550103")
	m3 := messages(3)[2].(map[string]any)
	receipt(m3["id"].(string), "DELIVERED", "")
	if l := ended(a3); dig(l, "endedInfo.appDefinedActionInfo.output.status") != "DELIVERED" {
		t.Fatalf("action log after rotation = %v", l)
	}

	// The quota of 3 is used up: the fourth message fails at once with the reason.
	a4 := report("Di", "+15550104")
	if l := ended(a4); !strings.Contains(str(dig(l, "failedInfo.errorDescription")), "monthly quota of 3 SMS messages is used up") {
		t.Fatalf("over-quota action log = %v", l)
	}
	// A number that is not one is refused as such.
	a5 := report("Ed", "12345")
	if l := ended(a5); !strings.Contains(str(dig(l, "failedInfo.errorDescription")), "INVALID_PHONE_NUMBER") {
		t.Fatalf("bad number action log = %v", l)
	}

	// quota-info, called the way the platform calls it: usage 3 of 3. With only the new secret (after the
	// grace period) the provider, never updated, refuses the call.
	pc := provider.NewClient(provider.Options{Guard: &provider.AddressGuard{AllowLoopback: true}, Retry: provider.RetryPolicy{MaxAttempts: 1}})
	q, err := pc.QuotaInfo(context.Background(), provider.Target{BaseURI: provURL + "/automations", AppID: appID, SiteID: site, Secret: []byte(secret1)},
		provider.QuotaInfoRequest{ActionKey: "send-sms"})
	if err != nil || len(q.ActionQuotaInfo.QuotaInfo) != 1 || q.ActionQuotaInfo.QuotaInfo[0].Quotas[0].CurrentUsage != "3" ||
		*q.ActionQuotaInfo.QuotaInfo[0].Quotas[0].Limit != "3" || !q.ActionQuotaInfo.Enforced {
		t.Fatalf("quota-info = %+v, %v", q, err)
	}
	// The quota is per site: the signed site header tells the provider whose it is.
	other, err := pc.QuotaInfo(context.Background(), provider.Target{BaseURI: provURL + "/automations", AppID: appID,
		SiteID: "99999999-9999-4999-8999-999999999999", Secret: []byte(secret1)}, provider.QuotaInfoRequest{ActionKey: "send-sms"})
	if err != nil || other.ActionQuotaInfo.QuotaInfo[0].Quotas[0].CurrentUsage != "0" {
		t.Fatalf("another site's quota-info = %+v, %v", other, err)
	}
	if _, err := pc.QuotaInfo(context.Background(), provider.Target{BaseURI: provURL + "/automations", AppID: appID, SiteID: site, Secret: []byte(secret2)},
		provider.QuotaInfoRequest{ActionKey: "send-sms"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("quota-info signed with only the new secret = %v, want 401", err)
	}
	if n := len(messages(3)); n != 3 {
		t.Fatalf("provider holds %d messages, want 3", n)
	}
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
