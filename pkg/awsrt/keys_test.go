package awsrt_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/awsrt"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

// ssmStandIn answers the SSM JSON 1.1 API's GetParameter from a map, as SSM does for SecureStrings
// read WithDecryption, and records what it was asked.
type ssmStandIn struct {
	mu     sync.Mutex
	params map[string]string
	asked  []map[string]any
}

func (s *ssmStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	json.Unmarshal(body, &in)
	s.mu.Lock()
	s.asked = append(s.asked, in)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	name, _ := in["Name"].(string)
	v, ok := s.params[name]
	if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" || !ok || in["WithDecryption"] != true {
		w.WriteHeader(400)
		w.Write([]byte(`{"__type":"ParameterNotFound","message":"no such parameter or not decrypted"}`))
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{"Name": name, "Type": "SecureString", "Value": v, "Version": 1}})
}

func TestLoadKeysFromSSM(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(rk)
	jwtPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	aesKey := base64.StdEncoding.EncodeToString(make([]byte, 32))
	stand := &ssmStandIn{params: map[string]string{"/sy/secret": aesKey, "/sy/jwt": jwtPEM, "/sy/short": "c2hvcnQ="}}
	srv := httptest.NewServer(stand)
	t.Cleanup(srv.Close)
	client := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})

	for _, tc := range []struct {
		name            string
		secret, jwt     string
		wantBox, wantRS bool
		wantErr         string
	}{
		{"both", "/sy/secret", "/sy/jwt", true, true, ""},
		{"secret key only (create-app, rotation)", "/sy/secret", "", true, false, ""},
		{"jwt key only (public key)", "", "/sy/jwt", false, true, ""},
		{"missing parameter", "/sy/nope", "", false, false, "/sy/nope"},
		{"key of the wrong size", "/sy/short", "", false, false, "32 bytes"},
		{"not PEM", "", "/sy/secret", false, false, "PEM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := awsrt.LoadKeys(context.Background(), client, awsrt.Config{SecretKeyParameter: tc.secret, JWTKeyParameter: tc.jwt})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || (keys.Box != nil) != tc.wantBox || (keys.JWT != nil) != tc.wantRS {
				t.Fatalf("keys = %+v, %v", keys, err)
			}
			if keys.JWT != nil && !keys.JWT.PublicKey.Equal(&rk.PublicKey) {
				t.Fatal("JWT key is not the parameter's")
			}
		})
	}

	// A runtime with the keys issues a secret at registration and publishes the public key.
	keys, err := awsrt.LoadKeys(context.Background(), client, awsrt.Config{SecretKeyParameter: "/sy/secret", JWTKeyParameter: "/sy/jwt"})
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg, _ := awsrt.ConfigFromEnv(func(k string) string {
		return map[string]string{"TABLE_NAME": "t", "ADMIN_KEY_HASH": access.Hash(awse2e.AdminKey)}[k]
	})
	rt, err := awsrt.New(cfg, awsrt.Deps{Store: store, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(rt.HTTPHandler())
	t.Cleanup(api.Close)
	req, _ := http.NewRequest("POST", api.URL+"/v1/apps", strings.NewReader(`{"app":{"name":"x","requestFormat":"WIX_JWT"}}`))
	req.Header.Set("Authorization", awse2e.AdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(out["signingSecret"].(string), "sysig_") {
		t.Fatalf("create app = %d %v", resp.StatusCode, out)
	}
	req, _ = http.NewRequest("GET", api.URL+"/v1/platform/public-key", nil)
	req.Header.Set("Authorization", awse2e.AdminKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(out["publicKey"].(string), "BEGIN PUBLIC KEY") {
		t.Fatalf("public key = %d %v", resp.StatusCode, out)
	}
}
