// Package access is who a caller is: API keys (generated, shown once, stored hashed) and the principal a
// key resolves to.
package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// APIKey is the stored form of a key: never the secret, only its hash.
type APIKey struct {
	ID          string    `json:"id"`
	SiteID      string    `json:"siteId"`
	AppID       string    `json:"appId,omitempty"`
	Name        string    `json:"name"`
	CreatedDate time.Time `json:"createdDate"`
	KeyHash     string    `json:"-"`
}

// Principal is the identity a request acts as.
type Principal struct {
	Admin  bool   // the operator: may register apps and keys and act on any site named by wix-site-id
	SiteID string // the site the request acts on ("" for an admin without wix-site-id)
	AppID  string // set when the key acts as an app on its site
	KeyID  string
}

// IsApp reports whether the caller acts as an app.
func (p Principal) IsApp() bool { return p.AppID != "" }

// keyPrefix marks Switchyard secrets so that leaked keys are recognisable by scanners.
const keyPrefix = "sy_"

// NewSecret returns a fresh random key secret: 256 bits, URL-safe.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return keyPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Hash is how secrets are stored and looked up. Keys carry 256 random bits, so a fast hash is as safe as a
// slow one here and keeps per-request authentication cheap.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ParseAuthorization accepts `<key>` and `Bearer <key>` (the Wix SDK sends the raw key).
func ParseAuthorization(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	return h
}
