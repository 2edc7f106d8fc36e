package platformkeys_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
)

func TestBox(t *testing.T) {
	box, err := platformkeys.NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := platformkeys.NewBox(bytes.Repeat([]byte{8}, 32))
	sealed, err := box.Seal([]byte("sysig_secret"), []byte("app-1/s1"))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := box.Seal([]byte("sysig_secret"), []byte("app-1/s1"))
	if bytes.Equal(sealed, again) || bytes.Contains(sealed, []byte("sysig_secret")) {
		t.Fatal("sealing is deterministic or leaks the plaintext")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for _, tc := range []struct {
		name   string
		box    *platformkeys.Box
		sealed []byte
		ad     string
		ok     bool
	}{
		{"same key and record", box, sealed, "app-1/s1", true},
		{"another record", box, sealed, "app-2/s1", false},
		{"another platform key", other, sealed, "app-1/s1", false},
		{"tampered", box, tampered, "app-1/s1", false},
		{"truncated", box, sealed[:10], "app-1/s1", false},
		{"empty", box, nil, "app-1/s1", false},
	} {
		pt, err := tc.box.Open(tc.sealed, []byte(tc.ad))
		if tc.ok != (err == nil) || (tc.ok && string(pt) != "sysig_secret") {
			t.Errorf("%s: Open = %q, %v", tc.name, pt, err)
		}
	}
	if _, err := platformkeys.NewBox(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	first, err := platformkeys.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{platformkeys.SecretKeyFile, platformkeys.JWTKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
		}
	}
	// A restart loads the same keys: secrets sealed before open after.
	sealed, _ := first.Box.Seal([]byte("x"), nil)
	second, err := platformkeys.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := second.Box.Open(sealed, nil); err != nil || string(pt) != "x" || !second.JWT.Equal(first.JWT) {
		t.Fatalf("keys changed across a restart: %q %v", pt, err)
	}
	pub, err := platformkeys.PublicKeyPEM(&first.JWT.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := platformkeys.ParsePublicKey(pub); err != nil || !back.Equal(&first.JWT.PublicKey) {
		t.Fatalf("public key PEM does not round-trip: %v", err)
	}
	// A key file others can read is refused rather than used.
	os.Chmod(filepath.Join(dir, platformkeys.SecretKeyFile), 0o644)
	if _, err := platformkeys.LoadDir(dir); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func() error
		ok   bool
	}{
		{"secret std base64", func() error {
			_, err := platformkeys.ParseSecretKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
			return err
		}, true},
		{"secret url base64", func() error {
			_, err := platformkeys.ParseSecretKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			return err
		}, true},
		{"secret not base64", func() error { _, err := platformkeys.ParseSecretKey("not base64!"); return err }, false},
		{"jwt not pem", func() error { _, err := platformkeys.ParseJWTKey("nope"); return err }, false},
		{"public not pem", func() error { _, err := platformkeys.ParsePublicKey("nope"); return err }, false},
	} {
		if err := tc.fn(); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}
