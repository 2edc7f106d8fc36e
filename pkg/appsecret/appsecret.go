// Package appsecret is the life cycle of an app's HMAC signing secret: issued at registration and shown
// once, rotated on request, kept sealed under the platform key (the platform signs with the raw secret,
// so it cannot be only hashed).
//
// Rotation overlap: the replaced secret keeps signing beside the new one for a grace period (default
// 24 h): every call carries two signatures, so a provider can deploy the new secret at any time within
// the grace period without rejecting a single call. Only the latest replaced secret overlaps: rotating
// twice within the grace period retires the oldest at once.
package appsecret

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
)

// Prefix marks signing secrets so that a leaked one is recognisable.
const Prefix = "sysig_"

// DefaultGrace is how long a replaced secret keeps signing.
const DefaultGrace = 24 * time.Hour

// Store is what rotation needs.
type Store interface {
	GetSigningSecrets(ctx context.Context, appID string) (*catalog.SigningSecrets, error)
	PutSigningSecrets(ctx context.Context, sec *catalog.SigningSecrets, expectedVersion int64) error
}

// Manager issues, rotates and unseals secrets.
type Manager struct {
	box   *platformkeys.Box
	grace time.Duration
	now   func() time.Time
}

// New returns a Manager sealing with box; grace <= 0 means DefaultGrace, now nil means time.Now.
func New(box *platformkeys.Box, grace time.Duration, now func() time.Time) *Manager {
	if grace <= 0 {
		grace = DefaultGrace
	}
	if now == nil {
		now = time.Now
	}
	return &Manager{box: box, grace: grace, now: now}
}

// Grace is how long a replaced secret keeps signing.
func (m *Manager) Grace() time.Duration { return m.grace }

// Issue returns a fresh secret and the version-1 record holding it, for CreateAppWithSecrets.
func (m *Manager) Issue(appID string) (string, *catalog.SigningSecrets, error) {
	secret, sealed, err := m.fresh(appID)
	if err != nil {
		return "", nil, err
	}
	return secret, &catalog.SigningSecrets{AppID: appID, Version: 1, Secrets: []catalog.SealedSecret{sealed}}, nil
}

// Rotate replaces the app's current secret with a fresh one, which it returns; the replaced one signs
// too until the grace period ends (its RetiresDate). An app without secrets (registered before they
// existed) gets its first. A concurrent rotation makes this one fail with a 409.
func (m *Manager) Rotate(ctx context.Context, st Store, appID string) (string, *catalog.SigningSecrets, error) {
	cur, err := st.GetSigningSecrets(ctx, appID)
	if errors.Is(err, errs.ErrNotFound) {
		cur = &catalog.SigningSecrets{AppID: appID}
	} else if err != nil {
		return "", nil, fmt.Errorf("rotate signing secret of app %s: %w", appID, err)
	}
	secret, sealed, err := m.fresh(appID)
	if err != nil {
		return "", nil, err
	}
	next := &catalog.SigningSecrets{AppID: appID, Version: cur.Version + 1, Secrets: []catalog.SealedSecret{sealed}}
	if len(cur.Secrets) > 0 {
		prev := cur.Secrets[0]
		prev.RetiresDate = m.now().UTC().Add(m.grace)
		next.Secrets = append(next.Secrets, prev)
	}
	if err := st.PutSigningSecrets(ctx, next, cur.Version); err != nil {
		if errors.Is(err, errs.ErrConflict) {
			return "", nil, &errs.Error{Kind: errs.Conflict, Code: "CONCURRENT_ROTATION",
				Message: "the signing secret was rotated concurrently; rotate again if you still need a new one", Err: err}
		}
		return "", nil, fmt.Errorf("rotate signing secret of app %s: %w", appID, err)
	}
	return secret, next, nil
}

// Active unseals the secrets that sign at the Manager's now: the current one, and a replaced one
// before its RetiresDate. A record that does not open (another platform key) is an error: signing with
// nothing would look like success to nobody.
func (m *Manager) Active(rec *catalog.SigningSecrets) ([][]byte, error) {
	now := m.now()
	var out [][]byte
	for i, s := range rec.Secrets {
		if i > 0 && (s.RetiresDate.IsZero() || !now.Before(s.RetiresDate)) {
			continue
		}
		pt, err := m.box.Open(s.Sealed, ad(rec.AppID, s.ID))
		if err != nil {
			return nil, fmt.Errorf("signing secret %s of app %s: %w", s.ID, rec.AppID, err)
		}
		out = append(out, pt)
	}
	return out, nil
}

func (m *Manager) fresh(appID string) (string, catalog.SealedSecret, error) {
	raw := make([]byte, 32)
	idb := make([]byte, 9)
	if _, err := rand.Read(raw); err != nil {
		return "", catalog.SealedSecret{}, fmt.Errorf("signing secret: %w", err)
	}
	if _, err := rand.Read(idb); err != nil {
		return "", catalog.SealedSecret{}, fmt.Errorf("signing secret: %w", err)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(raw)
	id := base64.RawURLEncoding.EncodeToString(idb)
	sealed, err := m.box.Seal([]byte(secret), ad(appID, id))
	if err != nil {
		return "", catalog.SealedSecret{}, err
	}
	return secret, catalog.SealedSecret{ID: id, Sealed: sealed, CreatedDate: m.now().UTC()}, nil
}

// ad binds a sealed secret to its app and id.
func ad(appID, id string) []byte { return []byte("switchyard/app-signing-secret/" + appID + "/" + id) }
