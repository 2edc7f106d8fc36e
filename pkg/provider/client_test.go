package provider

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sleeps records the backoffs the client asks for and returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newTestClient returns a client that may dial loopback, uses fixedNow and never really sleeps.
func newTestClient(t *testing.T, mod func(*Options)) (*Client, *sleeps) {
	t.Helper()
	s := &sleeps{}
	opts := Options{
		Guard:           &AddressGuard{AllowLoopback: true},
		ResponseTimeout: 5 * time.Second,
		Now:             func() time.Time { return fixedNow },
		Retry:           RetryPolicy{Sleep: s.sleep},
	}
	if mod != nil {
		mod(&opts)
	}
	return NewClient(opts), s
}

type reply struct {
	status int
	body   string
	header map[string]string
}

// scripted is a provider that answers the n-th request with replies[n] (the last one repeats)
// and records what it received.
type scripted struct {
	mu      sync.Mutex
	replies []reply
	reqs    []*http.Request
	bodies  [][]byte
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, r)
	s.bodies = append(s.bodies, body)
	rep := s.replies[min(n, len(s.replies)-1)]
	s.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (s *scripted) hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func (s *scripted) headers(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.reqs {
		out = append(out, r.Header.Get(name))
	}
	return out
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	if n := utf8.RuneCountInString(e.Description); n == 0 || n > MaxDescriptionLen || strings.ContainsAny(e.Description, "\n\r") {
		t.Errorf("Description %q: want 1..%d characters on one line", e.Description, MaxDescriptionLen)
	}
	return e
}

func TestInvokeResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		wantType string
		wantDL   time.Time // zero: no deadline
		wantErr  string    // substring of Description; kind must be Malformed
		result   string    // expected result, as JSON
	}{
		{name: "immediate", body: `{"result":{"ok":true,"id":"r1"},"invokeTimeoutType":"IMMEDIATE"}`,
			wantType: InvokeImmediate, result: `{"id":"r1","ok":true}`},
		{name: "type omitted", body: `{"result":{}}`, wantType: InvokeImmediate, result: `{}`},
		{name: "unknown type is immediate", body: `{"result":{},"invokeTimeoutType":"TIMEOUT_FOREVER","timeoutLengthOptions":{"timeoutInMinutes":0}}`,
			wantType: InvokeImmediate, result: `{}`},
		{name: "UNKNOWN_INVOKE_TIMEOUT_TYPE is immediate", body: `{"invokeTimeoutType":"UNKNOWN_INVOKE_TIMEOUT_TYPE"}`,
			wantType: InvokeImmediate, result: `null`},
		{name: "timeout length", body: `{"result":{},"invokeTimeoutType":"TIMEOUT_LENGTH","timeoutLengthOptions":{"timeoutInMinutes":90}}`,
			wantType: InvokeTimeoutLength, wantDL: fixedNow.Add(90 * time.Minute), result: `{}`},
		{name: "timeout length as proto3 string", body: `{"invokeTimeoutType":"TIMEOUT_LENGTH","timeoutLengthOptions":{"timeoutInMinutes":"1440"}}`,
			wantType: InvokeTimeoutLength, wantDL: fixedNow.Add(24 * time.Hour), result: `null`},
		{name: "timeout date", body: `{"result":{"ok":true},"invokeTimeoutType":"TIMEOUT_DATE","timeoutDateOptions":{"timeoutDate":"2026-03-01T00:00:00.000Z"}}`,
			wantType: InvokeTimeoutDate, wantDL: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), result: `{"ok":true}`},
		{name: "timeout length zero", body: `{"invokeTimeoutType":"TIMEOUT_LENGTH","timeoutLengthOptions":{"timeoutInMinutes":0}}`,
			wantErr: "timeoutInMinutes must be 1..1440, got 0"},
		{name: "timeout length too long", body: `{"invokeTimeoutType":"TIMEOUT_LENGTH","timeoutLengthOptions":{"timeoutInMinutes":1441}}`,
			wantErr: "got 1441"},
		{name: "timeout length fractional", body: `{"invokeTimeoutType":"TIMEOUT_LENGTH","timeoutLengthOptions":{"timeoutInMinutes":1.5}}`,
			wantErr: "not an integer"},
		{name: "timeout length missing options", body: `{"invokeTimeoutType":"TIMEOUT_LENGTH"}`,
			wantErr: "TIMEOUT_LENGTH without timeoutLengthOptions"},
		{name: "timeout date in the past", body: `{"invokeTimeoutType":"TIMEOUT_DATE","timeoutDateOptions":{"timeoutDate":"2025-12-31T00:00:00Z"}}`,
			wantErr: "is not in the future"},
		{name: "timeout date beyond a year", body: `{"invokeTimeoutType":"TIMEOUT_DATE","timeoutDateOptions":{"timeoutDate":"2030-01-01T00:00:00.000Z"}}`,
			wantErr: "more than 1 year ahead"},
		{name: "timeout date missing", body: `{"invokeTimeoutType":"TIMEOUT_DATE","timeoutDateOptions":{}}`,
			wantErr: "TIMEOUT_DATE without timeoutDateOptions.timeoutDate"},
		{name: "timeout date not a date", body: `{"invokeTimeoutType":"TIMEOUT_DATE","timeoutDateOptions":{"timeoutDate":"tomorrow"}}`,
			wantErr: "provider answered HTTP 200"},
		{name: "not JSON", body: `<html><body>Bad gateway</body></html>`, wantErr: "not JSON: <html><body>Bad gateway</body></html>"},
		{name: "empty body", body: ``, wantErr: "not JSON"},
		{name: "truncated JSON", body: `{"result":{`, wantErr: "not JSON"},
		{name: "trailing data", body: `{"result":{}} {"result":{}}`, wantErr: "unexpected data after the JSON value"},
		{name: "result not an object", body: `{"result":[1,2]}`, wantErr: "wrong shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &scripted{replies: []reply{{status: 200, body: tt.body}}}
			c, _ := newTestClient(t, func(o *Options) { o.Retry.MaxAttempts = 2 })
			got, err := c.Invoke(context.Background(), Target{BaseURI: serve(t, p)}, InvokeRequest{ActionKey: "send-email"})
			if tt.wantErr != "" {
				e := asError(t, err)
				if e.Kind != Malformed || !strings.Contains(e.Description, tt.wantErr) {
					t.Fatalf("got %s %q, want MALFORMED containing %q", e.Kind, e.Description, tt.wantErr)
				}
				if e.Attempts != 2 || p.hits() != 2 {
					t.Errorf("attempts %d, hits %d: a malformed answer is retried", e.Attempts, p.hits())
				}
				return
			}
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if got.TimeoutType() != tt.wantType {
				t.Errorf("TimeoutType = %s, want %s", got.TimeoutType(), tt.wantType)
			}
			dl, ok := got.Deadline(fixedNow)
			if ok != !tt.wantDL.IsZero() || !dl.Equal(tt.wantDL) {
				t.Errorf("Deadline = %v, %v; want %v", dl, ok, tt.wantDL)
			}
			if b, _ := json.Marshal(got.Result); string(b) != tt.result {
				t.Errorf("Result = %s, want %s", b, tt.result)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := reply{status: 200, body: `{"result":{"ok":true}}`}
	tests := []struct {
		name       string
		replies    []reply
		wantKind   ErrorKind // "" = success
		wantStatus int
		wantDesc   string
		wantHits   int
	}{
		{name: "400 is not retried", replies: []reply{{status: 400, body: `{"applicationError":{"code":"BAD_INPUT"}}`}, ok},
			wantKind: ClientError, wantStatus: 400, wantHits: 1,
			wantDesc: `provider answered HTTP 400: {"applicationError":{"code":"BAD_INPUT"}}`},
		{name: "404 without body", replies: []reply{{status: 404}}, wantKind: ClientError, wantStatus: 404, wantHits: 1,
			wantDesc: "provider answered HTTP 404"},
		{name: "redirect is not followed", replies: []reply{{status: 302, header: map[string]string{"Location": "http://127.0.0.1:1/x"}}},
			wantKind: ClientError, wantStatus: 302, wantHits: 1, wantDesc: "provider redirected (HTTP 302 to http://127.0.0.1:1/x)"},
		{name: "503 twice then success", replies: []reply{{status: 503, body: "busy"}, {status: 503, body: "busy"}, ok}, wantHits: 3},
		{name: "500 until attempts run out", replies: []reply{{status: 500, body: "boom\n  at line 3"}},
			wantKind: ServerError, wantStatus: 500, wantHits: 4, wantDesc: "provider answered HTTP 500: boom at line 3"},
		{name: "429 is retried", replies: []reply{{status: 429, header: map[string]string{"Retry-After": "1"}}, ok}, wantHits: 2},
		{name: "malformed then success", replies: []reply{{status: 200, body: "oops"}, ok}, wantHits: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &scripted{replies: tt.replies}
			c, s := newTestClient(t, nil)
			const key = "act-1:action-2"
			res, err := c.Invoke(context.Background(), Target{BaseURI: serve(t, p), IdempotencyKey: key}, InvokeRequest{ActionKey: "k"})
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				if res.Result["ok"] != true {
					t.Errorf("Result = %v", res.Result)
				}
			} else {
				e := asError(t, err)
				if e.Kind != tt.wantKind || e.StatusCode != tt.wantStatus || e.Description != tt.wantDesc || e.Attempts != tt.wantHits {
					t.Errorf("got %s %d %q after %d; want %s %d %q after %d",
						e.Kind, e.StatusCode, e.Description, e.Attempts, tt.wantKind, tt.wantStatus, tt.wantDesc, tt.wantHits)
				}
			}
			if p.hits() != tt.wantHits {
				t.Errorf("provider saw %d requests, want %d", p.hits(), tt.wantHits)
			}
			for i, k := range p.headers(HeaderIdempotencyKey) {
				if k != key {
					t.Errorf("attempt %d: Idempotency-Key %q, want %q", i+1, k, key)
				}
			}
			delays := s.all()
			if len(delays) != tt.wantHits-1 {
				t.Errorf("slept %d times, want %d", len(delays), tt.wantHits-1)
			}
			for i, d := range delays {
				ceiling := min(defaultBaseDelay<<i, defaultMaxDelay)
				if tt.replies[0].header["Retry-After"] != "" {
					ceiling = time.Second
				}
				if d < 0 || d > ceiling {
					t.Errorf("backoff %d = %v, want within [0, %v]", i+1, d, ceiling)
				}
			}
		})
	}
}

func TestBackoffFullJitter(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	for attempt, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		var top time.Duration
		for range 2000 {
			d := p.backoff(attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", attempt, d, ceiling)
			}
			top = max(top, d)
		}
		if top < ceiling/2 {
			t.Errorf("backoff(%d) never above %v in 2000 draws: not jittered over the full range", attempt, top)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, s := newTestClient(t, nil)
	_, err = c.Invoke(context.Background(), Target{BaseURI: "http://" + addr}, InvokeRequest{ActionKey: "k"})
	e := asError(t, err)
	if e.Kind != Unreachable || e.Attempts != 4 || len(s.all()) != 3 {
		t.Fatalf("got %s after %d attempts, %d sleeps; want UNREACHABLE after 4, 3 sleeps", e.Kind, e.Attempts, len(s.all()))
	}
	if e.Description != "provider unreachable: connection refused" {
		t.Errorf("Description = %q", e.Description)
	}
}

func TestUnknownHost(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, func(o *Options) { o.Retry.MaxAttempts = 1 })
	_, err := c.Invoke(context.Background(), Target{BaseURI: "http://no-such-host.invalid"}, InvokeRequest{ActionKey: "k"})
	e := asError(t, err)
	if e.Kind != Unreachable || !strings.HasPrefix(e.Description, "provider unreachable: lookup no-such-host.invalid") {
		t.Fatalf("got %s %q", e.Kind, e.Description)
	}
}

func TestSlowProviderTimesOut(t *testing.T) {
	t.Parallel()
	stall := func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices a client hang-up only once the body is read
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{name: "no headers", handler: stall},
		{name: "body stalls", handler: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			io.WriteString(w, `{"result":`)
			w.(http.Flusher).Flush()
			stall(w, r)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			hits := 0
			url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits++
				mu.Unlock()
				tt.handler(w, r)
			}))
			c, _ := newTestClient(t, func(o *Options) {
				o.ResponseTimeout = 100 * time.Millisecond
				o.Retry.MaxAttempts = 2
			})
			start := time.Now()
			_, err := c.Invoke(context.Background(), Target{BaseURI: url}, InvokeRequest{ActionKey: "k"})
			e := asError(t, err)
			if e.Kind != Timeout || e.Attempts != 2 {
				t.Fatalf("got %s %q after %d attempts; want TIMEOUT after 2", e.Kind, e.Description, e.Attempts)
			}
			if e.Description != "provider did not answer within 100ms" {
				t.Errorf("Description = %q", e.Description)
			}
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %v", el)
			}
			mu.Lock()
			defer mu.Unlock()
			if hits != 2 {
				t.Errorf("provider saw %d requests, want 2", hits)
			}
		})
	}
}

func TestMaxElapsedBoundsTheCall(t *testing.T) {
	t.Parallel()
	p := &scripted{replies: []reply{{status: 503}}}
	c := NewClient(Options{
		Guard: &AddressGuard{AllowLoopback: true},
		Retry: RetryPolicy{MaxAttempts: 1000, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxElapsed: 300 * time.Millisecond},
	})
	start := time.Now()
	_, err := c.Invoke(context.Background(), Target{BaseURI: serve(t, p)}, InvokeRequest{ActionKey: "k"})
	el := time.Since(start)
	e := asError(t, err)
	// The budget may end between attempts (the last 503 is reported) or during one (a timeout): on a
	// loaded machine either happens.
	if (e.Kind != ServerError && e.Kind != Timeout) || e.Attempts < 2 || e.Attempts >= 1000 {
		t.Fatalf("got %s after %d attempts", e.Kind, e.Attempts)
	}
	if el > 2*time.Second {
		t.Errorf("call took %v despite a 300ms budget", el)
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices a client hang-up only once the body is read
		started <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	c, _ := newTestClient(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := c.Invoke(ctx, Target{BaseURI: url}, InvokeRequest{ActionKey: "k"})
	e := asError(t, err)
	if e.Kind != Canceled || e.Attempts != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %s after %d attempts (%v); want CANCELED after 1 wrapping context.Canceled", e.Kind, e.Attempts, err)
	}

	_, err = c.Invoke(ctx, Target{BaseURI: url}, InvokeRequest{ActionKey: "k"})
	if e := asError(t, err); e.Kind != Canceled || e.Attempts != 0 {
		t.Errorf("already canceled: got %s after %d attempts", e.Kind, e.Attempts)
	}
}

func TestOversizedBody(t *testing.T) {
	t.Parallel()
	big := `{"result":{"blob":"` + strings.Repeat("x", 2000) + `"}}`
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{name: "with Content-Length", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			io.WriteString(w, big)
		}},
		{name: "chunked", handler: func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < len(big); i += 100 {
				io.WriteString(w, big[i:min(i+100, len(big))])
				w.(http.Flusher).Flush()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t, func(o *Options) {
				o.MaxResponseBytes = 1024
				o.Retry.MaxAttempts = 1
			})
			_, err := c.Invoke(context.Background(), Target{BaseURI: serve(t, tt.handler)}, InvokeRequest{ActionKey: "k"})
			e := asError(t, err)
			if e.Kind != Malformed || e.Description != "provider response is larger than 1024 bytes" {
				t.Fatalf("got %s %q", e.Kind, e.Description)
			}
		})
	}
	// Exactly at the limit is fine.
	c, _ := newTestClient(t, func(o *Options) { o.MaxResponseBytes = int64(len(big)) })
	p := &scripted{replies: []reply{{status: 200, body: big}}}
	if _, err := c.Invoke(context.Background(), Target{BaseURI: serve(t, p)}, InvokeRequest{ActionKey: "k"}); err != nil {
		t.Errorf("body of exactly MaxResponseBytes: %v", err)
	}
}

func TestErrorDescriptionIsShort(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("line of an HTML error page\n", 400)
	p := &scripted{replies: []reply{{status: 502, body: body}}}
	c, _ := newTestClient(t, func(o *Options) { o.Retry.MaxAttempts = 1 })
	_, err := c.Invoke(context.Background(), Target{BaseURI: serve(t, p)}, InvokeRequest{ActionKey: "k"})
	e := asError(t, err)
	const prefix = "provider answered HTTP 502: "
	rest, ok := strings.CutPrefix(e.Description, prefix)
	if !ok || !strings.HasSuffix(rest, "…") || utf8.RuneCountInString(rest) > bodySnippetLen+1 || utf8.RuneCountInString(rest) < bodySnippetLen-10 {
		t.Errorf("Description = %q; want %q + about %d characters of body + …", e.Description, prefix, bodySnippetLen)
	}
	if got := e.Error(); got != e.Description {
		t.Errorf("Error() = %q", got)
	}
}

func TestSignedRequests(t *testing.T) {
	t.Parallel()
	secret := []byte("app-secret-1")
	p := &scripted{replies: []reply{{status: 503}, {status: 200, body: `{"result":{}}`}}}
	c, _ := newTestClient(t, nil)
	target := Target{BaseURI: serve(t, p), AppID: "app-123", Secret: secret, IdempotencyKey: "a:b"}
	if _, err := c.Invoke(context.Background(), target, InvokeRequest{ActionKey: "k", ActionParams: map[string]any{"to": "x@example.com"}}); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.reqs) != 2 {
		t.Fatalf("got %d requests", len(p.reqs))
	}
	for i, r := range p.reqs {
		if got := r.Header.Get(HeaderAppID); got != "app-123" {
			t.Errorf("attempt %d: %s = %q", i+1, HeaderAppID, got)
		}
		if got := r.Header.Get(HeaderTimestamp); got != strconv.FormatInt(fixedNow.Unix(), 10) {
			t.Errorf("attempt %d: %s = %q", i+1, HeaderTimestamp, got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("attempt %d: Content-Type = %q", i+1, got)
		}
		if err := VerifySignature(secret, r.Header, p.bodies[i], fixedNow.Add(30*time.Second), time.Minute); err != nil {
			t.Errorf("attempt %d: VerifySignature: %v", i+1, err)
		}
		if err := VerifySignature(secret, r.Header, p.bodies[i], fixedNow.Add(10*time.Minute), time.Minute); !errors.Is(err, ErrTimestampSkew) {
			t.Errorf("attempt %d: 10 minutes later: %v, want ErrTimestampSkew", i+1, err)
		}
		if err := VerifySignature([]byte("other"), r.Header, p.bodies[i], fixedNow, time.Minute); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("attempt %d: wrong secret: %v, want ErrSignatureMismatch", i+1, err)
		}
	}

	// Unsigned when there is no secret.
	q := &scripted{replies: []reply{{status: 200, body: `{}`}}}
	if _, err := c.Invoke(context.Background(), Target{BaseURI: serve(t, q)}, InvokeRequest{ActionKey: "k"}); err != nil {
		t.Fatal(err)
	}
	if h := q.headers(HeaderSignature); h[0] != "" {
		t.Errorf("unsigned target got %s %q", HeaderSignature, h[0])
	}
}

func TestGuardBlocksClient(t *testing.T) {
	t.Parallel()
	p := &scripted{replies: []reply{{status: 200, body: `{"result":{}}`}}}
	u, _ := url.Parse(serve(t, p))
	port := u.Port()
	tests := []struct {
		name         string
		baseURI      string
		guard        *AddressGuard
		client       *http.Client
		wantAttempts int // 0: refused before sending; 1: refused by the dialer
		wantDesc     string
	}{
		{name: "127.0.0.1", baseURI: "http://127.0.0.1:" + port, wantDesc: "provider address blocked: 127.0.0.1 is a loopback address"},
		{name: "localhost resolves to loopback", baseURI: "http://localhost:" + port + "/spi", wantAttempts: 1,
			wantDesc: "provider address blocked: 127.0.0.1 is a loopback address"},
		{name: "::1", baseURI: "http://[::1]:" + port, wantDesc: "provider address blocked: ::1 is a loopback address"},
		{name: "IPv4-mapped loopback", baseURI: "http://[::ffff:127.0.0.1]:" + port, wantDesc: "provider address blocked: ::ffff:127.0.0.1 is a loopback address"},
		{name: "10.0.0.1", baseURI: "http://10.0.0.1/", wantDesc: "provider address blocked: 10.0.0.1 is a private address"},
		{name: "metadata", baseURI: "http://169.254.169.254/latest/meta-data", wantDesc: "provider address blocked: 169.254.169.254 is a cloud metadata address"},
		{name: "custom HTTPClient still pre-checks literals", baseURI: "http://127.0.0.1:" + port, client: &http.Client{},
			wantDesc: "provider address blocked: 127.0.0.1 is a loopback address"},
		{name: "loopback allowed, private still not", baseURI: "http://10.0.0.1/", guard: &AddressGuard{AllowLoopback: true},
			wantDesc: "provider address blocked: 10.0.0.1 is a private address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &sleeps{}
			c := NewClient(Options{Guard: tt.guard, HTTPClient: tt.client, Retry: RetryPolicy{Sleep: s.sleep}})
			_, err := c.Invoke(context.Background(), Target{BaseURI: tt.baseURI}, InvokeRequest{ActionKey: "k"})
			e := asError(t, err)
			if e.Kind != Blocked || e.Attempts != tt.wantAttempts || e.Description != tt.wantDesc {
				t.Errorf("got %s %q after %d attempts; want BLOCKED %q after %d", e.Kind, e.Description, e.Attempts, tt.wantDesc, tt.wantAttempts)
			}
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Errorf("error does not wrap *BlockedError: %v", err)
			}
			if len(s.all()) != 0 {
				t.Errorf("a blocked call was retried")
			}
		})
	}
	if p.hits() != 0 {
		t.Errorf("provider saw %d requests through the guard", p.hits())
	}

	// The same provider is reachable once the guard allows it.
	for name, g := range map[string]*AddressGuard{
		"AllowLoopback": {AllowLoopback: true},
		"AllowCIDRs":    {AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
	} {
		for _, host := range []string{"127.0.0.1", "localhost"} {
			c := NewClient(Options{Guard: g})
			if _, err := c.Invoke(context.Background(), Target{BaseURI: "http://" + host + ":" + port}, InvokeRequest{ActionKey: "k"}); err != nil {
				t.Errorf("%s, %s: %v", name, host, err)
			}
		}
	}
}

func TestBaseURIRejected(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ uri, want string }{
		{"", "provider base URI must use http or https"},
		{"ftp://provider.example.com", "provider base URI must use http or https"},
		{"file:///etc/passwd", "provider base URI must use http or https"},
		{"provider.example.com/v1", "provider base URI must use http or https"},
		{"https://user:pass@provider.example.com", "provider base URI must not contain credentials"},
		{"https://provider.example.com/#frag", "provider base URI must not have a fragment"},
		{"https://", "provider base URI has no host"},
		{"https://provider.example.com:badport", "provider base URI is not a valid URL"},
	} {
		c, _ := newTestClient(t, nil)
		_, err := c.Invoke(context.Background(), Target{BaseURI: tt.uri}, InvokeRequest{ActionKey: "k"})
		e := asError(t, err)
		if e.Kind != Blocked || e.Attempts != 0 || e.Description != tt.want {
			t.Errorf("%q: got %s %q after %d attempts, want BLOCKED %q", tt.uri, e.Kind, e.Description, e.Attempts, tt.want)
		}
		if ValidateBaseURI(tt.uri) == nil {
			t.Errorf("ValidateBaseURI(%q) = nil", tt.uri)
		}
	}
	for _, ok := range []string{"https://provider.example.com", "http://provider.example.com:8080/base/", "HTTPS://Provider.Example.com/x?tenant=1"} {
		if err := ValidateBaseURI(ok); err != nil {
			t.Errorf("ValidateBaseURI(%q) = %v", ok, err)
		}
	}
}

func TestEndpointPaths(t *testing.T) {
	t.Parallel()
	p := &scripted{replies: []reply{{status: 200, body: `{}`}}}
	base := serve(t, p)
	c, _ := newTestClient(t, nil)
	ctx := context.Background()
	for _, b := range []string{base, base + "/", base + "/app/spi", base + "/app/spi/?tenant=7"} {
		if _, err := c.QuotaInfo(ctx, Target{BaseURI: b}, QuotaInfoRequest{ActionKey: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	want := []string{"/v1/quota-info", "/v1/quota-info", "/app/spi/v1/quota-info", "/app/spi/v1/quota-info?tenant=7"}
	for i, r := range p.reqs {
		if got := r.URL.RequestURI(); got != want[i] || r.Method != http.MethodPost {
			t.Errorf("request %d: %s %s, want POST %s", i, r.Method, got, want[i])
		}
	}
}

func TestValidateConfiguration(t *testing.T) {
	t.Parallel()
	p := &scripted{replies: []reply{{status: 200, body: `{"valid":false,"configurationErrors":[
		{"fieldKey":"to","message":"Enter an email address","ctaLabel":"Fix","ctaUrl":"https://app.example.com/fix","title":"Missing recipient"},
		{"message":"Connect your account first","title":"Not connected"}]}`}}}
	c, _ := newTestClient(t, nil)
	got, err := c.ValidateConfiguration(context.Background(), Target{BaseURI: serve(t, p)},
		ValidateConfigurationRequest{ActionKey: "send-email", InputMapping: `{"to":"{{contact.email}}"}`})
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	path, body := p.reqs[0].URL.Path, string(p.bodies[0])
	p.mu.Unlock()
	if path != PathValidateConfiguration {
		t.Errorf("path %s", path)
	}
	if want := `{"actionKey":"send-email","inputMapping":"{\"to\":\"{{contact.email}}\"}"}`; body != want {
		t.Errorf("request body\n got %s\nwant %s", body, want)
	}
	want := ValidateConfigurationResponse{Valid: false, ConfigurationErrors: []ConfigurationError{
		{FieldKey: "to", Message: "Enter an email address", CTALabel: "Fix", CTAURL: "https://app.example.com/fix", Title: "Missing recipient"},
		{Message: "Connect your account first", Title: "Not connected"},
	}}
	if a, b := mustJSON(t, got), mustJSON(t, want); a != b {
		t.Errorf("got %s\nwant %s", a, b)
	}
}

func TestQuotaInfo(t *testing.T) {
	t.Parallel()
	p := &scripted{replies: []reply{{status: 200, body: `{"actionQuotaInfo":{"enforced":true,"quotaInfo":[{
		"plans":[{"id":"basic","name":"Basic"}],
		"quotas":[
			{"featureName":"emails","renewalDate":"2026-02-01T00:00:00.000Z","currentUsage":"42","limit":"100",
			 "additionalInfo":{"description":"Emails this month","cta":{"url":"https://app.example.com/usage","label":"See usage"}}},
			{"featureName":"sms","currentUsage":7,"limit":null}],
		"upgradeCta":{"url":"https://app.example.com/upgrade","label":"Upgrade"}}]}}`}}}
	c, _ := newTestClient(t, nil)
	got, err := c.QuotaInfo(context.Background(), Target{BaseURI: serve(t, p)}, QuotaInfoRequest{ActionKey: "send-email"})
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	path, body := p.reqs[0].URL.Path, string(p.bodies[0])
	p.mu.Unlock()
	if path != PathQuotaInfo || body != `{"actionKey":"send-email"}` {
		t.Errorf("request %s %s", path, body)
	}
	// Re-marshalled, the numbers are normalised to the wire's strings and null stays null.
	want := `{"actionQuotaInfo":{"enforced":true,"quotaInfo":[{"plans":[{"id":"basic","name":"Basic"}],"quotas":[` +
		`{"featureName":"emails","renewalDate":"2026-02-01T00:00:00Z","currentUsage":"42","limit":"100","additionalInfo":{"description":"Emails this month","cta":{"url":"https://app.example.com/usage","label":"See usage"}}},` +
		`{"featureName":"sms","currentUsage":"7","limit":null}],"upgradeCta":{"url":"https://app.example.com/upgrade","label":"Upgrade"}}]}}`
	if g := mustJSON(t, got); g != want {
		t.Errorf("got  %s\nwant %s", g, want)
	}

	q := &scripted{replies: []reply{{status: 200, body: `{"actionQuotaInfo":{"quotaInfo":[{"quotas":[{"currentUsage":{}}]}]}}`}}}
	c, _ = newTestClient(t, func(o *Options) { o.Retry.MaxAttempts = 1 })
	_, err = c.QuotaInfo(context.Background(), Target{BaseURI: serve(t, q)}, QuotaInfoRequest{ActionKey: "k"})
	if e := asError(t, err); e.Kind != Malformed {
		t.Errorf("object currentUsage: got %s %q", e.Kind, e.Description)
	}
}

func TestInvokeSendsEmptyActionParams(t *testing.T) {
	t.Parallel()
	p := &scripted{replies: []reply{{status: 200, body: `{"result":{}}`}}}
	c, _ := newTestClient(t, nil)
	if _, err := c.Invoke(context.Background(), Target{BaseURI: serve(t, p)}, InvokeRequest{ActionKey: "k"}); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if got := string(p.bodies[0]); got != `{"actionKey":"k","actionParams":{}}` {
		t.Errorf("body %s", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 10, ""},
		{"  \n\t ", 10, ""},
		{"short", 10, "short"},
		{"a\r\nb\x00\x01c", 10, "a b c"},
		{"abcdefghijkl", 5, "abcde…"},
		{"abcd    efgh", 5, "abcd…"},
		{"héllo wörld", 7, "héllo w…"},
		{"bad \xff\xfe utf8", 20, "bad \uFFFD\uFFFD utf8"},
		{"exact  ", 5, "exact"},
	} {
		if got := snippet([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("snippet(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestErrorRetryable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		e    Error
		want bool
	}{
		{Error{Kind: Unreachable}, true},
		{Error{Kind: Timeout}, true},
		{Error{Kind: ServerError, StatusCode: 503}, true},
		{Error{Kind: Malformed}, true},
		{Error{Kind: ClientError, StatusCode: 400}, false},
		{Error{Kind: ClientError, StatusCode: 302}, false},
		{Error{Kind: ClientError, StatusCode: 429}, true},
		{Error{Kind: ClientError, StatusCode: 408}, true},
		{Error{Kind: Blocked}, false},
		{Error{Kind: Canceled}, false},
	} {
		if got := tt.e.Retryable(); got != tt.want {
			t.Errorf("%s %d: Retryable = %v", tt.e.Kind, tt.e.StatusCode, got)
		}
	}
}
