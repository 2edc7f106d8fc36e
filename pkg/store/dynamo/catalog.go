package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// CreateApp stores a new app; errs.ErrConflict when the id is taken.
func (s *Store) CreateApp(ctx context.Context, a *catalog.App) error {
	it, err := appItem(a)
	if err != nil {
		return err
	}
	return s.putNew(ctx, "app "+a.ID, it)
}

func (s *Store) GetApp(ctx context.Context, id string) (*catalog.App, error) {
	var a catalog.App
	pk, sk := appKey(id)
	if _, err := s.getDoc(ctx, "app "+id, pk, sk, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// PutTrigger creates or replaces the trigger (appId, triggerKey). It lives in its app's partition.
func (s *Store) PutTrigger(ctx context.Context, t *catalog.Trigger) error {
	what := fmt.Sprintf("trigger %s/%s", t.AppID, t.TriggerKey)
	doc, err := encodeDoc(what, t)
	if err != nil {
		return err
	}
	pk, sk := triggerKey(t.AppID, t.TriggerKey)
	return s.put(ctx, what, withCatalogIndex(newItem("trigger", pk, sk, doc), "TRIGGERS", t.AppID, t.TriggerKey))
}

func (s *Store) GetTrigger(ctx context.Context, appID, k string) (*catalog.Trigger, error) {
	var t catalog.Trigger
	pk, sk := triggerKey(appID, k)
	if _, err := s.getDoc(ctx, fmt.Sprintf("trigger %s/%s", appID, k), pk, sk, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// PutAction creates or replaces the action (appId, actionKey).
func (s *Store) PutAction(ctx context.Context, a *catalog.Action) error {
	what := fmt.Sprintf("action %s/%s", a.AppID, a.ActionKey)
	doc, err := encodeDoc(what, a)
	if err != nil {
		return err
	}
	pk, sk := actionKey(a.AppID, a.ActionKey)
	return s.put(ctx, what, withCatalogIndex(newItem("action", pk, sk, doc), "ACTIONS", a.AppID, a.ActionKey))
}

func (s *Store) GetAction(ctx context.Context, appID, k string) (*catalog.Action, error) {
	var a catalog.Action
	pk, sk := actionKey(appID, k)
	if _, err := s.getDoc(ctx, fmt.Sprintf("action %s/%s", appID, k), pk, sk, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// PutInstallation records the installation, keeping the first one when the app is already installed, and
// returns the stored record.
func (s *Store) PutInstallation(ctx context.Context, in *catalog.Installation) (*catalog.Installation, error) {
	what := fmt.Sprintf("installation of %s on %s", in.AppID, in.SiteID)
	doc, err := encodeDoc(what, in)
	if err != nil {
		return nil, err
	}
	pk, sk := installKey(in.SiteID, in.AppID)
	if err := s.putNew(ctx, what, newItem("installation", pk, sk, doc)); err != nil && !errors.Is(err, errs.ErrConflict) {
		return nil, err
	}
	// Read back in both cases, as SQLite does: the caller gets exactly what readers will see.
	return s.GetInstallation(ctx, in.SiteID, in.AppID)
}

func (s *Store) GetInstallation(ctx context.Context, siteID, appID string) (*catalog.Installation, error) {
	var in catalog.Installation
	pk, sk := installKey(siteID, appID)
	if _, err := s.getDoc(ctx, fmt.Sprintf("installation of %s on %s", appID, siteID), pk, sk, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

// CreateAPIKey stores a key under the hash of its secret. A second item keyed by the key's id makes the id
// unique too (SQLite has a UNIQUE column for it); both are written in one transaction, so a duplicate of
// either leaves nothing behind.
func (s *Store) CreateAPIKey(ctx context.Context, k *access.APIKey) error {
	doc, err := encodeDoc("api key "+k.ID, k)
	if err != nil {
		return err
	}
	hpk, hsk := apiKeyByHash(k.KeyHash)
	byHash := newItem("apiKey", hpk, hsk, doc)
	byHash[attrKeyID] = str(k.ID)
	byHash[attrSiteID] = str(k.SiteID)
	ipk, isk := apiKeyByID(k.ID)
	byID := keyAttrs(ipk, isk)
	byID[attrKind] = str("apiKeyId")
	byID[attrKeyHash] = str(k.KeyHash)
	cond, vals := s.absentCond()
	t := s.newTxn()
	t.put("api key hash", byHash, cond, vals)
	t.put("api key id "+k.ID, byID, cond, vals)
	return s.transact(ctx, "create api key", t)
}

func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (*access.APIKey, error) {
	var k access.APIKey
	pk, sk := apiKeyByHash(hash)
	if _, err := s.getDoc(ctx, "api key", pk, sk, &k); err != nil {
		return nil, err
	}
	k.KeyHash = hash // not part of the document (json:"-")
	return &k, nil
}

// GetSetting reads a named setting.
func (s *Store) GetSetting(ctx context.Context, name string) (string, error) {
	pk, sk := settingKey(name)
	it, err := s.get(ctx, "setting "+name, pk, sk)
	if err != nil {
		return "", err
	}
	return getStr(it, attrValue), nil
}

// PutSetting writes a named setting.
func (s *Store) PutSetting(ctx context.Context, name, value string) error {
	pk, sk := settingKey(name)
	it := keyAttrs(pk, sk)
	it[attrKind] = str("setting")
	it[attrValue] = str(value)
	return s.put(ctx, "setting "+name, it)
}

// ListInstallations returns the installations of a site, by app id: one Query of the site's partition
// (begins_with INSTALL#, so its automations are not read).
func (s *Store) ListInstallations(ctx context.Context, siteID string) ([]*catalog.Installation, error) {
	out := []*catalog.Installation{}
	err := s.query(ctx, "installations of site "+siteID, &dynamodb.QueryInput{
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :inst)"),
		ProjectionExpression:      aws.String("#doc"),
		ExpressionAttributeNames:  names("#pk #sk #doc"),
		ExpressionAttributeValues: item{":pk": str(key(prefixSite, siteID)), ":inst": str(prefixInstall + "#")},
	}, func(it item) error {
		var in catalog.Installation
		if err := json.Unmarshal([]byte(getStr(it, attrDoc)), &in); err != nil {
			return fmt.Errorf("decode stored installation of site %s: %w", siteID, err)
		}
		out = append(out, &in)
		return nil
	})
	return out, err
}
