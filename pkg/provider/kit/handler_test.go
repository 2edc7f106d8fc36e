package kit_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/provider/kit"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
)

const (
	appID   = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	otherID = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	site    = "11111111-1111-4111-8111-111111111111"
)

var (
	keyOnce          sync.Once
	platKey, rogueKy *rsa.PrivateKey
)

func keys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	keyOnce.Do(func() {
		var err error
		if platKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rogueKy, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return platKey, rogueKy
}

// seen records what the provider's handlers were given.
type seen struct {
	mu    sync.Mutex
	calls []kit.Call
	reqs  []any
}

func (s *seen) add(c kit.Call, r any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.reqs = append(s.reqs, r)
}

// startProvider runs a kit provider on 127.0.0.1 with handlers for all three methods; invoke answers
// by actionKey: "fail" → a 403 QUOTA_EXCEEDED, "crash" → a plain error, anything else → {echo}.
func startProvider(t *testing.T, cfg kit.Config) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	cfg.Invoke = func(_ context.Context, c kit.Call, r *provider.InvokeRequest) (*provider.InvokeResponse, error) {
		s.add(c, r)
		switch r.ActionKey {
		case "fail":
			return nil, &kit.Error{Status: http.StatusForbidden, Code: "QUOTA_EXCEEDED", Description: "monthly quota used up", Data: map[string]any{"limit": 3}}
		case "crash":
			return nil, errors.New("database password is hunter2")
		}
		return &provider.InvokeResponse{Result: map[string]any{"echo": r.ActionParams["text"]}}, nil
	}
	cfg.ValidateConfiguration = func(_ context.Context, c kit.Call, r *provider.ValidateConfigurationRequest) (*provider.ValidateConfigurationResponse, error) {
		s.add(c, r)
		return &provider.ValidateConfigurationResponse{Valid: false, ConfigurationErrors: []provider.ConfigurationError{
			{FieldKey: "to", Message: "not a phone number", Title: "Bad number"}}}, nil
	}
	h, err := kit.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, s
}

func client(now func() time.Time) *provider.Client {
	return provider.NewClient(provider.Options{Guard: &provider.AddressGuard{AllowLoopback: true}, Now: now,
		Retry: provider.RetryPolicy{MaxAttempts: 1}})
}

func TestHandlerVerifiesAndDispatches(t *testing.T) {
	plat, rogue := keys(t)
	now := time.Now()
	jwtFor := func(key *rsa.PrivateKey, issuer string, at time.Time, ext string) provider.Envelope {
		return wixjwt.NewSigner(key, issuer, func() time.Time { return at }).Envelope(appID,
			wixjwt.Metadata{RequestID: "req-1", InstanceID: site, AppExtensionType: ext})
	}
	tests := []struct {
		name       string
		provider   kit.Config
		target     provider.Target
		clock      time.Time // the platform's clock
		actionKey  string
		wantStatus int    // 0: success
		wantCode   string // applicationError.code in the answer
		wantFormat string
	}{
		{"hmac", kit.Config{Secrets: []string{"s1"}}, provider.Target{Secrets: [][]byte{[]byte("s1")}}, now, "send", 0, "", kit.FormatSwitchyard},
		{"rotation: provider still on the old secret", kit.Config{Secrets: []string{"old"}},
			provider.Target{Secrets: [][]byte{[]byte("new"), []byte("old")}}, now, "send", 0, "", kit.FormatSwitchyard},
		{"rotation: provider already on the new secret", kit.Config{Secrets: []string{"new"}},
			provider.Target{Secrets: [][]byte{[]byte("new"), []byte("old")}}, now, "send", 0, "", kit.FormatSwitchyard},
		{"provider accepts both during its own switch", kit.Config{Secrets: []string{"new", "old"}},
			provider.Target{Secrets: [][]byte{[]byte("old")}}, now, "send", 0, "", kit.FormatSwitchyard},
		{"wrong secret", kit.Config{Secrets: []string{"s1"}}, provider.Target{Secrets: [][]byte{[]byte("s2")}}, now, "send", 401, "UNAUTHENTICATED", ""},
		{"stale timestamp", kit.Config{Secrets: []string{"s1"}}, provider.Target{Secrets: [][]byte{[]byte("s1")}}, now.Add(-10 * time.Minute), "send", 401, "UNAUTHENTICATED", ""},
		{"timestamp from the future", kit.Config{Secrets: []string{"s1"}}, provider.Target{Secrets: [][]byte{[]byte("s1")}}, now.Add(10 * time.Minute), "send", 401, "UNAUTHENTICATED", ""},
		{"unsigned", kit.Config{Secrets: []string{"s1"}}, provider.Target{}, now, "send", 401, "UNAUTHENTICATED", ""},
		{"hmac call to a JWT-only provider", kit.Config{AppID: appID, PublicKey: &plat.PublicKey}, provider.Target{Secrets: [][]byte{[]byte("s1")}}, now, "send", 401, "UNAUTHENTICATED", ""},
		{"jwt", kit.Config{AppID: appID, PublicKey: &plat.PublicKey}, provider.Target{Envelope: jwtFor(plat, "", now, wixjwt.ActionProvider)}, now, "send", 0, "", kit.FormatWixJWT},
		{"jwt to a provider with both", kit.Config{AppID: appID, Secrets: []string{"s1"}, PublicKey: &plat.PublicKey}, provider.Target{Envelope: jwtFor(plat, "", now, wixjwt.ActionProvider)}, now, "send", 0, "", kit.FormatWixJWT},
		{"jwt for another app", kit.Config{AppID: otherID, PublicKey: &plat.PublicKey}, provider.Target{Envelope: jwtFor(plat, "", now, wixjwt.ActionProvider)}, now, "send", 401, "UNAUTHENTICATED", ""},
		{"jwt signed by another key", kit.Config{AppID: appID, PublicKey: &plat.PublicKey}, provider.Target{Envelope: jwtFor(rogue, "", now, wixjwt.ActionProvider)}, now, "send", 401, "UNAUTHENTICATED", ""},
		{"jwt expired", kit.Config{AppID: appID, PublicKey: &plat.PublicKey}, provider.Target{Envelope: jwtFor(plat, "", now.Add(-time.Hour), wixjwt.ActionProvider)}, now, "send", 401, "UNAUTHENTICATED", ""},
		{"jwt from another issuer", kit.Config{AppID: appID, PublicKey: &plat.PublicKey}, provider.Target{Envelope: jwtFor(plat, "switchyard.example", now, wixjwt.ActionProvider)}, now, "send", 401, "UNAUTHENTICATED", ""},
		{"jwt with the configured issuer", kit.Config{AppID: appID, PublicKey: &plat.PublicKey, Issuer: "switchyard.example"}, provider.Target{Envelope: jwtFor(plat, "switchyard.example", now, wixjwt.ActionProvider)}, now, "send", 0, "", kit.FormatWixJWT},
		{"jwt for the trigger provider", kit.Config{AppID: appID, PublicKey: &plat.PublicKey}, provider.Target{Envelope: jwtFor(plat, "", now, wixjwt.TriggerProvider)}, now, "send", 401, "UNAUTHENTICATED", ""},
		{"handler error keeps its status and code", kit.Config{Secrets: []string{"s1"}}, provider.Target{Secrets: [][]byte{[]byte("s1")}}, now, "fail", 403, "QUOTA_EXCEEDED", kit.FormatSwitchyard},
		{"handler crash is a 500 without details", kit.Config{Secrets: []string{"s1"}}, provider.Target{Secrets: [][]byte{[]byte("s1")}}, now, "crash", 500, "INTERNAL_ERROR", kit.FormatSwitchyard},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, s := startProvider(t, tc.provider)
			// The Idempotency-Key header is not signed: the call's key comes from the signed body.
			tc.target.BaseURI, tc.target.AppID, tc.target.IdempotencyKey = srv.URL+"/sms", appID, "unsigned-header-value"
			tc.target.SiteID = site
			resp, err := client(func() time.Time { return tc.clock }).Invoke(context.Background(), tc.target,
				provider.InvokeRequest{ActionKey: tc.actionKey, ActionParams: map[string]any{"text": "hi"},
					ActivationContext: &provider.ActivationContext{ActivationID: "act", ActionID: "action"}})
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("invoke: %v", err)
				}
				if resp.Result["echo"] != "hi" {
					t.Fatalf("result = %v", resp.Result)
				}
			} else {
				var pe *provider.Error
				if !errors.As(err, &pe) || pe.StatusCode != tc.wantStatus || !strings.Contains(pe.Description, `"code":"`+tc.wantCode+`"`) {
					t.Fatalf("invoke error = %v, want HTTP %d with code %s", err, tc.wantStatus, tc.wantCode)
				}
				if strings.Contains(pe.Description, "hunter2") {
					t.Fatalf("the handler's error text leaked: %s", pe.Description)
				}
			}
			if tc.wantFormat == "" {
				if len(s.calls) != 0 {
					t.Fatalf("a refused call reached the handler: %+v", s.calls)
				}
				return
			}
			if len(s.calls) != 1 {
				t.Fatalf("handler calls = %d, want 1", len(s.calls))
			}
			c := s.calls[0]
			if c.Method != kit.MethodInvoke || c.Format != tc.wantFormat || c.IdempotencyKey != "act:action" {
				t.Fatalf("call = %+v", c)
			}
			if c.InstanceID != site {
				t.Fatalf("call's site = %q, want %q (signed header or JWT metadata)", c.InstanceID, site)
			}
			if tc.wantFormat == kit.FormatWixJWT && c.RequestID != "req-1" {
				t.Fatalf("JWT call metadata = %+v", c)
			}
			if r := s.reqs[0].(*provider.InvokeRequest); r.ActionKey != tc.actionKey || r.ActionParams["text"] != "hi" {
				t.Fatalf("request = %+v", r)
			}
		})
	}
}

func TestHandlerMethods(t *testing.T) {
	srv, s := startProvider(t, kit.Config{Secrets: []string{"s1"}})
	target := provider.Target{BaseURI: srv.URL, AppID: appID, Secret: []byte("s1")}
	c := client(nil)
	ctx := context.Background()

	v, err := c.ValidateConfiguration(ctx, target, provider.ValidateConfigurationRequest{ActionKey: "send", InputMapping: `{"to":"x"}`})
	if err != nil || v.Valid || len(v.ConfigurationErrors) != 1 || v.ConfigurationErrors[0].FieldKey != "to" {
		t.Fatalf("validate-configuration = %+v, %v", v, err)
	}
	if r := s.reqs[0].(*provider.ValidateConfigurationRequest); r.InputMapping != `{"to":"x"}` || s.calls[0].Method != kit.MethodValidateConfiguration {
		t.Fatalf("validate request = %+v (%+v)", r, s.calls[0])
	}
	// quota-info is not implemented by this provider: a clear 404, which the platform reports.
	_, err = c.QuotaInfo(ctx, target, provider.QuotaInfoRequest{ActionKey: "send"})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.StatusCode != 404 || !strings.Contains(pe.Description, "METHOD_NOT_IMPLEMENTED") {
		t.Fatalf("quota-info = %v, want 404 METHOD_NOT_IMPLEMENTED", err)
	}

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"GET", "GET", "/v1/invoke", "", 405, "METHOD_NOT_ALLOWED"},
		{"unknown method", "POST", "/v1/dynamic-schema", "{}", 404, "METHOD_NOT_FOUND"},
		{"unsigned JSON", "POST", "/v1/invoke", `{"actionKey":"send"}`, 401, "UNAUTHENTICATED"},
		{"garbage JWT", "POST", "/v1/invoke", "eyJ.eyJ.sig", 401, "UNAUTHENTICATED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Message          string
				ApplicationError struct{ Code string }
			}
			if err := jsonDecode(resp, &body); err != nil || resp.StatusCode != tc.status || body.ApplicationError.Code != tc.code || body.Message == "" {
				t.Fatalf("%s %s: %d %+v (%v), want %d %s", tc.method, tc.path, resp.StatusCode, body, err, tc.status, tc.code)
			}
		})
	}
}

func TestNewHandlerRefusesToVerifyNothing(t *testing.T) {
	plat, _ := keys(t)
	for _, tc := range []struct {
		name string
		cfg  kit.Config
	}{
		{"nothing", kit.Config{}},
		{"empty secret", kit.Config{Secrets: []string{""}}},
		{"public key without app id", kit.Config{PublicKey: &plat.PublicKey}},
	} {
		if _, err := kit.NewHandler(tc.cfg); err == nil {
			t.Errorf("%s: NewHandler accepted it", tc.name)
		}
	}
}
