package outbound_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/appsecret"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/outbound"
	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

const (
	appID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	site  = "11111111-1111-4111-8111-111111111111"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func box(t *testing.T, b byte) *platformkeys.Box {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b
	}
	bx, err := platformkeys.NewBox(k)
	if err != nil {
		t.Fatal(err)
	}
	return bx
}

func secretsOf(t *testing.T, b *outbound.Builder, app *catalog.App) []string {
	t.Helper()
	tg, err := b.Target(context.Background(), app, outbound.Call{SiteID: site, IdempotencyKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Envelope != nil || tg.IdempotencyKey != "k" || tg.AppID != app.ID || tg.BaseURI != app.ProviderBaseURI {
		t.Fatalf("target = %+v", tg)
	}
	var out []string
	for _, s := range tg.Secrets {
		out = append(out, string(s))
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRotationOverlap: after a rotation calls carry the new and the old secret until the grace period
// ends; a second rotation within it retires the oldest at once.
func TestRotationOverlap(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	m := appsecret.New(box(t, 1), time.Hour, c.now)
	b := outbound.New(outbound.Config{Store: st, Secrets: m})
	app := &catalog.App{ID: appID, Name: "A", ProviderBaseURI: "https://p.example", RequestFormat: catalog.RequestFormatSwitchyard}
	s1, rec, err := m.Issue(appID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAppWithSecrets(ctx, app, rec); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		do      func() string // returns a new secret, if it makes one
		advance time.Duration
		want    func(s []string) []string
	}{
		{"after registration", nil, 0, func(s []string) []string { return []string{s[0]} }},
		{"rotated", func() string { s, _, err := m.Rotate(ctx, st, appID); must(t, err); return s }, 0, func(s []string) []string { return []string{s[1], s[0]} }},
		{"just before the grace period ends", nil, time.Hour - time.Second, func(s []string) []string { return []string{s[1], s[0]} }},
		{"grace period over", nil, time.Second, func(s []string) []string { return []string{s[1]} }},
		{"rotated again", func() string { s, _, err := m.Rotate(ctx, st, appID); must(t, err); return s }, 0, func(s []string) []string { return []string{s[2], s[1]} }},
		{"and again within the grace period", func() string { s, _, err := m.Rotate(ctx, st, appID); must(t, err); return s }, time.Minute, func(s []string) []string { return []string{s[3], s[2]} }},
	}
	secrets := []string{s1}
	for _, st := range steps {
		c.t = c.t.Add(st.advance)
		if st.do != nil {
			secrets = append(secrets, st.do())
		}
		if got, want := secretsOf(t, b, app), st.want(secrets); !equal(got, want) {
			t.Fatalf("%s: signing secrets = %q, want %q", st.name, got, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// staleStore hands rotation an old version, as a concurrent rotation would.
type staleStore struct {
	appsecret.Store
	stale *catalog.SigningSecrets
}

func (s staleStore) GetSigningSecrets(context.Context, string) (*catalog.SigningSecrets, error) {
	return s.stale, nil
}

func TestTargets(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	m := appsecret.New(box(t, 1), 0, nil)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer := wixjwt.NewSigner(key, "", nil)
	full := outbound.New(outbound.Config{Store: st, Secrets: m, JWT: signer})

	plain := &catalog.App{ID: appID, ProviderBaseURI: "https://p.example"}
	must(t, st.CreateApp(ctx, plain))
	jwtApp := &catalog.App{ID: "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", ProviderBaseURI: "https://j.example", RequestFormat: catalog.RequestFormatWixJWT}
	_, rec, _ := m.Issue(jwtApp.ID)
	must(t, st.CreateAppWithSecrets(ctx, jwtApp, rec))
	foreign := &catalog.App{ID: "cccccccc-cccc-4ccc-8ccc-cccccccccccc", ProviderBaseURI: "https://f.example"}
	_, frec, _ := appsecret.New(box(t, 2), 0, nil).Issue(foreign.ID) // sealed under another platform key
	must(t, st.CreateAppWithSecrets(ctx, foreign, frec))

	// The JWT envelope verifies with the platform key for that app, and names the site and plugin.
	tg, err := full.Target(ctx, jwtApp, outbound.Call{SiteID: site})
	if err != nil || tg.Envelope == nil || len(tg.Secrets) != 0 {
		t.Fatalf("JWT target = %+v, %v", tg, err)
	}
	body, err := tg.Envelope.Wrap([]byte(`{"actionKey":"a"}`))
	must(t, err)
	data, err := wixjwt.Verify(string(body), wixjwt.VerifyOptions{PublicKey: &key.PublicKey, AppID: jwtApp.ID})
	if err != nil || string(data.Request) != `{"actionKey":"a"}` || data.Metadata.InstanceID != site ||
		data.Metadata.AppExtensionType != wixjwt.ActionProvider || data.Metadata.RequestID == "" {
		t.Fatalf("envelope data = %+v, %v", data, err)
	}

	for _, tc := range []struct {
		name        string
		b           *outbound.Builder
		app         *catalog.App
		unsignable  bool
		wantSecrets int
	}{
		{"app registered before secrets: unsigned", full, plain, false, 0},
		{"nil builder: unsigned", nil, jwtApp, false, 0},
		{"JWT app without a platform JWT key", outbound.New(outbound.Config{Store: st, Secrets: m}), jwtApp, true, 0},
		{"secrets without a platform secret key", outbound.New(outbound.Config{Store: st}), foreign, true, 0},
		{"secrets sealed under another platform key", full, foreign, true, 0},
	} {
		tg, err := tc.b.Target(ctx, tc.app, outbound.Call{SiteID: site})
		if tc.unsignable != errors.Is(err, outbound.ErrUnsignable) || (!tc.unsignable && (err != nil || len(tg.Secrets) != tc.wantSecrets || tg.Envelope != nil)) {
			t.Errorf("%s: target = %+v, %v", tc.name, tg, err)
		}
	}

	// A rotation that read a version another rotation already replaced is refused with a 409.
	_, cur, _ := m.Issue(appID)
	must(t, st.PutSigningSecrets(ctx, cur, 0))
	_, _, err = m.Rotate(ctx, st, appID)
	must(t, err)
	_, _, err = m.Rotate(ctx, staleStore{Store: st, stale: cur}, appID)
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Conflict || e.Code != "CONCURRENT_ROTATION" {
		t.Fatalf("stale rotation = %v", err)
	}
}
