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
	HeaderIdempotencyKey = "Idempotency-Key"
)

// signatureVersion prefixes the hex MAC so the scheme can change without breaking verifiers.
const signatureVersion = "v1"

// Sign returns the X-Switchyard-Signature value for body sent at the given unix time:
// "v1=" + hex(HMAC-SHA256(secret, "<unixSeconds>.<body>")).
func Sign(secret []byte, unixSeconds int64, body []byte) string {
	return signatureVersion + "=" + hex.EncodeToString(mac(secret, strconv.FormatInt(unixSeconds, 10), body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}
