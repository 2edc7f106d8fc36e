//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// sdkProvider is infra/conformance/sdk-provider.cjs running: an action provider built with the real
// @wix/sdk (actionProvider.provideHandlers behind AppStrategy with the platform's public key).
type sdkProvider struct {
	t     *testing.T
	url   string
	stdin io.WriteCloser
	mu    sync.Mutex
	lines []map[string]any
	raw   []string
	seen  chan struct{} // signalled on every line
}

func startSDKProvider(t *testing.T, base, publicKey string) *sdkProvider {
	t.Helper()
	dir := ensureConformanceModules(t)
	node, _ := exec.LookPath("node")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "sdk-provider.cjs"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "APP_ID="+testApp, "PUBLIC_KEY="+publicKey, "BASE="+base)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sdk-provider.cjs: %v", err)
	}
	p := &sdkProvider{t: t, stdin: stdin, seen: make(chan struct{}, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			p.mu.Lock()
			p.lines = append(p.lines, m)
			p.raw = append(p.raw, sc.Text())
			p.mu.Unlock()
			select {
			case p.seen <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		cancel()
		cmd.Wait()
		if t.Failed() {
			p.mu.Lock()
			t.Logf("sdk-provider.cjs stdout:\n%s\nstderr:\n%s", strings.Join(p.raw, "\n"), stderr.String())
			p.mu.Unlock()
		}
	})
	p.url = str(p.wait("listening", func(map[string]any) bool { return true })["url"])
	return p
}

// wait returns the first line of the event that satisfies ok, waiting for it up to 30 s.
func (p *sdkProvider) wait(event string, ok func(map[string]any) bool) map[string]any {
	p.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if l["event"] == event && ok(l) {
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		select {
		case <-p.seen:
		case <-deadline:
			p.t.Fatalf("sdk-provider.cjs printed no %q line", event)
		}
	}
}

func (p *sdkProvider) events(event string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, l := range p.lines {
		if l["event"] == event {
			out = append(out, l)
		}
	}
	return out
}

// TestWixSDKActionProvider completes automations through an action provider written against the real
// @wix/sdk: the app is registered with requestFormat WIX_JWT, so every invoke is an RS256 JWT that the
// SDK verifies with the platform's public key before dispatching to provideHandlers' invoke. One
// automation completes IMMEDIATE; the other is answered with a timeout and completed by the provider's
// own ReportActionInvocationCompleted call with the invocation token.
func TestWixSDKActionProvider(t *testing.T) {
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	admin := client{t: t, base: base, key: testAdminKey}
	var pk struct{ PublicKey, Algorithm, Issuer string }
	if code := admin.call("GET", "/v1/platform/public-key", nil, &pk); code != 200 ||
		!strings.HasPrefix(pk.PublicKey, "-----BEGIN PUBLIC KEY-----") || pk.Algorithm != "RS256" || pk.Issuer != "wix.com" {
		t.Fatalf("public key: %d %+v", code, pk)
	}
	prov := startSDKProvider(t, base, pk.PublicKey)

	app := admin.must("POST", "/v1/apps", map[string]any{"app": map[string]any{"id": testApp, "name": "SDK provider",
		"providerBaseUri": prov.url + "/automations", "requestFormat": "WIX_JWT"}})
	if dig(app, "app.requestFormat") != "WIX_JWT" || !strings.HasPrefix(str(app["signingSecret"]), "sysig_") {
		t.Fatalf("app registration = %v", app)
	}
	admin.must("POST", "/v1/triggers", map[string]any{"trigger": map[string]any{"appId": testApp, "triggerKey": "form_submitted",
		"displayName": "Form submitted", "payloadDataSchema": map[string]any{"type": "object", "properties": map[string]any{
			"name": map[string]any{"type": "string"}, "email": map[string]any{"type": "string"}}}}})
	for _, a := range []map[string]any{
		{"appId": testApp, "actionKey": "lookup_coupon", "displayName": "Look up coupon",
			"inputSchema":  map[string]any{"type": "object", "required": []string{"email"}, "properties": map[string]any{"email": map[string]any{"type": "string"}}},
			"outputSchema": map[string]any{"type": "object", "properties": map[string]any{"code": map[string]any{"type": "string"}}}},
		{"appId": testApp, "actionKey": "approve", "displayName": "Approve",
			"inputSchema":  map[string]any{"type": "object"},
			"outputSchema": map[string]any{"type": "object", "properties": map[string]any{"approvedBy": map[string]any{"type": "string"}}}},
	} {
		admin.must("POST", "/v1/actions", map[string]any{"action": a})
	}
	ownerKey := str(admin.must("POST", "/v1/api-keys", map[string]any{"apiKey": map[string]any{"siteId": testSite, "name": "owner"}})["key"])
	appKey := str(admin.must("POST", "/v1/api-keys", map[string]any{"apiKey": map[string]any{"siteId": testSite, "appId": testApp, "name": "sdk app"}})["key"])
	if _, err := fmt.Fprintf(prov.stdin, "{\"appKey\":%q}\n", appKey); err != nil {
		t.Fatal(err)
	}
	owner := client{t: t, base: base, key: ownerKey}
	appc := client{t: t, base: base, key: "Bearer " + appKey}
	owner.must("POST", "/v1/installations", map[string]any{"appId": testApp})

	one := func(name, actionKey string, mapping map[string]any) {
		owner.must("POST", "/v2/automations", map[string]any{"automation": map[string]any{"name": name, "origin": "USER",
			"configuration": map[string]any{"status": "ACTIVE", "trigger": map[string]any{"appId": testApp, "triggerKey": "form_submitted"},
				"rootActionIds": []string{actionLookup}, "actions": map[string]any{actionLookup: map[string]any{"type": "APP_DEFINED",
					"appDefinedInfo": map[string]any{"appId": testApp, "actionKey": actionKey, "inputMapping": mapping}}}}}})
	}
	one("Immediate", "lookup_coupon", map[string]any{"email": `{{var("email")}}`})
	one("Async", "approve", map[string]any{})

	rep := appc.must("POST", "/automations/v1/events/report", map[string]any{"triggerKey": "form_submitted",
		"payload": map[string]any{"name": "Ada", "email": "ada@example.com"}})
	ids := rep["activationIds"].([]any)
	if len(ids) != 2 {
		t.Fatalf("activationIds = %v", ids)
	}
	byAction := map[string]string{} // actionKey → activation id
	for _, id := range ids {
		log := owner.waitStatus(str(id), 30*time.Second)
		if log["status"] != "ENDED" || dig(log, "endedInfo.withFailedActions") == true {
			t.Fatalf("activation %s = %v, want ENDED without failed actions", id, log)
		}
		logs := owner.must("GET", "/v2/activation-action-logs?activationId="+str(id), nil)["activationActionLogs"].([]any)
		if len(logs) != 1 {
			t.Fatalf("action logs of %s = %v", id, logs)
		}
		l := logs[0].(map[string]any)
		out, _ := dig(l, "endedInfo.appDefinedActionInfo.output").(map[string]any)
		switch {
		case out["code"] == "SDK-ada@example.com":
			byAction["lookup_coupon"] = str(id)
		case out["approvedBy"] == "sdk-provider":
			byAction["approve"] = str(id)
			if dig(l, "invokedAsyncInfo") == nil {
				t.Fatalf("async action log has no invokedAsyncInfo: %v", l)
			}
		default:
			t.Fatalf("action log of %s = %v", id, l)
		}
	}
	if len(byAction) != 2 {
		t.Fatalf("outputs by action = %v", byAction)
	}

	// What the SDK handed the provider's invoke handler: the request of §4.2 and the envelope's metadata.
	for key, act := range byAction {
		inv := prov.wait("invoke", func(l map[string]any) bool { return dig(l, "request.actionKey") == key })
		if dig(inv, "request.activationContext.activationId") != act || dig(inv, "request.activationContext.actionId") != actionLookup ||
			dig(inv, "request.activationContext.triggerKey") != "form_submitted" || dig(inv, "request.activationContext.actionAppId") != testApp ||
			dig(inv, "metadata.appExtensionType") != "AUTOMATIONS_ACTION_PROVIDER" || dig(inv, "metadata.instanceId") != testSite ||
			!isGUID(str(dig(inv, "metadata.requestId"))) {
			t.Fatalf("%s invoke as the SDK handed it over: %v", key, inv)
		}
		if key == "lookup_coupon" && dig(inv, "request.actionParams.email") != "ada@example.com" {
			t.Fatalf("lookup_coupon actionParams = %v", dig(inv, "request.actionParams"))
		}
	}
	if done := prov.wait("completed", func(map[string]any) bool { return true }); done["status"] != float64(200) {
		t.Fatalf("provider's completion call = %v", done)
	}
	if r := prov.events("rejected"); len(r) != 0 {
		t.Fatalf("the SDK rejected requests: %v", r)
	}
}
