package webhook

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
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/provider"
)

// recorder is a real endpoint on 127.0.0.1 that answers the n-th request with replies[n] (the last one
// repeats) and keeps what it received.
type recorder struct {
	mu      sync.Mutex
	replies []func(w http.ResponseWriter, r *http.Request)
	got     []received
	url     string
}

type received struct {
	Method, Path, ContentType string
	Header                    http.Header
	Body                      string
}

func newRecorder(t *testing.T, replies ...func(w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{replies: replies}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	n := len(rec.got)
	rec.got = append(rec.got, received{Method: r.Method, Path: r.URL.RequestURI(), ContentType: r.Header.Get("Content-Type"), Header: r.Header.Clone(), Body: string(body)})
	reply := rec.replies[min(n, len(rec.replies)-1)]
	rec.mu.Unlock()
	reply(w, r)
}

func (rec *recorder) requests() []received {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]received(nil), rec.got...)
}

func answer(status int, contentType, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func redirect(status int, to string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, status) }
}

func instant(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// loopbackClient may dial loopback, as `switchyard serve` by default.
func loopbackClient(mod func(*Options)) *Client {
	o := Options{Guard: &provider.AddressGuard{AllowLoopback: true}, Retry: provider.RetryPolicy{Sleep: instant}}
	if mod != nil {
		mod(&o)
	}
	return New(o)
}

func mustParse(t *testing.T, params map[string]any) *Request {
	t.Helper()
	r, err := ParseInput(params)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func asProviderError(t *testing.T, err error) *provider.Error {
	t.Helper()
	var e *provider.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *provider.Error", err, err)
	}
	if strings.ContainsAny(e.Error(), "\r\n") || len(e.Error()) > provider.MaxDescriptionLen {
		t.Errorf("description %q is not one short line", e.Error())
	}
	return e
}

func TestCallAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		replies    []func(http.ResponseWriter, *http.Request)
		want       *Response
		wantKind   provider.ErrorKind
		wantDesc   string
		wantStatus int
		wantHits   int
	}{
		{name: "200 JSON is parsed", replies: []func(http.ResponseWriter, *http.Request){answer(200, "application/json", `{"id":"r-1","n":2,"ok":true}`)},
			want: &Response{Status: 200, Body: map[string]any{"id": "r-1", "n": 2.0, "ok": true}}, wantHits: 1},
		{name: "JSON without a JSON content type is parsed too", replies: []func(http.ResponseWriter, *http.Request){answer(202, "text/plain", ` [1,"a"] `)},
			want: &Response{Status: 202, Body: []any{1.0, "a"}}, wantHits: 1},
		{name: "text stays text", replies: []func(http.ResponseWriter, *http.Request){answer(201, "text/plain", "queued as 7\n")},
			want: &Response{Status: 201, Body: "queued as 7\n"}, wantHits: 1},
		{name: "empty body is an empty string", replies: []func(http.ResponseWriter, *http.Request){answer(204, "", "")},
			want: &Response{Status: 204, Body: ""}, wantHits: 1},
		{name: "404 fails at once", replies: []func(http.ResponseWriter, *http.Request){answer(404, "text/plain", "no such hook")},
			wantKind: provider.ClientError, wantStatus: 404, wantHits: 1, wantDesc: "webhook answered HTTP 404: no such hook"},
		{name: "400 fails at once", replies: []func(http.ResponseWriter, *http.Request){answer(400, "application/json", `{"error":"bad"}`)},
			wantKind: provider.ClientError, wantStatus: 400, wantHits: 1, wantDesc: `webhook answered HTTP 400: {"error":"bad"}`},
		{name: "5xx is retried until it succeeds", replies: []func(http.ResponseWriter, *http.Request){answer(500, "", "boom"), answer(502, "", ""), answer(200, "", `{"ok":1}`)},
			want: &Response{Status: 200, Body: map[string]any{"ok": 1.0}}, wantHits: 3},
		{name: "5xx for good fails after the policy's attempts", replies: []func(http.ResponseWriter, *http.Request){answer(503, "", "down")},
			wantKind: provider.ServerError, wantStatus: 503, wantHits: 4, wantDesc: "webhook answered HTTP 503: down (after 4 attempts)"},
		{name: "429 is retried", replies: []func(http.ResponseWriter, *http.Request){answer(429, "", "slow down"), answer(200, "", "ok")},
			want: &Response{Status: 200, Body: "ok"}, wantHits: 2},
		{name: "3xx without a location fails", replies: []func(http.ResponseWriter, *http.Request){answer(304, "", "")},
			wantKind: provider.ClientError, wantStatus: 304, wantHits: 1, wantDesc: "webhook answered HTTP 304"},
		{name: "oversized answer fails at once", replies: []func(http.ResponseWriter, *http.Request){answer(200, "", strings.Repeat("x", 64<<10+1))},
			wantKind: provider.Malformed, wantStatus: 200, wantHits: 1, wantDesc: "webhook answered HTTP 200 with a body larger than 65536 bytes"},
		{name: "oversized error answer fails at once", replies: []func(http.ResponseWriter, *http.Request){answer(500, "", strings.Repeat("x", 64<<10+1))},
			wantKind: provider.Malformed, wantStatus: 500, wantHits: 1, wantDesc: "webhook answered HTTP 500 with a body larger than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, tt.replies...)
			got, err := loopbackClient(nil).Call(context.Background(), mustParse(t, map[string]any{"url": rec.url + "/hook"}))
			if n := len(rec.requests()); n != tt.wantHits {
				t.Errorf("endpoint saw %d requests, want %d", n, tt.wantHits)
			}
			if tt.want != nil {
				if err != nil {
					t.Fatalf("Call: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %#v, want %#v", got, tt.want)
				}
				return
			}
			e := asProviderError(t, err)
			if e.Kind != tt.wantKind || e.StatusCode != tt.wantStatus || e.Error() != tt.wantDesc {
				t.Fatalf("got %s %d %q, want %s %d %q", e.Kind, e.StatusCode, e.Error(), tt.wantKind, tt.wantStatus, tt.wantDesc)
			}
		})
	}
}

// TestCallSendsTheRequest: method, headers, body and its content type arrive as mapped.
func TestCallSendsTheRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params map[string]any
		want   received
	}{
		{"default POST of a JSON object", map[string]any{"body": map[string]any{"contact": map[string]any{"email": "ada@example.com"}}},
			received{Method: "POST", ContentType: "application/json", Body: `{"contact":{"email":"ada@example.com"}}`}},
		{"PUT of a JSON array", map[string]any{"method": "PUT", "body": []any{1.0, "two"}},
			received{Method: "PUT", ContentType: "application/json", Body: `[1,"two"]`}},
		{"PATCH of text", map[string]any{"method": "PATCH", "body": "name=Ada"},
			received{Method: "PATCH", ContentType: "text/plain; charset=utf-8", Body: "name=Ada"}},
		{"a mapped Content-Type wins", map[string]any{"body": "a=1&b=2", "headers": map[string]any{"Content-Type": "application/x-www-form-urlencoded"}},
			received{Method: "POST", ContentType: "application/x-www-form-urlencoded", Body: "a=1&b=2"}},
		{"GET without a body", map[string]any{"method": "GET"}, received{Method: "GET"}},
		{"DELETE", map[string]any{"method": "DELETE", "body": map[string]any{}}, received{Method: "DELETE", ContentType: "application/json", Body: `{}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, answer(200, "", "ok"))
			tt.params["url"] = rec.url + "/hooks/1?x=y#frag"
			hs, _ := tt.params["headers"].(map[string]any)
			if hs == nil {
				hs = map[string]any{}
				tt.params["headers"] = hs
			}
			hs["X-Token"] = "s3cret"
			r := mustParse(t, tt.params)
			r.IdempotencyKey = "act:action"
			if _, err := loopbackClient(nil).Call(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			reqs := rec.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			g := reqs[0]
			if g.Method != tt.want.Method || g.Path != "/hooks/1?x=y" || g.ContentType != tt.want.ContentType || g.Body != tt.want.Body {
				t.Errorf("got %s %s [%s] %q, want %s /hooks/1?x=y [%s] %q", g.Method, g.Path, g.ContentType, g.Body, tt.want.Method, tt.want.ContentType, tt.want.Body)
			}
			if g.Header.Get("X-Token") != "s3cret" || g.Header.Get("Idempotency-Key") != "act:action" || g.Header.Get("User-Agent") != "Switchyard-Webhook/1" {
				t.Errorf("headers %v", g.Header)
			}
		})
	}
}

// TestRedirects: redirects are followed, and every hop is dialled through the guard, so a redirect
// cannot reach what the URL itself could not.
func TestRedirects(t *testing.T) {
	t.Parallel()
	internal := newRecorder(t, answer(200, "", "internal secrets"))
	final := newRecorder(t, answer(200, "", `{"done":true}`))
	hop := func(to string, status int) *recorder { return newRecorder(t, redirect(status, to)) }
	allowOnly := func(urls ...string) *provider.AddressGuard {
		var l provider.AllowList
		for _, u := range urls {
			pu, _ := url.Parse(u)
			l.AddrPorts = append(l.AddrPorts, netip.MustParseAddrPort(pu.Host))
		}
		return provider.DefaultGuard().With(l)
	}
	_, internalPort, _ := net.SplitHostPort(strings.TrimPrefix(internal.url, "http://"))

	tests := []struct {
		name     string
		first    *recorder
		guard    func(first string) *provider.AddressGuard
		method   string
		want     *Response
		wantDesc string
	}{
		{name: "followed to an allowed address; 307 keeps the method",
			first: hop(final.url+"/end", http.StatusTemporaryRedirect), guard: func(first string) *provider.AddressGuard { return allowOnly(first, final.url) },
			method: "PUT", want: &Response{Status: 200, Body: map[string]any{"done": true}}},
		{name: "to a loopback address the guard refuses",
			first: hop(internal.url+"/admin", http.StatusFound), guard: func(first string) *provider.AddressGuard { return allowOnly(first) },
			wantDesc: "webhook address blocked: 127.0.0.1 is a loopback address"},
		{name: "to a name resolving to a refused address",
			first: hop("http://localhost:"+internalPort+"/admin", http.StatusFound), guard: func(first string) *provider.AddressGuard { return allowOnly(first) },
			wantDesc: "webhook address blocked: 127.0.0.1 is a loopback address"},
		{name: "to cloud metadata, even with loopback allowed",
			first: hop("http://169.254.169.254/latest/meta-data/", http.StatusMovedPermanently), guard: func(string) *provider.AddressGuard { return &provider.AddressGuard{AllowLoopback: true} },
			wantDesc: "webhook address blocked: 169.254.169.254 is a cloud metadata address"},
		{name: "to IPv6 cloud metadata",
			first: hop("http://[fd00:ec2::254]/latest/", http.StatusFound), guard: func(string) *provider.AddressGuard { return &provider.AddressGuard{AllowLoopback: true} },
			wantDesc: "webhook address blocked: fd00:ec2::254 is a cloud metadata address"},
		{name: "to a private address",
			first: hop("http://10.0.0.7/", http.StatusFound), guard: func(string) *provider.AddressGuard { return &provider.AddressGuard{AllowLoopback: true} },
			wantDesc: "webhook address blocked: 10.0.0.7 is a private address"},
	}
	t.Run("hops", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				c := New(Options{Guard: tt.guard(tt.first.url), Retry: provider.RetryPolicy{Sleep: instant}})
				params := map[string]any{"url": tt.first.url + "/start", "body": map[string]any{"a": 1.0}}
				if tt.method != "" {
					params["method"] = tt.method
				}
				got, err := c.Call(context.Background(), mustParse(t, params))
				if tt.want != nil {
					if err != nil || !reflect.DeepEqual(got, tt.want) {
						t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
					}
					return
				}
				e := asProviderError(t, err)
				if e.Kind != provider.Blocked || e.Error() != tt.wantDesc {
					t.Fatalf("got %s %q, want BLOCKED %q", e.Kind, e.Error(), tt.wantDesc)
				}
				if n := len(tt.first.requests()); n != 1 {
					t.Errorf("a blocked redirect was retried: first hop saw %d requests", n)
				}
			})
		}
	})
	if n := len(internal.requests()); n != 0 {
		t.Errorf("the refused endpoint received %d requests", n)
	}
	if reqs := final.requests(); len(reqs) != 1 || reqs[0].Method != "PUT" || reqs[0].Body != `{"a":1}` {
		t.Errorf("final hop got %+v", reqs)
	}
}

func TestTooManyRedirects(t *testing.T) {
	t.Parallel()
	var loop *recorder
	loop = newRecorder(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, loop.url+"/again", http.StatusFound) })
	_, err := loopbackClient(func(o *Options) { o.MaxRedirects = 3 }).Call(context.Background(), mustParse(t, map[string]any{"url": loop.url}))
	e := asProviderError(t, err)
	if e.Kind != provider.ClientError || e.Error() != "webhook redirected more than 3 redirects" {
		t.Fatalf("got %s %q", e.Kind, e.Error())
	}
	if n := len(loop.requests()); n != 4 {
		t.Errorf("%d requests, want 4 (the first and 3 redirects)", n)
	}
}

// TestGuardOnTheURL: the URL's own address, literal or resolved, is judged before anything is sent.
func TestGuardOnTheURL(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, answer(200, "", "ok"))
	u, _ := url.Parse(rec.url)
	port := u.Port()
	tests := []struct {
		name, url, allow string
		wantDesc         string
	}{
		{"loopback literal", "http://127.0.0.1:" + port, "", "webhook address blocked: 127.0.0.1 is a loopback address"},
		{"DNS name resolving to loopback", "http://localhost:" + port, "", "webhook address blocked: 127.0.0.1 is a loopback address"},
		{"metadata", "http://169.254.169.254/latest/meta-data/iam", "127.0.0.0/8", "webhook address blocked: 169.254.169.254 is a cloud metadata address"},
		{"link-local", "http://169.254.1.1/", "", "webhook address blocked: 169.254.1.1 is a link-local address"},
		{"allow-listed network", "http://127.0.0.1:" + port, "127.0.0.0/8", ""},
		{"allow-listed name", "http://localhost:" + port, "localhost:" + port, ""},
		{"allow-listed metadata (deliberately)", "http://127.0.0.1:" + port, "127.0.0.1:" + port + ",169.254.169.254", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := provider.ParseAllowList(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			c := New(Options{Guard: provider.DefaultGuard().With(l), Retry: provider.RetryPolicy{Sleep: instant, MaxAttempts: 1}})
			got, err := c.Call(context.Background(), mustParse(t, map[string]any{"url": tt.url}))
			if tt.wantDesc == "" {
				if err != nil || got.Status != 200 || got.Body != "ok" {
					t.Fatalf("got %+v, %v", got, err)
				}
				return
			}
			e := asProviderError(t, err)
			if e.Kind != provider.Blocked || e.Error() != tt.wantDesc {
				t.Fatalf("got %s %q, want %q", e.Kind, e.Error(), tt.wantDesc)
			}
		})
	}
}

func TestTransportFailures(t *testing.T) {
	t.Parallel()
	// A port nobody listens on: bind, note, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})

	t.Run("connection refused is retried, then fails", func(t *testing.T) {
		t.Parallel()
		_, err := loopbackClient(nil).Call(context.Background(), mustParse(t, map[string]any{"url": "http://" + closed}))
		e := asProviderError(t, err)
		if e.Kind != provider.Unreachable || e.Attempts != 4 || !strings.HasPrefix(e.Error(), "webhook unreachable: connection refused") {
			t.Fatalf("got %s after %d: %q", e.Kind, e.Attempts, e.Error())
		}
	})
	t.Run("no answer within the response timeout", func(t *testing.T) {
		t.Parallel()
		c := loopbackClient(func(o *Options) { o.ResponseTimeout = 50 * time.Millisecond; o.Retry.MaxAttempts = 2 })
		_, err := c.Call(context.Background(), mustParse(t, map[string]any{"url": slow.url}))
		e := asProviderError(t, err)
		if e.Kind != provider.Timeout || e.Attempts != 2 || e.Error() != "webhook did not answer within 50ms (after 2 attempts)" {
			t.Fatalf("got %s after %d: %q", e.Kind, e.Attempts, e.Error())
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for len(slow.requests()) == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		_, err := loopbackClient(nil).Call(ctx, mustParse(t, map[string]any{"url": slow.url + "/cancel"}))
		if e := asProviderError(t, err); e.Kind != provider.Canceled {
			t.Fatalf("got %s %q", e.Kind, e.Error())
		}
	})
}

func TestResponseJSON(t *testing.T) {
	t.Parallel()
	b, _ := json.Marshal(Response{Status: 200, Body: map[string]any{"a": 1}})
	if string(b) != `{"status":200,"body":{"a":1}}` {
		t.Errorf("wire form %s", b)
	}
}
