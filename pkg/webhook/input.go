// Package webhook calls an HTTP endpoint on a user's behalf: the system app's `webhook` action. The
// inputs come from an automation's mapping (url, method, headers, body), the output is the answer's
// status and body. Every connection goes through the same SSRF guard as provider calls, on the address
// actually dialled, redirects included.
package webhook

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Methods the action accepts; POST is the default.
var Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// Limits on the inputs. They keep one action's request (and its log) to a sane size.
const (
	MaxURLLen         = 2048
	MaxHeaders        = 50
	MaxHeaderValueLen = 8 << 10
	MaxBodyBytes      = 256 << 10
)

// Request is one webhook call.
type Request struct {
	URL     *url.URL
	Method  string
	Headers map[string]string
	// Body is what is sent: nil for no body. ContentType is its default type; a Content-Type header in
	// Headers wins.
	Body        []byte
	ContentType string
	// IdempotencyKey is sent as Idempotency-Key unless Headers sets one: the same on every retry and
	// every re-run of the step, so the receiver can drop duplicates.
	IdempotencyKey string
}

// InputError is an input the call cannot be made with; the action fails at once, without a request.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return "input " + e.Field + " " + e.Reason }

// hopHeaders are set by the transport or describe the connection, not the message; letting a mapping
// set them would smuggle requests or break framing.
var hopHeaders = []string{"host", "content-length", "transfer-encoding", "connection", "keep-alive",
	"proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer", "upgrade"}

// ParseInput turns the action's resolved inputs into a Request. The engine has already checked them
// against the input schema; this repeats what the call depends on, because the schema can be bypassed
// (an action registered before a schema change, a test calling the executor directly).
func ParseInput(params map[string]any) (*Request, error) {
	raw, _ := params["url"].(string)
	if raw == "" {
		return nil, &InputError{"url", "is required"}
	}
	if len(raw) > MaxURLLen {
		return nil, &InputError{"url", fmt.Sprintf("is longer than %d characters", MaxURLLen)}
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, &InputError{"url", "is not a valid URL"}
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, &InputError{"url", "must use http or https"}
	case u.Opaque != "" || u.Hostname() == "":
		return nil, &InputError{"url", "has no host"}
	}
	u.Fragment, u.RawFragment = "", ""

	r := &Request{URL: u, Method: "POST", Headers: map[string]string{}}
	switch m := params["method"].(type) {
	case nil:
	case string:
		if m != "" {
			if !slices.Contains(Methods, m) {
				return nil, &InputError{"method", "must be one of " + strings.Join(Methods, ", ")}
			}
			r.Method = m
		}
	default:
		return nil, &InputError{"method", "must be a string"}
	}

	switch hs := params["headers"].(type) {
	case nil:
	case map[string]any:
		if len(hs) > MaxHeaders {
			return nil, &InputError{"headers", fmt.Sprintf("may hold at most %d headers", MaxHeaders)}
		}
		seen := map[string]bool{}
		for name, v := range hs {
			field := "headers." + name
			s, ok := v.(string)
			switch {
			case !ok:
				return nil, &InputError{field, "must be a string"}
			case !validHeaderName(name):
				return nil, &InputError{field, "is not a valid header name"}
			case slices.Contains(hopHeaders, strings.ToLower(name)):
				return nil, &InputError{field, "may not be set: the connection sets it"}
			case seen[strings.ToLower(name)]:
				return nil, &InputError{field, "is given twice (header names are case-insensitive)"}
			case len(s) > MaxHeaderValueLen:
				return nil, &InputError{field, fmt.Sprintf("is longer than %d bytes", MaxHeaderValueLen)}
			case !validHeaderValue(s):
				return nil, &InputError{field, "holds control characters"}
			}
			seen[strings.ToLower(name)] = true
			r.Headers[name] = s
		}
	default:
		return nil, &InputError{"headers", "must be an object of strings"}
	}

	switch b := params["body"].(type) {
	case nil:
	case string:
		r.Body, r.ContentType = []byte(b), "text/plain; charset=utf-8"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, &InputError{"body", "cannot be encoded as JSON"}
		}
		r.Body, r.ContentType = data, "application/json"
	}
	if len(r.Body) > MaxBodyBytes {
		return nil, &InputError{"body", fmt.Sprintf("is larger than %d bytes", MaxBodyBytes)}
	}
	return r, nil
}

// validHeaderName: an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// validHeaderValue: no control characters but tab, so no header can be split into two.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
