package api

import (
	"context"
	"net/http"

	"github.com/switchyard-dev/switchyard/pkg/appsecret"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
)

// Signing is how the API issues apps' signing secrets and publishes the platform's JWT key. Either
// part may be nil on a runtime without platform keys: apps are then registered without a secret, and
// WIX_JWT apps are refused.
type Signing struct {
	Secrets *appsecret.Manager
	JWT     *wixjwt.Signer
}

// SecretStore is the store part of app secrets.
type SecretStore interface {
	CreateAppWithSecrets(ctx context.Context, a *catalog.App, sec *catalog.SigningSecrets) error
	GetSigningSecrets(ctx context.Context, appID string) (*catalog.SigningSecrets, error)
	PutSigningSecrets(ctx context.Context, sec *catalog.SigningSecrets, expectedVersion int64) error
}

// rotateSigningSecret replaces an app's signing secret and shows the new one, this once. The replaced
// secret keeps signing (a second signature on every call) until previousSecretRetiresDate.
func (s *server) rotateSigningSecret(w http.ResponseWriter, r *http.Request) error {
	appID := r.PathValue("appId")
	if err := s.requireAppOwner(r, appID, "appId"); err != nil {
		return err
	}
	if s.signing.Secrets == nil {
		return errs.New(errs.FailedPrecondition, "SIGNING_NOT_CONFIGURED", "this deployment has no platform secret key, so apps have no signing secrets")
	}
	secret, rec, err := s.signing.Secrets.Rotate(r.Context(), s.store, appID)
	if err != nil {
		return err
	}
	out := map[string]any{"signingSecret": secret}
	if len(rec.Secrets) > 1 {
		out["previousSecretRetiresDate"] = rec.Secrets[1].RetiresDate
	}
	s.ok(w, out)
	return nil
}

// getPlatformPublicKey publishes the key that verifies WIX_JWT envelopes: app developers pass it to
// @wix/sdk's AppStrategy({appId, publicKey}) or to the Go kit. Any valid API key may read it.
func (s *server) getPlatformPublicKey(w http.ResponseWriter, r *http.Request) error {
	if s.signing.JWT == nil {
		return errs.New(errs.FailedPrecondition, "SIGNING_NOT_CONFIGURED", "this deployment has no platform JWT key")
	}
	pemKey, err := platformkeys.PublicKeyPEM(s.signing.JWT.PublicKey())
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"publicKey": pemKey, "algorithm": "RS256", "issuer": s.signing.JWT.Issuer()})
	return nil
}

// checkRequestFormat validates app.requestFormat and returns its stored form.
func (s *server) checkRequestFormat(vs *[]errs.FieldViolation, format string) string {
	switch format {
	case "", catalog.RequestFormatSwitchyard:
		return catalog.RequestFormatSwitchyard
	case catalog.RequestFormatWixJWT:
		return format
	}
	*vs = append(*vs, errs.FieldViolation{Field: "app.requestFormat", Description: "must be SWITCHYARD or WIX_JWT", ViolatedRule: "ENUM"})
	return ""
}
