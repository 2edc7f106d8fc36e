// Package platformkeys holds the platform's own keys: the AES-256 key that seals every app's signing
// secrets at rest (the platform needs the raw secrets to sign, so they cannot merely be hashed), and the
// RSA key that signs the Wix-style JWT envelope of outbound service-plugin calls.
//
// The local runtime keeps both in its data directory (LoadDir: created once, files 0600); the AWS
// runtime reads them from SSM SecureString parameters (Parse* on the parameter values).
package platformkeys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Box seals and opens small secrets with AES-256-GCM under the platform key. Sealed form:
// version byte 1 || 12-byte nonce || ciphertext+tag. The additional data binds a sealed value to the
// record it belongs to, so a sealed secret copied onto another app does not open.
type Box struct{ aead cipher.AEAD }

const boxVersion = 1

// ErrOpen is returned when a sealed value does not open: wrong key, wrong record or tampering.
var ErrOpen = errors.New("platformkeys: sealed value does not open under the platform key")

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("platformkeys: secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("platformkeys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("platformkeys: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext bound to ad.
func (b *Box) Seal(plaintext, ad []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("platformkeys: nonce: %w", err)
	}
	out := append([]byte{boxVersion}, nonce...)
	return b.aead.Seal(out, nonce, plaintext, ad), nil
}

// Open decrypts what Seal produced with the same ad.
func (b *Box) Open(sealed, ad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != boxVersion {
		return nil, ErrOpen
	}
	pt, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Keys are the platform's keys. Either may be nil when a runtime was not given it.
type Keys struct {
	Box *Box
	JWT *rsa.PrivateKey
}

// File names inside the local data directory.
const (
	SecretKeyFile = "platform-secret.key" // base64 of 32 random bytes
	JWTKeyFile    = "platform-jwt.pem"    // PKCS#8 PEM, RSA 2048
)

// LoadDir loads the keys from dir, creating each missing one (mode 0600). The directory is owned by
// one `switchyard serve` at a time (its lock), so creation does not race.
func LoadDir(dir string) (*Keys, error) {
	secret, err := loadOrCreate(filepath.Join(dir, SecretKeyFile), func() ([]byte, error) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		return []byte(base64.StdEncoding.EncodeToString(k) + "\n"), nil
	})
	if err != nil {
		return nil, err
	}
	box, err := ParseSecretKey(string(secret))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SecretKeyFile, err)
	}
	pemBytes, err := loadOrCreate(filepath.Join(dir, JWTKeyFile), func() ([]byte, error) {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	})
	if err != nil {
		return nil, err
	}
	jwtKey, err := ParseJWTKey(string(pemBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", JWTKeyFile, err)
	}
	return &Keys{Box: box, JWT: jwtKey}, nil
}

func loadOrCreate(path string, gen func() ([]byte, error)) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("platformkeys: %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("platformkeys: %w", err)
	}
	b, err = gen()
	if err != nil {
		return nil, fmt.Errorf("platformkeys: generate %s: %w", filepath.Base(path), err)
	}
	// Write to a temporary name first so a crash never leaves a half-written key behind.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, fmt.Errorf("platformkeys: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("platformkeys: %w", err)
	}
	return b, nil
}

// ParseSecretKey reads the base64 (standard or URL-safe, padded or not) form of a 32-byte key.
func ParseSecretKey(s string) (*Box, error) {
	s = strings.TrimSpace(s)
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("platformkeys: secret key is not base64")
	}
	return NewBox(key)
}

// ParseJWTKey reads an RSA private key (PKCS#8 or PKCS#1 PEM) of at least 2048 bits.
func ParseJWTKey(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if block == nil {
		return nil, errors.New("platformkeys: JWT key is not PEM")
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("platformkeys: JWT key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("platformkeys: JWT key is not an RSA key (RS256 needs one)")
		}
		key = rk
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("platformkeys: JWT key: %w", err)
		}
		key = k
	default:
		return nil, fmt.Errorf("platformkeys: JWT key: unexpected PEM block %q", block.Type)
	}
	if key.N.BitLen() < 2048 {
		return nil, fmt.Errorf("platformkeys: JWT key has %d bits, want at least 2048", key.N.BitLen())
	}
	return key, nil
}

// PublicKeyPEM is the SPKI ("PUBLIC KEY") PEM of the JWT key: what @wix/sdk's AppStrategy({publicKey})
// and the Go kit take.
func PublicKeyPEM(k *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", fmt.Errorf("platformkeys: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// ParsePublicKey reads an RSA public key from SPKI ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY") PEM.
func ParsePublicKey(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if block == nil {
		return nil, errors.New("platformkeys: public key is not PEM")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("platformkeys: public key: %w", err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("platformkeys: public key is not an RSA key")
		}
		return rk, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("platformkeys: public key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("platformkeys: public key: unexpected PEM block %q", block.Type)
}
