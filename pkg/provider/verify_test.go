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
	good := Sign(secret, ts, "", body)
	const siteA, siteB = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	forSite := func(site, sig string) http.Header {
		h := signed(ts, sig)
		h.Set(HeaderSiteID, site)
		return h
	}
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
		{name: "signed for a site", header: forSite(siteA, Sign(secret, ts, siteA, body)), now: fixedNow},
		{name: "site header swapped", header: forSite(siteB, Sign(secret, ts, siteA, body)), now: fixedNow, want: ErrSignatureMismatch},
		{name: "site header added", header: forSite(siteB, good), now: fixedNow, want: ErrSignatureMismatch},
		{name: "site header dropped", header: signed(ts, Sign(secret, ts, siteA, body)), now: fixedNow, want: ErrSignatureMismatch},
		{name: "tampered body", header: signed(ts, good), body: []byte(`{"actionKey":"k2","actionParams":{}}`), now: fixedNow, want: ErrSignatureMismatch},
		{name: "timestamp swapped", header: signed(ts+1, good), now: fixedNow, want: ErrSignatureMismatch},
		{name: "wrong secret", secret: []byte("other"), header: signed(ts, good), now: fixedNow, want: ErrSignatureMismatch},
		{name: "empty secret", secret: []byte{}, header: signed(ts, Sign(nil, ts, "", body)), now: fixedNow, want: ErrNoSecret},
		{name: "rotation: one of several matches", header: signed(ts, Sign([]byte("old"), ts, "", body)+", "+good), now: fixedNow},
		{name: "unknown version", header: signed(ts, "v0="+good[3:]), now: fixedNow, want: ErrSignatureMismatch},
		{name: "not hex", header: signed(ts, "v2=zz"), now: fixedNow, want: ErrSignatureMismatch},
		{name: "truncated MAC", header: signed(ts, good[:20]), now: fixedNow, want: ErrSignatureMismatch},
		{name: "no headers", header: http.Header{}, now: fixedNow, want: ErrMissingSignature},
		{name: "no signature", header: http.Header{HeaderTimestamp: {strconv.FormatInt(ts, 10)}}, now: fixedNow, want: ErrMissingSignature},
		{name: "timestamp not a number", header: http.Header{HeaderTimestamp: {"yesterday"}, HeaderSignature: {good}}, now: fixedNow, want: ErrBadTimestamp},
		{name: "timestamp in milliseconds", header: signed(ts*1000, Sign(secret, ts*1000, "", body)), now: fixedNow, want: ErrTimestampSkew},
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
	// HMAC-SHA256("key", "<ts>.<site>.<body>") computed independently with
	// printf '1700000000..{}' | openssl dgst -sha256 -hmac key, and with the site
	// printf '1700000000.11111111-1111-4111-8111-111111111111.{}' | openssl dgst -sha256 -hmac key.
	for _, tc := range []struct{ site, want string }{
		{"", "v2=638ac05b5f56eacf3d53193a550ce7f458641c9d7f704a336b7daa0c78353ce1"},
		{"11111111-1111-4111-8111-111111111111", "v2=bcd8c92292ed74353c7ecc63382a4b4661686359514ec81239ad2988e633d1ef"},
	} {
		if got := Sign([]byte("key"), 1700000000, tc.site, []byte("{}")); got != tc.want {
			t.Errorf("Sign(site %q) = %q, want %q", tc.site, got, tc.want)
		}
	}
}
