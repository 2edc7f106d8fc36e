package systemapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/schema"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
	"github.com/switchyard-dev/switchyard/pkg/webhook"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// counting passes everything to a real store and counts the writes; with readOnly every write fails,
// as it would in a Lambda function whose role only reads.
type counting struct {
	*sqlite.Store
	mu       sync.Mutex
	writes   int
	readOnly bool
}

var errDenied = errors.New("AccessDeniedException: not authorized to perform dynamodb:PutItem")

func (c *counting) write() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if c.readOnly {
		return errDenied
	}
	return nil
}

func (c *counting) CreateApp(ctx context.Context, a *catalog.App) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.CreateApp(ctx, a)
}

func (c *counting) PutApp(ctx context.Context, a *catalog.App) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.PutApp(ctx, a)
}

func (c *counting) PutTrigger(ctx context.Context, t *catalog.Trigger) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.PutTrigger(ctx, t)
}

func (c *counting) PutAction(ctx context.Context, a *catalog.Action) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.PutAction(ctx, a)
}

func TestRegisterWritesOnlyWhatIsMissingOrChanged(t *testing.T) {
	ctx := context.Background()
	s := &counting{Store: openStore(t)}

	wrote, err := systemapp.Register(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"app", "trigger contact_updated", "action webhook"}; !slices.Equal(wrote, want) || s.writes != 3 {
		t.Fatalf("first Register wrote %v (%d writes), want %v", wrote, s.writes, want)
	}
	app, err := s.GetApp(ctx, systemapp.AppID)
	if err != nil || app.Name != "Switchyard" || app.ProviderBaseURI != "" {
		t.Fatalf("app %+v, %v", app, err)
	}
	act, err := s.GetAction(ctx, systemapp.AppID, systemapp.ActionWebhook)
	if err != nil {
		t.Fatal(err)
	}
	firstCreated := act.CreatedDate

	wrote, err = systemapp.Register(ctx, s)
	if err != nil || len(wrote) != 0 || s.writes != 3 {
		t.Fatalf("second Register wrote %v (%d writes in all), %v; want nothing", wrote, s.writes, err)
	}

	// Someone (the admin, an older release) changed two records: only those are put back.
	tr, _ := s.GetTrigger(ctx, systemapp.AppID, systemapp.TriggerContactUpdated)
	tr.PayloadDataSchema = json.RawMessage(`{"type":"object"}`)
	if err := s.Store.PutTrigger(ctx, tr); err != nil {
		t.Fatal(err)
	}
	if err := s.Store.PutApp(ctx, &catalog.App{ID: systemapp.AppID, Name: "Renamed", CreatedDate: app.CreatedDate}); err != nil {
		t.Fatal(err)
	}
	wrote, err = systemapp.Register(ctx, s)
	if want := []string{"app", "trigger contact_updated"}; err != nil || !slices.Equal(wrote, want) {
		t.Fatalf("Register after changes wrote %v, %v; want %v", wrote, err, want)
	}
	tr, _ = s.GetTrigger(ctx, systemapp.AppID, systemapp.TriggerContactUpdated)
	if !jsonEqual(tr.PayloadDataSchema, json.RawMessage(systemapp.ContactUpdatedSchema)) {
		t.Errorf("trigger schema not restored: %s", tr.PayloadDataSchema)
	}
	if act2, _ := s.GetAction(ctx, systemapp.AppID, systemapp.ActionWebhook); !act2.CreatedDate.Equal(firstCreated) {
		t.Errorf("untouched action was rewritten")
	}
}

func TestRegisterWithoutWriteAccess(t *testing.T) {
	ctx := context.Background()
	base := openStore(t)
	// Nothing registered yet: a read-only caller reports the refused write.
	ro := &counting{Store: base, readOnly: true}
	if _, err := systemapp.Register(ctx, ro); !errors.Is(err, errDenied) {
		t.Fatalf("Register on an empty read-only store: %v, want the denied write", err)
	}
	// Registered by a writer: the read-only caller only reads.
	if _, err := systemapp.Register(ctx, base); err != nil {
		t.Fatal(err)
	}
	ro.writes = 0
	if wrote, err := systemapp.Register(ctx, ro); err != nil || len(wrote) != 0 || ro.writes != 0 {
		t.Fatalf("read-only Register after registration: wrote %v (%d attempts), %v", wrote, ro.writes, err)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// TestContactUpdatedSchema pins the payload schema the contacts feature reports against.
func TestContactUpdatedSchema(t *testing.T) {
	want := `{"type":"object","required":["contactId"],"properties":{
       "contactId":{"type":"string","format":"uuid","identityType":"contact","title":"Contact ID"},
       "email":{"type":"string"},"phone":{"type":"string"},
       "name":{"type":"object","properties":{"first":{"type":"string"},"last":{"type":"string"}}},
       "attributes":{"type":"object"},
       "data":{"type":"object","description":"Extra data given when the run was started through the API."}}}`
	if !jsonEqual(json.RawMessage(systemapp.ContactUpdatedSchema), json.RawMessage(want)) {
		t.Fatalf("contact_updated schema changed:\n%s", systemapp.ContactUpdatedSchema)
	}
	sch, err := schema.NewCache(0).Compile(json.RawMessage(systemapp.ContactUpdatedSchema))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		payload map[string]any
		ok      bool
	}{
		{map[string]any{"contactId": "0b3c7f7e-8a4e-4f3a-9d61-2f8c1a1b2c3d", "email": "ada@example.com", "name": map[string]any{"first": "Ada"}}, true},
		{map[string]any{"email": "ada@example.com"}, false},
		{map[string]any{"contactId": "not-a-uuid"}, false},
	} {
		if vs := sch.Validate(tc.payload, "payload"); (len(vs) == 0) != tc.ok {
			t.Errorf("payload %v: violations %v, want ok=%v", tc.payload, vs, tc.ok)
		}
	}
}

// TestWebhookSchemas: the registered schemas compile and say what the executor does.
func TestWebhookSchemas(t *testing.T) {
	cache := schema.NewCache(0)
	a := systemapp.Actions()[0]
	in, err := cache.Compile(a.InputSchema)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Compile(a.OutputSchema); err != nil {
		t.Fatal(err)
	}
	var ui map[string]any
	if err := json.Unmarshal(a.UISchema, &ui); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		input map[string]any
		ok    bool
	}{
		{map[string]any{"url": "https://example.com/h"}, true},
		{map[string]any{"url": "https://example.com/h", "method": "PATCH", "headers": map[string]any{"A": "b"}, "body": []any{1.0}}, true},
		{map[string]any{"method": "POST"}, false},
		{map[string]any{"url": "https://example.com", "method": "TRACE"}, false},
		{map[string]any{"url": "https://example.com", "headers": map[string]any{"A": 1.0}}, false},
		{map[string]any{"url": "https://example.com", "extra": true}, false},
	} {
		if vs := in.Validate(tc.input, "input"); (len(vs) == 0) != tc.ok {
			t.Errorf("input %v: violations %v, want ok=%v", tc.input, vs, tc.ok)
		}
	}
}

func TestInstalledEverywhere(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	const site, other = "11111111-1111-4111-8111-111111111111", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	in, err := systemapp.GetInstallation(ctx, s, site, systemapp.AppID)
	if err != nil || in.SiteID != site || in.AppID != systemapp.AppID {
		t.Fatalf("system app on a fresh site: %+v, %v", in, err)
	}
	if _, err := systemapp.GetInstallation(ctx, s, site, other); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("another app without an installation: %v, want ErrNotFound", err)
	}
	if _, err := s.PutInstallation(ctx, &catalog.Installation{SiteID: site, AppID: other}); err != nil {
		t.Fatal(err)
	}
	if _, err := systemapp.GetInstallation(ctx, s, site, other); err != nil {
		t.Fatalf("installed app: %v", err)
	}
}

// TestRunnerRoutes: the system app's actions run in-process against a real endpoint; every other app's
// go to its provider over HTTP, untouched.
func TestRunnerRoutes(t *testing.T) {
	var got struct {
		sync.Mutex
		method, body, key string
	}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Lock()
		got.method, got.body, got.key = r.Method, string(b), r.Header.Get("Idempotency-Key")
		got.Unlock()
		switch r.URL.Path {
		case "/gone":
			w.WriteHeader(http.StatusGone)
			io.WriteString(w, "gone")
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"received":true}`)
		}
	}))
	t.Cleanup(hook.Close)
	prov := testprovider.Start(t, map[string]testprovider.Handler{"lookup": testprovider.Result(map[string]any{"code": "X"})})

	guard := &provider.AddressGuard{AllowLoopback: true}
	r := systemapp.WithActions(provider.NewClient(provider.Options{Guard: guard}), webhook.New(webhook.Options{Guard: guard}))
	ctx := context.Background()
	sys := provider.Target{AppID: systemapp.AppID, IdempotencyKey: "act-1:action-1"}

	resp, err := r.Invoke(ctx, sys, provider.InvokeRequest{ActionKey: systemapp.ActionWebhook,
		ActionParams: map[string]any{"url": hook.URL + "/hook", "method": "PUT", "body": map[string]any{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"status": 200.0, "body": map[string]any{"received": true}}; !reflect.DeepEqual(resp.Result, want) || resp.TimeoutType() != provider.InvokeImmediate {
		t.Fatalf("result %v (%s), want %v IMMEDIATE", resp.Result, resp.TimeoutType(), want)
	}
	got.Lock()
	if got.method != "PUT" || got.body != `{"a":"b"}` || got.key != "act-1:action-1" {
		t.Errorf("endpoint got %s %s key %q", got.method, got.body, got.key)
	}
	got.Unlock()

	for _, tc := range []struct {
		name   string
		req    provider.InvokeRequest
		want   string
		wantKd provider.ErrorKind
	}{
		{"4xx fails with the answer", provider.InvokeRequest{ActionKey: systemapp.ActionWebhook, ActionParams: map[string]any{"url": hook.URL + "/gone"}},
			"webhook answered HTTP 410: gone", provider.ClientError},
		{"bad input fails before any request", provider.InvokeRequest{ActionKey: systemapp.ActionWebhook, ActionParams: map[string]any{"url": "gopher://x"}},
			"input url must use http or https", webhook.InvalidInput},
		{"unknown action", provider.InvokeRequest{ActionKey: "teleport"}, `the system app has no action "teleport"`, provider.ClientError},
	} {
		_, err := r.Invoke(ctx, sys, tc.req)
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Description != tc.want || pe.Kind != tc.wantKd {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.wantKd, tc.want)
		}
	}

	// Another app's action reaches its provider.
	resp, err = r.Invoke(ctx, provider.Target{AppID: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", BaseURI: prov.URL}, provider.InvokeRequest{ActionKey: "lookup"})
	if err != nil || resp.Result["code"] != "X" || len(prov.CallsFor("lookup")) != 1 {
		t.Fatalf("provider action: %v, %v, calls %d", resp, err, len(prov.CallsFor("lookup")))
	}
}
