// Package wixjwt is Wix's transport envelope for service-plugin calls (reference §4.1): the request body
// is an RS256 JWT whose claim data = {request, metadata}, issued by the platform ("wix.com" unless
// configured otherwise) for the app (audience = app id). Providers built on @wix/sdk verify it with
// AppStrategy({appId, publicKey}); the Go kit verifies it with Verify.
//
// JWT handling is github.com/golang-jwt/jwt/v5: signing and, more to the point, verification (algorithm
// pinning, exp/iat/aud/iss checks) are easy to get subtly wrong by hand.
package wixjwt

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultIssuer is what @wix/sdk insists on (AppStrategy.decodeJWT verifies issuer "wix.com").
const DefaultIssuer = "wix.com"

// DefaultTTL is how long an envelope is valid: long enough for clock skew and a slow network, short
// enough that a captured request is soon useless.
const DefaultTTL = 5 * time.Minute

// ContentType of an envelope body. @wix/sdk reads the raw body as text; text/plain is also what
// express.text() and most frameworks hand over untouched.
const ContentType = "text/plain; charset=utf-8"

// Values of Metadata.AppExtensionType: which service plugin the call is for.
const (
	ActionProvider  = "AUTOMATIONS_ACTION_PROVIDER"
	TriggerProvider = "AUTOMATIONS_TRIGGER_PROVIDER"
)

// Metadata is Wix's call context plus the extension type (reference §4.1).
type Metadata struct {
	RequestID        string    `json:"requestId,omitempty"`
	InstanceID       string    `json:"instanceId,omitempty"`
	AppExtensionType string    `json:"appExtensionType"`
	Identity         *Identity `json:"identity,omitempty"`
	Languages        []string  `json:"languages,omitempty"`
	Currency         string    `json:"currency,omitempty"`
}

// Identity is who the call acts for. Switchyard calls as the app itself.
type Identity struct {
	IdentityType string `json:"identityType,omitempty"`
	AppID        string `json:"appId,omitempty"`
	WixUserID    string `json:"wixUserId,omitempty"`
	MemberID     string `json:"memberId,omitempty"`
}

// Data is the JWT's data claim.
type Data struct {
	Request  json.RawMessage `json:"request"`
	Metadata Metadata        `json:"metadata"`
}

type claims struct {
	Data Data `json:"data"`
	jwt.RegisteredClaims
}

// Signer issues envelopes with the platform's RSA key.
type Signer struct {
	key    *rsa.PrivateKey
	issuer string
	ttl    time.Duration
	now    func() time.Time
}

// NewSigner returns a Signer; issuer "" means DefaultIssuer, now nil means time.Now.
func NewSigner(key *rsa.PrivateKey, issuer string, now func() time.Time) *Signer {
	if issuer == "" {
		issuer = DefaultIssuer
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, issuer: issuer, ttl: DefaultTTL, now: now}
}

// Issuer is the iss claim the Signer writes.
func (s *Signer) Issuer() string { return s.issuer }

// PublicKey is the key receivers verify with.
func (s *Signer) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// Sign returns the envelope of request (a JSON document) for appID.
func (s *Signer) Sign(appID string, md Metadata, request []byte) (string, error) {
	if !json.Valid(request) {
		return "", errors.New("wixjwt: request is not JSON")
	}
	now := s.now()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("wixjwt: %w", err)
	}
	c := claims{
		Data: Data{Request: request, Metadata: md},
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Audience:  jwt.ClaimStrings{appID},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
			ID:        base64.RawURLEncoding.EncodeToString(jti),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("wixjwt: sign: %w", err)
	}
	return tok, nil
}

// Envelope binds the Signer to one call: what provider.Target.Envelope takes. Each Wrap (one per
// attempt) issues a fresh token, so a retry late in the budget is not sent expired.
func (s *Signer) Envelope(appID string, md Metadata) *Envelope {
	return &Envelope{s: s, appID: appID, md: md}
}

// Envelope wraps request bodies for one app and call.
type Envelope struct {
	s     *Signer
	appID string
	md    Metadata
}

// Wrap returns the JWT body for a JSON request body.
func (e *Envelope) Wrap(body []byte) ([]byte, error) {
	tok, err := e.s.Sign(e.appID, e.md, body)
	if err != nil {
		return nil, err
	}
	return []byte(tok), nil
}

// ContentType of the wrapped body.
func (e *Envelope) ContentType() string { return ContentType }

// Errors Verify returns, wrapped.
var (
	ErrInvalid = errors.New("wixjwt: invalid envelope")
)

// VerifyOptions say what an envelope must satisfy.
type VerifyOptions struct {
	PublicKey *rsa.PublicKey
	AppID     string // required audience
	Issuer    string // "" means DefaultIssuer
	Leeway    time.Duration
	Now       func() time.Time
}

// Verify checks an envelope (RS256 only, signed by PublicKey, iss, aud = AppID, unexpired) and returns
// its data. Every failure wraps ErrInvalid.
func Verify(token string, o VerifyOptions) (*Data, error) {
	if o.PublicKey == nil {
		return nil, fmt.Errorf("%w: no public key configured", ErrInvalid)
	}
	if o.AppID == "" {
		return nil, fmt.Errorf("%w: no app id configured", ErrInvalid)
	}
	iss := o.Issuer
	if iss == "" {
		iss = DefaultIssuer
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}), jwt.WithIssuer(iss),
		jwt.WithAudience(o.AppID), jwt.WithExpirationRequired(), jwt.WithLeeway(o.Leeway)}
	if o.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(o.Now))
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return o.PublicKey, nil }, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(c.Data.Request) == 0 || c.Data.Metadata.AppExtensionType == "" {
		return nil, fmt.Errorf("%w: data must hold request and metadata.appExtensionType", ErrInvalid)
	}
	return &c.Data, nil
}
