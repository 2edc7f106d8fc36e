package kit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/provider/kit"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

const adminKey = "sy_admin_for_kit_tests"

// platform runs the real API over a fresh SQLite store with one app, its trigger, an app key and the
// app installed on the site; it returns the base URL and the app key.
func platform(t *testing.T) (string, string) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(api.NewServer(api.Config{Store: store, Engine: engine.New(engine.Config{Store: store}),
		AdminKeyHash: access.Hash(adminKey)}))
	t.Cleanup(srv.Close)
	admin := kitAdmin{t: t, base: srv.URL}
	admin.post("/v1/apps", `{"app":{"id":"`+appID+`","name":"SMS"}}`)
	admin.post("/v1/triggers", `{"trigger":{"appId":"`+appID+`","triggerKey":"sms_received","displayName":"SMS received",
		"payloadDataSchema":{"type":"object","required":["from"],"properties":{"from":{"type":"string"}}}}}`)
	owner := admin.key(`{"apiKey":{"siteId":"` + site + `","name":"owner"}}`)
	appKey := admin.key(`{"apiKey":{"siteId":"` + site + `","appId":"` + appID + `","name":"sms app"}}`)
	req, _ := http.NewRequest("POST", srv.URL+"/v1/installations", strings.NewReader(`{"appId":"`+appID+`"}`))
	req.Header.Set("Authorization", owner)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("install: %v %v", resp, err)
	}
	return srv.URL, appKey
}

func TestClientAgainstThePlatform(t *testing.T) {
	base, appKey := platform(t)
	c := kit.NewClient(base, appKey, kit.ClientOptions{})
	ctx := context.Background()

	// No automation listens yet: the report is accepted and starts nothing; the same with an
	// idempotency key and an entity id, which CancelEvent then accepts.
	ids, err := c.ReportEvent(ctx, kit.Event{TriggerKey: "sms_received", Payload: map[string]any{"from": "+1555"},
		ExternalEntityID: "cccccccc-cccc-4ccc-8ccc-cccccccccccc", Idempotency: &kit.Idempotency{Key: "evt-1", TTL: time.Minute}})
	if err != nil || len(ids) != 0 {
		t.Fatalf("ReportEvent = %v, %v", ids, err)
	}
	if err := c.CancelEvent(ctx, "sms_received", "cccccccc-cccc-4ccc-8ccc-cccccccccccc"); err != nil {
		t.Fatalf("CancelEvent: %v", err)
	}

	// Refusals come back typed.
	for _, tc := range []struct {
		name      string
		call      func() error
		status    int
		code      string
		violation string
	}{
		{"unknown trigger", func() error {
			_, err := c.ReportEvent(ctx, kit.Event{TriggerKey: "nope"})
			return err
		}, 428, "TRIGGER_NOT_FOUND", ""},
		{"payload against the schema", func() error {
			_, err := c.ReportEvent(ctx, kit.Event{TriggerKey: "sms_received", Payload: map[string]any{}})
			return err
		}, 400, "", "payload.from"},
		{"cancel with a bad entity id", func() error { return c.CancelEvent(ctx, "sms_received", "x") }, 400, "", "externalEntityId"},
		{"completion with an unknown token", func() error {
			_, err := c.ReportActionInvocationCompleted(ctx, "nope", kit.Completion{Success: true})
			return err
		}, 404, "INVOCATION_NOT_FOUND", ""},
		{"wrong key", func() error {
			_, err := kit.NewClient(base, "sy_wrong", kit.ClientOptions{}).ReportEvent(ctx, kit.Event{TriggerKey: "sms_received"})
			return err
		}, 401, "UNAUTHENTICATED", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ae *kit.APIError
			if !errors.As(err, &ae) || ae.StatusCode != tc.status || ae.Code != tc.code || ae.Message == "" {
				t.Fatalf("err = %#v, want HTTP %d code %q", err, tc.status, tc.code)
			}
			if tc.code != "" && !kit.HasCode(err, tc.code) {
				t.Fatalf("HasCode(%q) = false for %v", tc.code, err)
			}
			if tc.violation != "" && (len(ae.Violations) == 0 || ae.Violations[0].Field != tc.violation) {
				t.Fatalf("violations = %+v, want %s", ae.Violations, tc.violation)
			}
		})
	}
}

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	c := kit.NewClient(slow.URL, "k", kit.ClientOptions{Timeout: 50 * time.Millisecond})
	_, err := c.ReportEvent(context.Background(), kit.Event{TriggerKey: "t"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
}

type kitAdmin struct {
	t    *testing.T
	base string
}

func (a kitAdmin) post(path, body string) *http.Response {
	a.t.Helper()
	req, _ := http.NewRequest("POST", a.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		a.t.Fatalf("POST %s: %v %v", path, resp, err)
	}
	return resp
}

func (a kitAdmin) key(body string) string {
	resp := a.post("/v1/api-keys", body)
	defer resp.Body.Close()
	var out struct{ Key string }
	if err := jsonDecode(resp, &out); err != nil {
		a.t.Fatal(err)
	}
	return out.Key
}
