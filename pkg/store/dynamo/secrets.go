package dynamo

import (
	"context"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
)

// An app's signing secrets live in a partition of their own (APPSECRET#<appId> / SECRETS) rather than in
// the app's: nothing that reads the app's catalog partition ever reads the sealed secrets with it.
const (
	prefixAppSecret = "APPSECRET"
	skSecrets       = "SECRETS"
)

func signingSecretsKey(appID string) (string, string) { return key(prefixAppSecret, appID), skSecrets }

func (s *Store) signingSecretsItem(sec *catalog.SigningSecrets) (item, error) {
	what := "signing secrets of app " + sec.AppID
	doc, err := encodeDoc(what, sec)
	if err != nil {
		return nil, err
	}
	pk, sk := signingSecretsKey(sec.AppID)
	it := newItem("signingSecrets", pk, sk, doc)
	it[attrVersion] = num(sec.Version)
	return it, nil
}

// CreateAppWithSecrets stores a new app and its signing secrets in one transaction, both only if absent;
// errs.ErrConflict (and nothing written) when the id is taken.
func (s *Store) CreateAppWithSecrets(ctx context.Context, a *catalog.App, sec *catalog.SigningSecrets) error {
	what := "app " + a.ID
	doc, err := encodeDoc(what, a)
	if err != nil {
		return err
	}
	pk, sk := appKey(a.ID)
	secIt, err := s.signingSecretsItem(sec)
	if err != nil {
		return err
	}
	cond, vals := s.absentCond()
	t := s.newTxn()
	t.put(what, newItem("app", pk, sk, doc), cond, vals)
	t.put("signing secrets of app "+a.ID, secIt, cond, vals)
	return s.transact(ctx, "create "+what, t)
}

// GetSigningSecrets reads an app's sealed signing secrets; errs.ErrNotFound when it has none.
func (s *Store) GetSigningSecrets(ctx context.Context, appID string) (*catalog.SigningSecrets, error) {
	var sec catalog.SigningSecrets
	pk, sk := signingSecretsKey(appID)
	if _, err := s.getDoc(ctx, "signing secrets of app "+appID, pk, sk, &sec); err != nil {
		return nil, err
	}
	return &sec, nil
}

// PutSigningSecrets replaces an app's secrets if the stored version is expectedVersion, or creates them
// if expectedVersion is 0 and there are none; errs.ErrConflict otherwise.
func (s *Store) PutSigningSecrets(ctx context.Context, sec *catalog.SigningSecrets, expectedVersion int64) error {
	it, err := s.signingSecretsItem(sec)
	if err != nil {
		return err
	}
	what := "put signing secrets of app " + sec.AppID
	if expectedVersion == 0 {
		cond, vals := s.absentCond()
		return s.putIf(ctx, what, it, cond, vals)
	}
	return s.putIf(ctx, what, it, "#version = :prev", item{":prev": num(expectedVersion)})
}
