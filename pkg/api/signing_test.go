package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/appsecret"
	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
)

var (
	jwtKeyOnce sync.Once
	jwtKey     *rsa.PrivateKey
)

func testSigning(t *testing.T) api.Signing {
	t.Helper()
	jwtKeyOnce.Do(func() {
		var err error
		if jwtKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	box, err := platformkeys.NewBox(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return api.Signing{Secrets: appsecret.New(box, 0, nil), JWT: wixjwt.NewSigner(jwtKey, "", nil)}
}

// TestSigningSecretLifecycle: the secret is shown once at registration and never again; rotation
// shows a new one and when the old one stops signing.
func TestSigningSecretLifecycle(t *testing.T) {
	f := newFixture(t)
	const id = "cdcdcdcd-cdcd-4dcd-8dcd-cdcdcdcdcdcd"
	var reg struct {
		App struct {
			ID, RequestFormat string
		}
		SigningSecret string
	}
	raw := f.mustOK("POST", "/v1/apps", adminKey, "", `{"app":{"id":"`+id+`","name":"Signed","requestFormat":"WIX_JWT"}}`)
	json.Unmarshal(raw, &reg)
	if reg.App.ID != id || reg.App.RequestFormat != "WIX_JWT" || !strings.HasPrefix(reg.SigningSecret, appsecret.Prefix) {
		t.Fatalf("registration = %s", raw)
	}
	// Registering the same id again shows nothing new.
	if code, body := f.do("POST", "/v1/apps", adminKey, "", `{"app":{"id":"`+id+`","name":"Again"}}`); code != 409 || strings.Contains(string(body), "sysig_") {
		t.Fatalf("duplicate registration = %d %s", code, body)
	}
	var rot struct {
		SigningSecret             string
		PreviousSecretRetiresDate time.Time
	}
	before := time.Now()
	json.Unmarshal(f.mustOK("POST", "/v1/apps/"+id+"/rotate-signing-secret", adminKey, "", ""), &rot)
	if !strings.HasPrefix(rot.SigningSecret, appsecret.Prefix) || rot.SigningSecret == reg.SigningSecret ||
		rot.PreviousSecretRetiresDate.Before(before.Add(appsecret.DefaultGrace)) || rot.PreviousSecretRetiresDate.After(time.Now().Add(appsecret.DefaultGrace)) {
		t.Fatalf("rotation = %+v", rot)
	}
	// The default format is SWITCHYARD, written out.
	raw = f.mustOK("POST", "/v1/apps", adminKey, "", `{"app":{"name":"Plain"}}`)
	if !strings.Contains(string(raw), `"requestFormat":"SWITCHYARD"`) {
		t.Fatalf("default format: %s", raw)
	}
	// The public key is the signer's, for any key holder.
	var pk struct{ PublicKey, Algorithm, Issuer string }
	json.Unmarshal(f.mustOK("GET", "/v1/platform/public-key", f.ownerB, "", ""), &pk)
	pub, err := platformkeys.ParsePublicKey(pk.PublicKey)
	if err != nil || !pub.Equal(&jwtKey.PublicKey) || pk.Algorithm != "RS256" || pk.Issuer != "wix.com" {
		t.Fatalf("public key = %+v (%v)", pk, err)
	}
}
