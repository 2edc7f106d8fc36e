package storetest

import (
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

var secretTests = []test{
	{"SigningSecrets/CreateWithApp", testCreateAppWithSecrets},
	{"SigningSecrets/VersionGuard", testSigningSecretsVersion},
}

func sealed(appID string, version int64, ids ...string) *catalog.SigningSecrets {
	sec := &catalog.SigningSecrets{AppID: appID, Version: version}
	for i, id := range ids {
		sec.Secrets = append(sec.Secrets, catalog.SealedSecret{ID: id, Sealed: []byte("ciphertext-" + id), CreatedDate: at(i)})
	}
	return sec
}

// testCreateAppWithSecrets: app and secrets appear together, and a taken id writes neither.
func testCreateAppWithSecrets(t *testing.T, s Store) {
	c := ctx(t)
	app := &catalog.App{ID: appA, Name: "A", RequestFormat: catalog.RequestFormatWixJWT, CreatedDate: t0, UpdatedDate: t0}
	must(t, s.CreateAppWithSecrets(c, app, sealed(appA, 1, "s1")))
	gotApp, err := s.GetApp(c, appA)
	must(t, err)
	sameJSON(t, "app", gotApp, app)
	got, err := s.GetSigningSecrets(c, appA)
	must(t, err)
	sameJSON(t, "secrets", got, sealed(appA, 1, "s1"))

	// The same id again: conflict, and neither record changes.
	wantErr(t, "second create", s.CreateAppWithSecrets(c, &catalog.App{ID: appA, Name: "B", CreatedDate: t0, UpdatedDate: t0},
		sealed(appA, 1, "s2")), errs.ErrConflict)
	gotApp, err = s.GetApp(c, appA)
	must(t, err)
	sameJSON(t, "app after conflict", gotApp, app)
	got, err = s.GetSigningSecrets(c, appA)
	must(t, err)
	sameJSON(t, "secrets after conflict", got, sealed(appA, 1, "s1"))

	// An app created the plain way has no secrets, and one that exists makes the combined create fail
	// without leaving secrets behind.
	must(t, s.CreateApp(c, &catalog.App{ID: appB, Name: "plain", CreatedDate: t0, UpdatedDate: t0}))
	_, err = s.GetSigningSecrets(c, appB)
	wantErr(t, "secrets of a plain app", err, errs.ErrNotFound)
	wantErr(t, "create over a plain app", s.CreateAppWithSecrets(c, &catalog.App{ID: appB, Name: "x", CreatedDate: t0, UpdatedDate: t0},
		sealed(appB, 1, "s3")), errs.ErrConflict)
	_, err = s.GetSigningSecrets(c, appB)
	wantErr(t, "secrets after a failed create", err, errs.ErrNotFound)
}

// testSigningSecretsVersion: PutSigningSecrets creates at version 0 only when absent and replaces only at
// the version read, so two concurrent rotations cannot both win.
func testSigningSecretsVersion(t *testing.T, s Store) {
	c := ctx(t)
	for _, tc := range []struct {
		name     string
		put      *catalog.SigningSecrets
		expected int64
		err      error
		want     *catalog.SigningSecrets // stored afterwards
	}{
		{"create", sealed(appA, 1, "a"), 0, nil, sealed(appA, 1, "a")},
		{"create again", sealed(appA, 1, "b"), 0, errs.ErrConflict, sealed(appA, 1, "a")},
		{"stale version", sealed(appA, 3, "c"), 2, errs.ErrConflict, sealed(appA, 1, "a")},
		{"rotate", sealed(appA, 2, "d", "a"), 1, nil, sealed(appA, 2, "d", "a")},
		{"replay of the same rotation", sealed(appA, 2, "e", "a"), 1, errs.ErrConflict, sealed(appA, 2, "d", "a")},
		{"rotate again", sealed(appA, 3, "f", "d"), 2, nil, sealed(appA, 3, "f", "d")},
	} {
		err := s.PutSigningSecrets(c, tc.put, tc.expected)
		if tc.err == nil {
			must(t, err)
		} else {
			wantErr(t, tc.name, err, tc.err)
		}
		got, err := s.GetSigningSecrets(c, appA)
		must(t, err)
		sameJSON(t, tc.name, got, tc.want)
	}
	_, err := s.GetSigningSecrets(c, appB)
	wantErr(t, "other app", err, errs.ErrNotFound)
	wantErr(t, "update of absent", s.PutSigningSecrets(c, sealed(appB, 2, "x"), 1), errs.ErrConflict)
}
