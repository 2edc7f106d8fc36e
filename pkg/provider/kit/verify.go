package kit

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
)

// Reasons a call is refused; every verification error wraps one.
var (
	ErrUnsigned      = errors.New("kit: the call carries neither an X-Switchyard-Signature nor a JWT envelope")
	ErrBadSignature  = errors.New("kit: signature does not verify")
	ErrBadEnvelope   = errors.New("kit: JWT envelope does not verify")
	ErrNotConfigured = errors.New("kit: the call's format is not configured on this provider")
)

type verifier struct {
	appID   string
	secrets [][]byte
	pub     *rsa.PublicKey
	issuer  string
	skew    time.Duration
	now     func() time.Time
}

func newVerifier(c Config) (*verifier, error) {
	v := &verifier{appID: c.AppID, pub: c.PublicKey, issuer: c.Issuer, skew: c.MaxSkew, now: c.Now}
	for _, s := range c.Secrets {
		if s != "" {
			v.secrets = append(v.secrets, []byte(s))
		}
	}
	if len(v.secrets) == 0 && v.pub == nil {
		return nil, errors.New("kit: configure Secrets, PublicKey or both: a provider that verifies nothing would run anyone's calls")
	}
	if v.pub != nil && v.appID == "" {
		return nil, errors.New("kit: PublicKey needs AppID (the audience envelopes must name)")
	}
	if v.skew <= 0 {
		v.skew = provider.DefaultMaxSkew
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// verify authenticates one call and returns its JSON request. HMAC-signed calls are recognised by
// their signature header, JWT envelopes by their body; anything else is refused.
func (v *verifier) verify(h http.Header, body []byte) ([]byte, Call, error) {
	if h.Get(provider.HeaderSignature) != "" || h.Get(provider.HeaderTimestamp) != "" {
		if len(v.secrets) == 0 {
			return nil, Call{}, fmt.Errorf("%w: HMAC-signed call but no Secrets", ErrNotConfigured)
		}
		now := v.now()
		var last error
		for _, s := range v.secrets {
			err := provider.VerifySignature(s, h, body, now, v.skew)
			if err == nil {
				// The site header is covered by the signature just verified.
				return body, Call{Format: FormatSwitchyard, InstanceID: h.Get(provider.HeaderSiteID)}, nil
			}
			last = err
		}
		return nil, Call{}, fmt.Errorf("%w: %w", ErrBadSignature, last)
	}
	tok := bytes.TrimSpace(body)
	if looksLikeJWT(tok) {
		if v.pub == nil {
			return nil, Call{}, fmt.Errorf("%w: JWT envelope but no PublicKey", ErrNotConfigured)
		}
		data, err := wixjwt.Verify(string(tok), wixjwt.VerifyOptions{PublicKey: v.pub, AppID: v.appID, Issuer: v.issuer,
			Leeway: jwtLeeway, Now: v.now})
		if err != nil {
			return nil, Call{}, fmt.Errorf("%w: %w", ErrBadEnvelope, err)
		}
		if data.Metadata.AppExtensionType != wixjwt.ActionProvider {
			return nil, Call{}, fmt.Errorf("%w: envelope is for %q, not the action provider", ErrBadEnvelope, data.Metadata.AppExtensionType)
		}
		if !json.Valid(data.Request) {
			return nil, Call{}, fmt.Errorf("%w: data.request is not JSON", ErrBadEnvelope)
		}
		return data.Request, Call{Format: FormatWixJWT, InstanceID: data.Metadata.InstanceID, RequestID: data.Metadata.RequestID}, nil
	}
	return nil, Call{}, ErrUnsigned
}

// looksLikeJWT: three non-empty base64url segments.
// jwtLeeway is the clock skew a JWT envelope's exp and iat may have: the platform issues envelopes valid for
// five minutes, and a leeway as wide as the HMAC timestamp tolerance would double that replay window.
const jwtLeeway = 30 * time.Second

func looksLikeJWT(b []byte) bool {
	if len(b) == 0 || b[0] == '{' {
		return false
	}
	parts := bytes.Split(b, []byte{'.'})
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if len(p) == 0 {
			return false
		}
		for _, c := range p {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// publicReason is what a refused caller is told: which check failed, not the detail.
func publicReason(err error) string {
	for _, e := range []error{ErrUnsigned, ErrBadSignature, ErrBadEnvelope, ErrNotConfigured} {
		if errors.Is(err, e) {
			return e.Error()[len("kit: "):]
		}
	}
	return "the call could not be verified"
}
