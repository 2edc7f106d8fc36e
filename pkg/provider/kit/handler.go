// Package kit is the provider side of Switchyard's service plugins for Go apps: an http.Handler that
// verifies that a call came from the platform — an HMAC signature (X-Switchyard-Signature, with a
// timestamp tolerance and several secrets during a rotation) or Wix's RS256 JWT envelope (the
// platform's public key) — and dispatches invoke / validate-configuration / quota-info to typed Go
// functions, answering the wire shapes of reference §4.2 and Wix's service-plugin error shape; plus a
// Client for the calls an app makes back (ReportEvent, CancelEvent, ReportActionInvocationCompleted).
package kit

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/provider"
)

// Methods of the action-provider service plugin, as Call.Method names them.
const (
	MethodInvoke                = "invoke"
	MethodValidateConfiguration = "validate-configuration"
	MethodQuotaInfo             = "quota-info"
)

// Formats a call may arrive in (Call.Format): the values of an app's requestFormat.
const (
	FormatSwitchyard = "SWITCHYARD"
	FormatWixJWT     = "WIX_JWT"
)

// Call is what the kit verified about a request, handed to every handler.
type Call struct {
	Method string
	Format string
	// IdempotencyKey is an invoke's activationId:actionId, read from the signed body (the same value the
	// Idempotency-Key header carries on every attempt), so a handler can deduplicate repeats and replays.
	IdempotencyKey string
	// InstanceID is the site the call is for: WIX_JWT's metadata.instanceId, or the signed
	// X-Switchyard-Site-Id of a SWITCHYARD call.
	InstanceID string
	// RequestID is metadata.requestId of WIX_JWT calls.
	RequestID string
}

// Config is the provider: how to verify calls and what to run.
type Config struct {
	// AppID is the app's id: the audience WIX_JWT envelopes must name.
	AppID string
	// Secrets verify HMAC-signed calls. During a rotation list both the new and the old secret; a call
	// signed with either is accepted.
	Secrets []string
	// PublicKey verifies WIX_JWT envelopes: the platform's key (GET /v1/platform/public-key).
	PublicKey *rsa.PublicKey
	// Issuer is the iss WIX_JWT envelopes must carry; "" means wix.com.
	Issuer string
	// MaxSkew bounds how old (or how far ahead) a signature timestamp may be; default 5 min. It is the
	// replay window for HMAC calls; JWT envelopes carry their own expiry.
	MaxSkew time.Duration
	// MaxBodyBytes caps a request body; default 1 MiB.
	MaxBodyBytes int64
	Now          func() time.Time
	Logger       *slog.Logger

	// The methods; a nil one answers 404 METHOD_NOT_IMPLEMENTED (declare only the methods you
	// implement in the action's implementedMethods). Return an *Error to choose the status and code;
	// any other error is a 500 whose text is logged, never sent.
	Invoke                func(ctx context.Context, call Call, req *provider.InvokeRequest) (*provider.InvokeResponse, error)
	ValidateConfiguration func(ctx context.Context, call Call, req *provider.ValidateConfigurationRequest) (*provider.ValidateConfigurationResponse, error)
	QuotaInfo             func(ctx context.Context, call Call, req *provider.QuotaInfoRequest) (*provider.QuotaInfoResponse, error)
}

// Error is a service-plugin error: HTTP status plus Wix's applicationError.
type Error struct {
	Status      int
	Code        string
	Description string
	Data        map[string]any
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Description)
}

// Errorf returns an *Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

// NewHandler returns the provider's http.Handler. Mount it at the app's providerBaseUri: methods are
// chosen by URL suffix (/v1/invoke, /v1/validate-configuration, /v1/quota-info), as @wix/sdk does.
func NewHandler(c Config) (http.Handler, error) {
	v, err := newVerifier(c)
	if err != nil {
		return nil, err
	}
	h := &handler{cfg: c, v: v, maxBody: c.MaxBodyBytes, log: c.Logger}
	if h.maxBody <= 0 {
		h.maxBody = 1 << 20
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

type handler struct {
	cfg     Config
	v       *verifier
	maxBody int64
	log     *slog.Logger
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, Errorf(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "service-plugin calls are POSTs"))
		return
	}
	method := methodOf(r.URL.Path)
	if method == "" {
		writeError(w, Errorf(http.StatusNotFound, "METHOD_NOT_FOUND", "no service-plugin method at %s", r.URL.Path))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, Errorf(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "request body is over %d bytes", h.maxBody))
			return
		}
		writeError(w, Errorf(http.StatusBadRequest, "BAD_REQUEST", "request body could not be read"))
		return
	}
	req, call, err := h.v.verify(r.Header, body)
	if err != nil {
		h.log.Warn("rejected a service-plugin call", "path", r.URL.Path, "err", err)
		writeError(w, Errorf(http.StatusUnauthorized, "UNAUTHENTICATED", "%s", publicReason(err)))
		return
	}
	call.Method = method
	if method == MethodInvoke {
		call.IdempotencyKey = signedIdempotencyKey(req)
	}

	var out any
	switch method {
	case MethodInvoke:
		out, err = dispatch(r.Context(), call, req, h.cfg.Invoke)
	case MethodValidateConfiguration:
		out, err = dispatch(r.Context(), call, req, h.cfg.ValidateConfiguration)
	case MethodQuotaInfo:
		out, err = dispatch(r.Context(), call, req, h.cfg.QuotaInfo)
	}
	if err != nil {
		var ke *Error
		if !errors.As(err, &ke) {
			h.log.Error("service-plugin handler failed", "method", method, "err", err)
			ke = Errorf(http.StatusInternalServerError, "INTERNAL_ERROR", "the provider failed")
		}
		writeError(w, ke)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// dispatch decodes the request into Req and runs fn.
func dispatch[Req, Resp any](ctx context.Context, call Call, raw []byte, fn func(context.Context, Call, *Req) (*Resp, error)) (any, error) {
	if fn == nil {
		return nil, Errorf(http.StatusNotFound, "METHOD_NOT_IMPLEMENTED", "this provider does not implement %s", call.Method)
	}
	var req Req
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, Errorf(http.StatusBadRequest, "MALFORMED_REQUEST", "request is not a %s request: %s", call.Method, err)
	}
	resp, err := fn(ctx, call, &req)
	if err != nil {
		return nil, err
	}
	if resp == nil {
		resp = new(Resp)
	}
	return resp, nil
}

// methodOf picks the method by URL suffix.
func methodOf(path string) string {
	for _, m := range []string{MethodInvoke, MethodValidateConfiguration, MethodQuotaInfo} {
		if strings.HasSuffix(path, "/v1/"+m) {
			return m
		}
	}
	return ""
}

// errorBody is @wix/sdk's service-plugin error shape ({applicationError: {code, data}}) plus a message,
// which Switchyard's run logs show first.
type errorBody struct {
	Message          string `json:"message"`
	ApplicationError struct {
		Code        string         `json:"code"`
		Description string         `json:"description"`
		Data        map[string]any `json:"data"`
	} `json:"applicationError"`
}

func writeError(w http.ResponseWriter, e *Error) {
	var b errorBody
	b.Message = e.Description
	b.ApplicationError.Code = e.Code
	b.ApplicationError.Description = e.Description
	b.ApplicationError.Data = e.Data
	if b.ApplicationError.Data == nil {
		b.ApplicationError.Data = map[string]any{}
	}
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"response could not be encoded","applicationError":{"code":"INTERNAL_ERROR","description":"response could not be encoded","data":{}}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// signedIdempotencyKey is an invoke's key taken from the signed body — activationId:actionId, what the
// platform also sends as the Idempotency-Key header on every attempt — so that a captured request replayed
// with another header cannot pass as a new invoke. "" when the body has no activation context.
func signedIdempotencyKey(req json.RawMessage) string {
	var body struct {
		ActivationContext struct {
			ActivationID string `json:"activationId"`
			ActionID     string `json:"actionId"`
		} `json:"activationContext"`
	}
	if json.Unmarshal(req, &body) != nil || body.ActivationContext.ActivationID == "" || body.ActivationContext.ActionID == "" {
		return ""
	}
	return body.ActivationContext.ActivationID + ":" + body.ActivationContext.ActionID
}
