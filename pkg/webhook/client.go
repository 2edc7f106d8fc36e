package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/pkg/provider"
)

// Options configure a Client; zero fields take the defaults.
type Options struct {
	// Guard is the SSRF guard for every dial, redirects included; nil means provider.DefaultGuard()
	// (public addresses only).
	Guard *provider.AddressGuard
	// ConnectTimeout bounds dialing and the TLS handshake (default 5s); ResponseTimeout bounds one
	// attempt from sending to having read the whole answer (default 30s).
	ConnectTimeout, ResponseTimeout time.Duration
	// MaxResponseBytes caps the answer's body (default 64 KiB): it becomes the action's output, which
	// is stored in the activation's payload and its action log, and a DynamoDB item holds 400 KB.
	MaxResponseBytes int64
	// MaxRedirects is how many redirects are followed (default 5); each hop is dialled through Guard.
	MaxRedirects int
	// Retry is the provider client's policy (4 attempts, full-jitter backoff, 30 s budget by default).
	Retry     provider.RetryPolicy
	UserAgent string
}

const (
	defaultConnectTimeout   = 5 * time.Second
	defaultResponseTimeout  = 30 * time.Second
	defaultMaxResponseBytes = 64 << 10
	defaultMaxRedirects     = 5
	defaultUserAgent        = "Switchyard-Webhook/1"
)

// InvalidInput is the provider.ErrorKind of a call refused for its inputs, before any request.
const InvalidInput provider.ErrorKind = "INVALID_INPUT"

// Response is the action's output: the final answer's status and its body, parsed when it is JSON,
// else the raw text ("" when empty).
type Response struct {
	Status int `json:"status"`
	Body   any `json:"body"`
}

// Client makes webhook calls. It is safe for concurrent use.
type Client struct {
	hc              *http.Client
	guard           *provider.AddressGuard
	responseTimeout time.Duration
	maxBody         int64
	retry           provider.RetryPolicy
	userAgent       string
}

// New builds a Client.
func New(opts Options) *Client {
	c := &Client{guard: opts.Guard.With(provider.AllowList{}), responseTimeout: opts.ResponseTimeout,
		maxBody: opts.MaxResponseBytes, retry: opts.Retry.WithDefaults(), userAgent: opts.UserAgent}
	connect := opts.ConnectTimeout
	if connect <= 0 {
		connect = defaultConnectTimeout
	}
	if c.responseTimeout <= 0 {
		c.responseTimeout = defaultResponseTimeout
	}
	if c.maxBody <= 0 {
		c.maxBody = defaultMaxResponseBytes
	}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	maxRedirects := opts.MaxRedirects
	if maxRedirects <= 0 {
		maxRedirects = defaultMaxRedirects
	}
	c.hc = &http.Client{
		Transport: provider.NewGuardedTransport(c.guard, connect, c.responseTimeout),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return &redirectError{max: maxRedirects}
			}
			// The dialer judges the redirect target too; this answers for IP literals without a dial.
			return c.guard.CheckTarget(req.URL.Hostname(), portOf(req.URL.Scheme, req.URL.Port()))
		},
	}
	return c
}

type redirectError struct{ max int }

func (e *redirectError) Error() string { return fmt.Sprintf("more than %d redirects", e.max) }

// Call sends the request, retrying 429, 408, 5xx and transport failures with the provider client's
// bounded backoff. Any error is a *provider.Error; its Error() (the description plus the attempt
// count) is fit for a run log.
func (c *Client) Call(ctx context.Context, r *Request) (*Response, error) {
	if err := c.guard.CheckTarget(r.URL.Hostname(), portOf(r.URL.Scheme, r.URL.Port())); err != nil {
		return nil, failure(provider.Blocked, 0, 0, err, "webhook address blocked: %s", err)
	}
	start := time.Now()
	callCtx, cancel := context.WithDeadline(ctx, start.Add(c.retry.MaxElapsed))
	defer cancel()
	for attempt := 1; ; attempt++ {
		resp, wait, e := c.attempt(ctx, callCtx, r)
		if e == nil {
			return resp, nil
		}
		e.Attempts = attempt
		if !retryable(e) || attempt >= c.retry.MaxAttempts || callCtx.Err() != nil {
			return nil, e
		}
		delay := max(c.retry.Backoff(attempt), wait)
		if deadline, _ := callCtx.Deadline(); time.Until(deadline) <= delay {
			return nil, e
		}
		if err := c.retry.Sleep(callCtx, delay); err != nil {
			if ctx.Err() != nil {
				return nil, contextError(ctx)
			}
			return nil, e
		}
	}
}

// retryable: transient answers (429, 408, 5xx) and transport failures. Other 4xx, 3xx, blocked
// addresses, oversized answers and refused inputs fail at once: sending again cannot change them.
func retryable(e *provider.Error) bool {
	switch e.Kind {
	case provider.Unreachable, provider.Timeout, provider.ServerError:
		return true
	case provider.ClientError:
		return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout
	}
	return false
}

func (c *Client) attempt(parent, callCtx context.Context, r *Request) (*Response, time.Duration, *provider.Error) {
	ctx, cancel := context.WithTimeout(callCtx, c.responseTimeout)
	defer cancel()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL.String(), body)
	if err != nil {
		return nil, 0, failure(InvalidInput, 0, 0, err, "webhook request could not be built: %s", err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json, text/plain;q=0.9, */*;q=0.8")
	if r.Body != nil && r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	if r.IdempotencyKey != "" {
		req.Header.Set(provider.HeaderIdempotencyKey, r.IdempotencyKey)
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, c.transportError(parent, callCtx, ctx, err)
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	code := resp.StatusCode
	if resp.ContentLength > c.maxBody {
		return nil, 0, failure(provider.Malformed, code, 0, nil, "webhook answered HTTP %d with a body larger than %d bytes", code, c.maxBody)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, 0, c.transportError(parent, callCtx, ctx, err)
	}
	if int64(len(data)) > c.maxBody {
		return nil, 0, failure(provider.Malformed, code, 0, nil, "webhook answered HTTP %d with a body larger than %d bytes", code, c.maxBody)
	}
	desc := fmt.Sprintf("webhook answered HTTP %d", code)
	if s := provider.Snippet(data, 200); s != "" {
		desc += ": " + s
	}
	switch {
	case code >= 200 && code < 300:
		return &Response{Status: code, Body: parseBody(data)}, 0, nil
	case code >= 500:
		return nil, provider.RetryAfter(resp.Header, time.Now()), failure(provider.ServerError, code, 0, nil, "%s", desc)
	case code >= 400:
		return nil, provider.RetryAfter(resp.Header, time.Now()), failure(provider.ClientError, code, 0, nil, "%s", desc)
	}
	// 1xx never reaches here; 3xx only without a Location to follow (304, 300…).
	return nil, 0, failure(provider.ClientError, code, 0, nil, "%s", desc)
}

// parseBody is the output's body: JSON when it parses, else the text.
func parseBody(data []byte) any {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(trimmed, &v) == nil {
		return v
	}
	if !utf8.Valid(data) {
		return strings.ToValidUTF8(string(data), "\uFFFD")
	}
	return string(data)
}

func (c *Client) transportError(parent, callCtx, attemptCtx context.Context, err error) *provider.Error {
	var blocked *provider.BlockedError
	if errors.As(err, &blocked) {
		return failure(provider.Blocked, 0, 0, err, "webhook address blocked: %s", blocked)
	}
	var redirects *redirectError
	if errors.As(err, &redirects) {
		return failure(provider.ClientError, 0, 0, err, "webhook redirected %s", redirects)
	}
	if parent.Err() != nil {
		return contextError(parent)
	}
	if callCtx.Err() != nil {
		return failure(provider.Timeout, 0, 0, err, "webhook did not answer within the %s retry budget", c.retry.MaxElapsed)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		reason := dns.Err
		if dns.IsTimeout {
			reason = "DNS lookup timed out"
		}
		return failure(provider.Unreachable, 0, 0, err, "webhook unreachable: lookup %s: %s", dns.Name, reason)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		reason := provider.RootCause(op)
		if op.Timeout() {
			reason = "connect timed out"
		}
		return failure(provider.Unreachable, 0, 0, err, "webhook unreachable: %s", reason)
	}
	var ne net.Error
	if attemptCtx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return failure(provider.Timeout, 0, 0, err, "webhook did not answer within %s", c.responseTimeout)
	}
	return failure(provider.Unreachable, 0, 0, err, "webhook connection failed: %s", provider.RootCause(err))
}

func contextError(ctx context.Context) *provider.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return failure(provider.Timeout, 0, 0, ctx.Err(), "webhook call abandoned: the caller's deadline passed")
	}
	return failure(provider.Canceled, 0, 0, ctx.Err(), "webhook call canceled")
}

func failure(kind provider.ErrorKind, status, attempts int, cause error, format string, args ...any) *provider.Error {
	desc := fmt.Sprintf(format, args...)
	if n := utf8.RuneCountInString(desc); n > provider.MaxDescriptionLen-40 {
		desc = string([]rune(desc)[:provider.MaxDescriptionLen-41]) + "…"
	}
	return &provider.Error{Kind: kind, StatusCode: status, Description: desc, Attempts: attempts, Err: cause}
}

func portOf(scheme, port string) string {
	if port != "" {
		return port
	}
	if scheme == "https" {
		return "443"
	}
	return "80"
}
