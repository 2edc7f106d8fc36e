package provider

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	secret := []byte("s3cret")
	body := []byte(`{"actionKey":"k","actionParams":{}}`)
	ts := fixedNow.Unix()
	signed := func(ts int64, sig string) http.Header {
		h := http.Header{}
		h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
		h.Set(HeaderSignature, sig)
		return h
	}
	good := Sign(secret, ts, body)
	tests := []struct {
		name   string
		secret []byte
		header http.Header
		body   []byte
		now    time.Time
		skew   time.Duration
		want   error
	}{
		{name: "valid", header: signed(ts, good), now: fixedNow},
		{name: "valid within skew, provider clock ahead", header: signed(ts, good), now: fixedNow.Add(59 * time.Second)},
		{name: "valid within skew, provider clock behind", header: signed(ts, good), now: fixedNow.Add(-59 * time.Second)},
		{name: "stale", header: signed(ts, good), now: fixedNow.Add(61 * time.Second), want: ErrTimestampSkew},
		{name: "from the future", header: signed(ts, good), now: fixedNow.Add(-61 * time.Second), want: ErrTimestampSkew},
		{name: "default skew is 5 minutes", header: signed(ts, good), now: fixedNow.Add(4 * time.Minute), skew: -1},
		{name: "default skew rejects 6 minutes", header: signed(ts, good), now: fixedNow.Add(6 * time.Minute), skew: -1, want: ErrTimestampSkew},
		{name: "tampered body", header: signed(ts, good), body: []byte(`{"actionKey":"k2","actionParams":{}}`), now: fixedNow, want: ErrSignatureMismatch},
		{name: "timestamp swapped", header: signed(ts+1, good), now: fixedNow, want: ErrSignatureMismatch},
		{name: "wrong secret", secret: []byte("other"), header: signed(ts, good), now: fixedNow, want: ErrSignatureMismatch},
		{name: "empty secret", secret: []byte{}, header: signed(ts, Sign(nil, ts, body)), now: fixedNow, want: ErrNoSecret},
		{name: "rotation: one of several matches", header: signed(ts, Sign([]byte("old"), ts, body)+", "+good), now: fixedNow},
		{name: "unknown version", header: signed(ts, "v0="+good[3:]), now: fixedNow, want: ErrSignatureMismatch},
		{name: "not hex", header: signed(ts, "v1=zz"), now: fixedNow, want: ErrSignatureMismatch},
		{name: "truncated MAC", header: signed(ts, good[:20]), now: fixedNow, want: ErrSignatureMismatch},
		{name: "no headers", header: http.Header{}, now: fixedNow, want: ErrMissingSignature},
		{name: "no signature", header: http.Header{HeaderTimestamp: {strconv.FormatInt(ts, 10)}}, now: fixedNow, want: ErrMissingSignature},
		{name: "timestamp not a number", header: http.Header{HeaderTimestamp: {"yesterday"}, HeaderSignature: {good}}, now: fixedNow, want: ErrBadTimestamp},
		{name: "timestamp in milliseconds", header: signed(ts*1000, Sign(secret, ts*1000, body)), now: fixedNow, want: ErrTimestampSkew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, b, skew := secret, body, time.Minute
			if tt.secret != nil {
				s = tt.secret
			}
			if tt.body != nil {
				b = tt.body
			}
			if tt.skew != 0 {
				skew = tt.skew
			}
			err := VerifySignature(s, tt.header, b, tt.now, skew)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("VerifySignature = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	// HMAC-SHA256("key", "1700000000.{}") computed independently with
	// printf '1700000000.{}' | openssl dgst -sha256 -hmac key.
	const want = "v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
	got := Sign([]byte("key"), 1700000000, []byte("{}"))
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}
