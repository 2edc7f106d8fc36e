package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Options configure a Client. Zero fields take the defaults.
type Options struct {
	// HTTPClient replaces the default client. Its transport is then the caller's: the guard can only
	// pre-check IP-literal hosts, since it cannot reach the dialer. Redirects are never followed
	// either way.
	HTTPClient *http.Client
	// ConnectTimeout bounds dialing and the TLS handshake (default 5s); ResponseTimeout bounds one
	// attempt from sending the request to reading the whole body (default 30s).
	ConnectTimeout, ResponseTimeout time.Duration
	// MaxResponseBytes caps a response body (default 1 MiB); a larger one is Malformed.
	MaxResponseBytes int64
	Retry            RetryPolicy
	// Guard is the SSRF guard applied when dialing; nil means DefaultGuard().
	Guard     *AddressGuard
	UserAgent string
	// Now is the clock for signatures and for validating timeout dates; default time.Now.
	Now func() time.Time
}

const (
	defaultConnectTimeout   = 5 * time.Second
	defaultResponseTimeout  = 30 * time.Second
	defaultMaxResponseBytes = 1 << 20
	defaultUserAgent        = "Switchyard-Automations/1"
)

// Client calls providers' service-plugin endpoints. It is safe for concurrent use.
type Client struct {
	hc              *http.Client
	guard           *AddressGuard
	responseTimeout time.Duration
	maxBody         int64
	retry           RetryPolicy
	userAgent       string
	now             func() time.Time
}

// Target is the provider being called.
type Target struct {
	// BaseURI is the app's providerBaseUri; /v1/invoke etc. are appended to its path.
	BaseURI string
	AppID   string
	// SiteID is the site the call is for, sent as X-Switchyard-Site-Id and covered by the signature.
	SiteID string
	// Secret is the app's HMAC signing secret; when set, each request is signed.
	Secret []byte
	// Secrets are more HMAC secrets: each request carries one signature per secret (Secret's first),
	// so receivers keep verifying while an app rotates its secret.
	Secrets [][]byte
	// Envelope, when set, replaces the JSON body with what it wraps it in (Wix's JWT envelope,
	// reference §4.1); such requests are not HMAC-signed, the envelope authenticates itself.
	Envelope Envelope
	// IdempotencyKey is sent as Idempotency-Key on every attempt (the engine uses
	// activationId + ":" + actionId).
	IdempotencyKey string
}

// Envelope turns a JSON request body into what is sent instead (see Target.Envelope). Wrap is called
// for every attempt, so time-bound envelopes are issued afresh on retries.
type Envelope interface {
	Wrap(body []byte) ([]byte, error)
	ContentType() string
}

// NewClient builds a Client.
func NewClient(opts Options) *Client {
	c := &Client{
		responseTimeout: opts.ResponseTimeout,
		maxBody:         opts.MaxResponseBytes,
		retry:           opts.Retry.withDefaults(),
		userAgent:       opts.UserAgent,
		now:             opts.Now,
	}
	connectTimeout := opts.ConnectTimeout
	if connectTimeout <= 0 {
		connectTimeout = defaultConnectTimeout
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
	if c.now == nil {
		c.now = time.Now
	}
	// Copy the guard so a caller changing theirs later cannot race with dials.
	guard := opts.Guard.clone()
	c.guard = guard

	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	} else {
		hc.Transport = newTransport(guard, connectTimeout, c.responseTimeout)
	}
	// Providers are APIs: a redirect is a misconfiguration, and following it would let a provider
	// steer a signed request somewhere else.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = &hc
	return c
}

func newTransport(g *AddressGuard, connect, response time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second, Control: g.Control}
	return &http.Transport{
		// No proxy: it would dial the provider on our behalf, out of the guard's sight.
		Proxy:                 nil,
		DialContext:           g.dialContext(d),
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   connect,
		ResponseHeaderTimeout: response,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
	}
}

// Invoke runs an action on its provider. A response whose timeout fields fail Validate is Malformed.
func (c *Client) Invoke(ctx context.Context, target Target, req InvokeRequest) (*InvokeResponse, error) {
	if req.ActionParams == nil {
		req.ActionParams = map[string]any{}
	}
	return call(c, ctx, target, PathInvoke, req, func(r *InvokeResponse) error {
		if err := r.Validate(c.now()); err != nil {
			return fmt.Errorf("invalid invoke response: %w", err)
		}
		return nil
	})
}

// ValidateConfiguration asks the provider whether an action's input mapping is valid.
func (c *Client) ValidateConfiguration(ctx context.Context, target Target, req ValidateConfigurationRequest) (*ValidateConfigurationResponse, error) {
	return call[ValidateConfigurationResponse](c, ctx, target, PathValidateConfiguration, req, nil)
}

// QuotaInfo asks the provider for an action's quota.
func (c *Client) QuotaInfo(ctx context.Context, target Target, req QuotaInfoRequest) (*QuotaInfoResponse, error) {
	return call[QuotaInfoResponse](c, ctx, target, PathQuotaInfo, req, nil)
}

// ValidateBaseURI reports whether a providerBaseUri is acceptable to the client: absolute http or
// https, a host, no userinfo, no fragment. It does not apply the address guard to hostnames; that
// happens at dial time.
func ValidateBaseURI(baseURI string) error {
	_, err := parseBaseURI(baseURI)
	return err
}

func parseBaseURI(baseURI string) (*url.URL, error) {
	u, err := url.Parse(baseURI)
	switch {
	case err != nil:
		return nil, errors.New("is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must use http or https")
	case u.Opaque != "" || u.Hostname() == "":
		return nil, errors.New("has no host")
	case u.User != nil:
		return nil, errors.New("must not contain credentials")
	case u.Fragment != "" || u.RawFragment != "":
		return nil, errors.New("must not have a fragment")
	}
	return u, nil
}

// call sends one SPI request with retries and decodes the answer into a T; check, if set, vets the
// decoded value (a failure is Malformed, and retried like one).
func call[T any](c *Client, ctx context.Context, t Target, path string, in any, check func(*T) error) (*T, error) {
	u, err := parseBaseURI(t.BaseURI)
	if err != nil {
		return nil, newError(Blocked, 0, err, "provider base URI %s", err)
	}
	// The dialer's guard catches IP literals too; checking here gives the same answer without a
	// dial, and covers a caller-supplied HTTPClient.
	if err := c.guard.CheckTarget(u.Hostname(), portOf(u)); err != nil {
		return nil, newError(Blocked, 0, err, "provider address blocked: %s", err)
	}
	endpoint := u.JoinPath(path).String()
	body, err := json.Marshal(in)
	if err != nil {
		return nil, newError(Malformed, 0, err, "request could not be encoded: %s", err)
	}

	if ctx.Err() != nil {
		return nil, contextError(ctx)
	}
	start := time.Now()
	callCtx, cancel := context.WithDeadline(ctx, start.Add(c.retry.MaxElapsed))
	defer cancel()

	for attempt := 1; ; attempt++ {
		var out T
		wait, e := c.attempt(ctx, callCtx, endpoint, t, body, func(data []byte) error {
			if err := decodeJSON(data, &out); err != nil {
				return err
			}
			if check != nil {
				return check(&out)
			}
			return nil
		})
		if e == nil {
			return &out, nil
		}
		e.Attempts = attempt
		if !e.Retryable() || attempt >= c.retry.MaxAttempts || callCtx.Err() != nil {
			return nil, e
		}
		delay := max(c.retry.backoff(attempt), wait)
		if deadline, _ := callCtx.Deadline(); time.Until(deadline) <= delay {
			return nil, e
		}
		if err := c.retry.Sleep(callCtx, delay); err != nil {
			if ctx.Err() != nil {
				ce := contextError(ctx)
				ce.Attempts = attempt
				return nil, ce
			}
			return nil, e
		}
	}
}

// attempt sends one request. wait is the provider's Retry-After, if it gave one.
func (c *Client) attempt(parent, callCtx context.Context, endpoint string, t Target, body []byte, decode func([]byte) error) (wait time.Duration, _ *Error) {
	ctx, cancel := context.WithTimeout(callCtx, c.responseTimeout)
	defer cancel()

	contentType := "application/json"
	if t.Envelope != nil {
		wrapped, err := t.Envelope.Wrap(body)
		if err != nil {
			return 0, newError(Malformed, 0, err, "request could not be wrapped in its envelope: %s", err)
		}
		body, contentType = wrapped, t.Envelope.ContentType()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, newError(Blocked, 0, err, "provider base URI is not usable: %s", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if t.IdempotencyKey != "" {
		req.Header.Set(HeaderIdempotencyKey, t.IdempotencyKey)
	}
	if t.AppID != "" {
		req.Header.Set(HeaderAppID, t.AppID)
	}
	if t.SiteID != "" {
		req.Header.Set(HeaderSiteID, t.SiteID)
	}
	if secrets := t.signingSecrets(); t.Envelope == nil && len(secrets) > 0 {
		ts := c.now().Unix()
		sigs := make([]string, len(secrets))
		for i, secret := range secrets {
			sigs[i] = Sign(secret, ts, t.SiteID, body)
		}
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(HeaderSignature, strings.Join(sigs, ","))
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, c.transportError(parent, callCtx, ctx, err)
	}
	defer func() {
		// Drain a little so a short error body does not cost the connection.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()

	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		if resp.ContentLength > c.maxBody {
			return 0, newError(Malformed, code, nil, "provider response is larger than %d bytes", c.maxBody)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
		if err != nil {
			return 0, c.transportError(parent, callCtx, ctx, err)
		}
		if int64(len(data)) > c.maxBody {
			return 0, newError(Malformed, code, nil, "provider response is larger than %d bytes", c.maxBody)
		}
		if err := decode(data); err != nil {
			var syntax *json.SyntaxError
			var typ *json.UnmarshalTypeError
			if len(bytes.TrimSpace(data)) == 0 || errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, newError(Malformed, code, err, "provider answered HTTP %d with a body that is not JSON: %s", code, snippet(data, bodySnippetLen))
			}
			if errors.As(err, &typ) {
				return 0, newError(Malformed, code, err, "provider answered HTTP %d with JSON of the wrong shape: %s", code, err)
			}
			return 0, newError(Malformed, code, err, "provider answered HTTP %d: %s", code, err)
		}
		return 0, nil
	case code >= 300 && code < 400:
		return 0, newError(ClientError, code, nil, "provider redirected (HTTP %d to %s)", code, snippet([]byte(resp.Header.Get("Location")), bodySnippetLen))
	}

	head, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	desc := fmt.Sprintf("provider answered HTTP %d", code)
	if s := snippet(head, bodySnippetLen); s != "" {
		desc += ": " + s
	}
	wait = retryAfter(resp.Header, time.Now())
	switch {
	case code >= 400 && code < 500:
		return wait, newError(ClientError, code, nil, "%s", desc)
	case code >= 500:
		return wait, newError(ServerError, code, nil, "%s", desc)
	}
	return 0, newError(Malformed, code, nil, "%s", desc)
}

// transportError classifies a failure to get (or finish reading) a response.
func (c *Client) transportError(parent, callCtx, attemptCtx context.Context, err error) *Error {
	var blocked *BlockedError
	if errors.As(err, &blocked) {
		return newError(Blocked, 0, err, "provider address blocked: %s", blocked)
	}
	if parent.Err() != nil {
		return contextError(parent)
	}
	if callCtx.Err() != nil {
		return newError(Timeout, 0, err, "provider did not answer within the %s retry budget", c.retry.MaxElapsed)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		reason := dns.Err
		if dns.IsTimeout {
			reason = "DNS lookup timed out"
		}
		return newError(Unreachable, 0, err, "provider unreachable: lookup %s: %s", dns.Name, reason)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		reason := rootCause(op)
		if op.Timeout() {
			reason = "connect timed out"
		}
		return newError(Unreachable, 0, err, "provider unreachable: %s", reason)
	}
	var ne net.Error
	if attemptCtx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return newError(Timeout, 0, err, "provider did not answer within %s", c.responseTimeout)
	}
	return newError(Unreachable, 0, err, "provider connection failed: %s", rootCause(err))
}

func contextError(ctx context.Context) *Error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(Timeout, 0, err, "provider call abandoned: caller's deadline passed")
	}
	return newError(Canceled, 0, err, "provider call canceled")
}

// rootCause is the innermost error's message: "connection refused" rather than
// `Post "http://…": dial tcp 127.0.0.1:1: connect: connection refused`.
func rootCause(err error) string {
	var sys *os.SyscallError
	if errors.As(err, &sys) {
		return sys.Err.Error()
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// signingSecrets are the non-empty secrets to sign with, Secret first.
func (t Target) signingSecrets() [][]byte {
	var out [][]byte
	for _, s := range append([][]byte{t.Secret}, t.Secrets...) {
		if len(s) > 0 {
			out = append(out, s)
		}
	}
	return out
}
