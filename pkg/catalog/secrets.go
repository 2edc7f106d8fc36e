package catalog

import "time"

// Values of App.RequestFormat.
const (
	// RequestFormatSwitchyard: a plain JSON body signed with the app's secret (HMAC-SHA256 in
	// X-Switchyard-Signature). The default.
	RequestFormatSwitchyard = "SWITCHYARD"
	// RequestFormatWixJWT: Wix's envelope (reference §4.1), the body an RS256 JWT {data:{request,
	// metadata}} signed with the platform key, which providers built on @wix/sdk accept.
	RequestFormatWixJWT = "WIX_JWT"
)

// SigningSecrets are an app's HMAC signing secrets, sealed under the platform key (never stored in the
// clear: the platform must sign with them, so a hash would not do). Secrets[0] is the current one; a
// second entry is the one it replaced, still signed with until its RetiresDate so that receivers can
// switch over without dropping calls.
type SigningSecrets struct {
	AppID string `json:"appId"`
	// Version guards read-modify-write: stores replace the record only at the version read.
	Version int64          `json:"version"`
	Secrets []SealedSecret `json:"secrets"`
}

// SealedSecret is one secret: AES-GCM ciphertext bound to (app id, secret id).
type SealedSecret struct {
	ID          string    `json:"id"`
	Sealed      []byte    `json:"sealed"`
	CreatedDate time.Time `json:"createdDate"`
	// RetiresDate is set on a replaced secret: from then on it no longer signs.
	RetiresDate time.Time `json:"retiresDate,omitzero"`
}
