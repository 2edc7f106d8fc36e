package provider

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy bounds how a failed call is retried. Zero fields take the defaults.
type RetryPolicy struct {
	MaxAttempts int           // total attempts including the first; default 4; 1 disables retries
	BaseDelay   time.Duration // default 200ms
	MaxDelay    time.Duration // cap on one backoff; default 5s
	// MaxElapsed is a hard cap on the whole call, attempts and sleeps included; default 30s. No
	// attempt starts once the next backoff would end past it.
	MaxElapsed time.Duration
	// Sleep waits d or until ctx is done; tests inject one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
}

const (
	defaultMaxAttempts = 4
	defaultBaseDelay   = 200 * time.Millisecond
	defaultMaxDelay    = 5 * time.Second
	defaultMaxElapsed  = 30 * time.Second
)

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = defaultMaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = defaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = defaultMaxDelay
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = defaultMaxElapsed
	}
	if p.Sleep == nil {
		p.Sleep = sleepContext
	}
	return p
}

// backoff is the "full jitter" delay after the given failed attempt (1-based): uniform in
// [0, min(MaxDelay, BaseDelay·2^(attempt-1))], so clients that failed together do not retry together.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	ceiling := p.BaseDelay
	for i := 1; i < attempt && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	if ceiling > p.MaxDelay {
		ceiling = p.MaxDelay
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryAfter parses a Retry-After header (delta-seconds or HTTP-date); 0 when absent or invalid.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
