package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Headers the client sets.
const (
	HeaderTimestamp      = "X-Switchyard-Timestamp"
	HeaderSignature      = "X-Switchyard-Signature"
	HeaderAppID          = "X-Switchyard-App-Id"
	HeaderSiteID         = "X-Switchyard-Site-Id" // the site a call is for; signed
	HeaderIdempotencyKey = "Idempotency-Key"
)

// signatureVersion prefixes the hex MAC so the scheme can change without breaking verifiers. v2 signs the
// site as well as the timestamp and body, so a provider can keep per-site state on a signed value.
const signatureVersion = "v2"

// Sign returns the X-Switchyard-Signature value for a body sent at the given unix time for a site:
// "v2=" + hex(HMAC-SHA256(secret, "<unixSeconds>.<siteId>.<body>")); siteID is "" for a call about no
// site.
func Sign(secret []byte, unixSeconds int64, siteID string, body []byte) string {
	return signatureVersion + "=" + hex.EncodeToString(mac(secret, strconv.FormatInt(unixSeconds, 10), siteID, body))
}

func mac(secret []byte, timestamp, siteID string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write([]byte(siteID))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
