// Package outbound builds the provider.Target of every call the platform makes to an app's provider —
// invoke, validate-configuration, quota-info, refresh-payload — in one place, so that every call is
// authenticated the same way: HMAC-signed JSON with the app's active signing secrets, or, for apps
// registered with requestFormat WIX_JWT, Wix's RS256 JWT envelope.
package outbound

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/pkg/appsecret"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
)

// Store is what building a target reads.
type Store interface {
	GetSigningSecrets(ctx context.Context, appID string) (*catalog.SigningSecrets, error)
}

// Config wires a Builder. Secrets and JWT may be nil when the runtime has no platform keys; apps that
// need them then cannot be called (ErrUnsignable).
type Config struct {
	Store   Store
	Secrets *appsecret.Manager
	JWT     *wixjwt.Signer
	NewID   func() string
}

// Builder builds targets. A nil *Builder builds unsigned plain-JSON targets (tests of other packages).
type Builder struct {
	store   Store
	secrets *appsecret.Manager
	jwt     *wixjwt.Signer
	newID   func() string
}

// New returns a Builder.
func New(c Config) *Builder {
	b := &Builder{store: c.Store, secrets: c.Secrets, jwt: c.JWT, newID: c.NewID}
	if b.newID == nil {
		b.newID = uuid.NewString
	}
	return b
}

// ErrUnsignable: the call cannot be authenticated as the app requires (a platform key is missing or
// does not open the app's secrets). Retrying does not help; the caller reports the call as failed.
var ErrUnsignable = errors.New("provider call cannot be signed")

// Call says what a target is for.
type Call struct {
	SiteID string
	// IdempotencyKey goes out as Idempotency-Key on every attempt (invoke: activationId:actionId).
	IdempotencyKey string
	// ExtensionType is the service plugin called (wixjwt.ActionProvider when empty); it goes into the
	// JWT envelope's metadata, where @wix/sdk dispatches on it.
	ExtensionType string
}

// Target returns the target for one call to app's provider.
func (b *Builder) Target(ctx context.Context, app *catalog.App, call Call) (provider.Target, error) {
	t := provider.Target{BaseURI: app.ProviderBaseURI, AppID: app.ID, SiteID: call.SiteID, IdempotencyKey: call.IdempotencyKey}
	if b == nil {
		return t, nil
	}
	if app.RequestFormat == catalog.RequestFormatWixJWT {
		if b.jwt == nil {
			return provider.Target{}, fmt.Errorf("%w: app %s uses the WIX_JWT format but the platform has no JWT key", ErrUnsignable, app.ID)
		}
		ext := call.ExtensionType
		if ext == "" {
			ext = wixjwt.ActionProvider
		}
		t.Envelope = b.jwt.Envelope(app.ID, wixjwt.Metadata{RequestID: b.newID(), InstanceID: call.SiteID,
			AppExtensionType: ext, Identity: &wixjwt.Identity{IdentityType: "APP", AppID: app.ID}})
		return t, nil
	}
	rec, err := b.store.GetSigningSecrets(ctx, app.ID)
	if errors.Is(err, errs.ErrNotFound) {
		// Registered before apps had secrets: nothing to sign with until the admin rotates one in.
		return t, nil
	} else if err != nil {
		return provider.Target{}, fmt.Errorf("load signing secrets of app %s: %w", app.ID, err)
	}
	if b.secrets == nil {
		return provider.Target{}, fmt.Errorf("%w: app %s has signing secrets but the platform has no secret key", ErrUnsignable, app.ID)
	}
	active, err := b.secrets.Active(rec)
	if err != nil {
		return provider.Target{}, fmt.Errorf("%w: %w", ErrUnsignable, err)
	}
	t.Secrets = active
	return t, nil
}
