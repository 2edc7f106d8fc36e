package provider

import (
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxSkew is the clock skew VerifySignature tolerates when given maxSkew <= 0.
const DefaultMaxSkew = 5 * time.Minute

// Errors VerifySignature returns, possibly wrapped.
var (
	ErrNoSecret          = errors.New("provider: no signing secret configured")
	ErrMissingSignature  = errors.New("provider: missing signature headers")
	ErrBadTimestamp      = errors.New("provider: malformed signature timestamp")
	ErrTimestampSkew     = errors.New("provider: signature timestamp outside the allowed skew")
	ErrSignatureMismatch = errors.New("provider: signature does not match")
)

// VerifySignature is the provider side of signing: it checks that body was signed with secret by
// the headers a Switchyard client set (X-Switchyard-Timestamp, X-Switchyard-Signature), and that the
// timestamp is within maxSkew of now in either direction (a replay window, not a clock check).
// The site header (X-Switchyard-Site-Id) is signed too: once this returns nil, it can be trusted.
// The signature header may hold several comma-separated "v2=<hex>" values — one per secret during a
// rotation — and one match suffices. body must be the exact bytes received.
func VerifySignature(secret []byte, header http.Header, body []byte, now time.Time, maxSkew time.Duration) error {
	if len(secret) == 0 {
		// An empty key is as good as none: anyone can compute the MAC.
		return ErrNoSecret
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	ts := header.Get(HeaderTimestamp)
	sig := header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return ErrMissingSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 {
		return ErrBadTimestamp
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > maxSkew || skew < -maxSkew {
		return fmt.Errorf("%w: %s off", ErrTimestampSkew, skew.Truncate(time.Second))
	}
	want := mac(secret, ts, header.Get(HeaderSiteID), body)
	matched := false
	for _, part := range strings.Split(sig, ",") {
		version, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || version != signatureVersion {
			continue
		}
		got, err := hex.DecodeString(value)
		if err != nil {
			continue
		}
		// Check every candidate rather than stopping at the first match, so timing does not
		// reveal which one matched.
		if hmac.Equal(got, want) {
			matched = true
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}
	return nil
}
