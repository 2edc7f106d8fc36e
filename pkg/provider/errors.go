package provider

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrorKind says what went wrong with a provider call.
type ErrorKind string

const (
	// Unreachable: no connection could be made (refused, DNS, connect timeout) or it broke mid-call.
	Unreachable ErrorKind = "UNREACHABLE"
	// Timeout: the provider did not answer within ResponseTimeout, or the retry budget ran out.
	Timeout ErrorKind = "TIMEOUT"
	// ServerError: the provider answered 5xx.
	ServerError ErrorKind = "SERVER_ERROR"
	// ClientError: the provider answered 3xx or 4xx.
	ClientError ErrorKind = "CLIENT_ERROR"
	// Malformed: the answer was not JSON of the expected shape, too large, or had bad timeout fields;
	// also a request that could not be encoded.
	Malformed ErrorKind = "MALFORMED"
	// Blocked: the base URI or the address dialled was refused by the client's rules (SSRF guard).
	Blocked ErrorKind = "BLOCKED"
	// Canceled: the caller's context was canceled; not the provider's doing.
	Canceled ErrorKind = "CANCELED"
)

// MaxDescriptionLen bounds Error.Description, in characters, to fit a run log's errorDescription.
const MaxDescriptionLen = 1000

// bodySnippetLen is how much of an error body goes into a Description.
const bodySnippetLen = 200

// Error is the one error type the client returns.
type Error struct {
	Kind ErrorKind
	// StatusCode is the provider's HTTP status, when it answered at all.
	StatusCode int
	// Description is a short, single-line, human message fit for a run log.
	Description string
	// Attempts is how many requests were sent (0 when the call was refused before sending).
	Attempts int
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("%s (after %d attempts)", e.Description, e.Attempts)
	}
	return e.Description
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether sending the same request again may succeed. 429 and 408 are the only
// retryable client errors: both mean "not now" rather than "never".
func (e *Error) Retryable() bool {
	switch e.Kind {
	case Unreachable, Timeout, ServerError, Malformed:
		return true
	case ClientError:
		return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout
	}
	return false
}

func newError(kind ErrorKind, status int, cause error, format string, args ...any) *Error {
	return &Error{
		Kind:        kind,
		StatusCode:  status,
		Description: truncateRunes(fmt.Sprintf(format, args...), MaxDescriptionLen),
		Err:         cause,
	}
}

// snippet turns (the start of) a response body into one short printable line.
func snippet(body []byte, n int) string {
	var b strings.Builder
	space := false
	count := 0
	for len(body) > 0 && count < n {
		r, size := utf8.DecodeRune(body)
		body = body[size:]
		if r == utf8.RuneError && size <= 1 {
			r = '\uFFFD'
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			count++
			space = false
			if count >= n {
				break
			}
		}
		b.WriteRune(r)
		count++
	}
	out := strings.TrimRight(b.String(), " ")
	if len(bytes.TrimSpace(body)) > 0 {
		out += "…"
	}
	return out
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
