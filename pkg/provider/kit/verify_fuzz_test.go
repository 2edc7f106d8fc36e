package kit

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
)

// The fuzz clock and key are fixed so that the seed corpus (testdata/fuzz/FuzzVerify, holding genuine
// signatures and envelopes made with them) stays valid.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const fuzzApp = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"

// genuine are the only requests the platform ever signed for the fuzzer.
var genuine = [][]byte{
	[]byte(`{"actionKey":"send-sms","actionParams":{"to":"+15550100","text":"hi"}}`),
	[]byte(`{"actionKey":"send-sms"}`),
}

func fuzzVerifier(t testing.TB) (*verifier, *wixjwt.Signer) {
	pemKey, err := os.ReadFile("testdata/fuzz-platform-key.pem")
	if err != nil {
		t.Fatal(err)
	}
	key, err := platformkeys.ParseJWTKey(string(pemKey))
	if err != nil {
		t.Fatal(err)
	}
	v, err := newVerifier(Config{AppID: fuzzApp, Secrets: []string{"sysig_new", "sysig_old"}, PublicKey: &key.PublicKey,
		Now: func() time.Time { return fuzzNow }})
	if err != nil {
		t.Fatal(err)
	}
	return v, wixjwt.NewSigner(key, "", func() time.Time { return fuzzNow.Add(-time.Minute) })
}

// FuzzVerify: whatever arrives, verify never panics, and it accepts only what the platform signed — a
// forged or altered body never comes out as a request.
func FuzzVerify(f *testing.F) {
	v, signer := fuzzVerifier(f)
	ts := strconv.FormatInt(fuzzNow.Unix(), 10)
	for _, g := range genuine {
		f.Add(ts, provider.Sign([]byte("sysig_old"), fuzzNow.Unix(), "", g), g)
		tok, err := signer.Sign(fuzzApp, wixjwt.Metadata{AppExtensionType: wixjwt.ActionProvider, InstanceID: "site"}, g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("", "", []byte(tok))
	}
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		if ts != "" {
			h.Set(provider.HeaderTimestamp, ts)
		}
		if sig != "" {
			h.Set(provider.HeaderSignature, sig)
		}
		req, call, err := v.verify(h, body)
		if err != nil {
			if req != nil {
				t.Fatalf("refused but returned a request: %q", req)
			}
			return
		}
		var got bytes.Buffer
		if err := json.Compact(&got, req); err != nil {
			t.Fatalf("accepted a request that is not JSON: %q", req)
		}
		for _, g := range genuine {
			if bytes.Equal(got.Bytes(), g) {
				if call.Format != FormatSwitchyard && call.Format != FormatWixJWT {
					t.Fatalf("accepted with format %q", call.Format)
				}
				return
			}
		}
		t.Fatalf("accepted a request the platform never signed: %s (format %s)", req, call.Format)
	})
}

// TestVerifyEdges covers the refusals the fuzzer finds only by chance.
func TestVerifyEdges(t *testing.T) {
	v, signer := fuzzVerifier(t)
	ts := strconv.FormatInt(fuzzNow.Unix(), 10)
	tok, _ := signer.Sign(fuzzApp, wixjwt.Metadata{AppExtensionType: wixjwt.ActionProvider}, genuine[0])
	for _, tc := range []struct {
		name     string
		ts, sig  string
		body     string
		accepted bool
	}{
		{"genuine hmac", ts, provider.Sign([]byte("sysig_new"), fuzzNow.Unix(), "", genuine[0]), string(genuine[0]), true},
		{"signature list with a good one last", ts, "v2=00," + provider.Sign([]byte("sysig_new"), fuzzNow.Unix(), "", genuine[0]), string(genuine[0]), true},
		{"body changed", ts, provider.Sign([]byte("sysig_new"), fuzzNow.Unix(), "", genuine[0]), string(genuine[1]), false},
		{"timestamp changed", strconv.FormatInt(fuzzNow.Unix()-1, 10), provider.Sign([]byte("sysig_new"), fuzzNow.Unix(), "", genuine[0]), string(genuine[0]), false},
		{"timestamp only", ts, "", string(genuine[0]), false},
		{"unknown version", ts, "v3=" + provider.Sign([]byte("sysig_new"), fuzzNow.Unix(), "", genuine[0])[3:], string(genuine[0]), false},
		{"genuine jwt with whitespace", "", "", "\n" + tok + "\n", true},
		{"jwt with hmac headers goes the hmac way", ts, "v2=00", tok, false},
		{"alg none", "", "", "eyJhbGciOiJub25lIn0.eyJkYXRhIjp7fX0.x", false},
		{"json body", "", "", string(genuine[0]), false},
	} {
		h := http.Header{}
		if tc.ts != "" {
			h.Set(provider.HeaderTimestamp, tc.ts)
		}
		if tc.sig != "" {
			h.Set(provider.HeaderSignature, tc.sig)
		}
		_, _, err := v.verify(h, []byte(tc.body))
		if (err == nil) != tc.accepted {
			t.Errorf("%s: err = %v, want accepted %v", tc.name, err, tc.accepted)
		}
	}
}
