package provider

import (
	"net/http"
	"time"
)

// What other outbound callers (the system app's webhook action) share with the client, so that every
// HTTP call Switchyard makes on a user's behalf retries and backs off the same way.

// WithDefaults returns p with its zero fields set to the client's defaults.
func (p RetryPolicy) WithDefaults() RetryPolicy { return p.withDefaults() }

// Backoff is the full-jitter delay after the given failed attempt (1-based); p should have its defaults.
func (p RetryPolicy) Backoff(attempt int) time.Duration { return p.backoff(attempt) }

// RetryAfter parses a Retry-After header (delta-seconds or HTTP-date); 0 when absent or invalid.
func RetryAfter(h http.Header, now time.Time) time.Duration { return retryAfter(h, now) }

// Snippet shortens a response body to a single line of at most n characters for an error description.
func Snippet(body []byte, n int) string { return snippet(body, n) }

// RootCause is the innermost error's message: "connection refused" rather than the whole chain.
func RootCause(err error) string { return rootCause(err) }
