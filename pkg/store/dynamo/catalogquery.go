package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// The catalog reads list records of every app, which live in one partition per app. Rather than a Scan
// (which would read every activation too) or a sixth GSI (CloudFormation adds one per update), catalog
// records also carry sparse keys of gsi1 — the trigger index, projected ALL — under partitions of their
// own: CATALOG#APPS, CATALOG#TRIGGERS, CATALOG#ACTIONS. A query reads its kind's partition whole and
// pages in memory with wql, as QueryAutomations does for a site: the catalog is small. gsi1 is
// eventually consistent, so a definition registered a moment ago may be missing from a page.
const prefixCatalog = "CATALOG"

func catalogIndexKey(kind string) string { return key(prefixCatalog, kind) }

// withCatalogIndex adds the gsi1 keys that list the record in its kind's catalog partition.
func withCatalogIndex(it item, kind string, parts ...string) item {
	it[AttrGSI1PK] = str(catalogIndexKey(kind))
	it[AttrGSI1SK] = str(key(parts...))
	return it
}

func appItem(a *catalog.App) (item, error) {
	what := "app " + a.ID
	doc, err := encodeDoc(what, a)
	if err != nil {
		return nil, err
	}
	pk, sk := appKey(a.ID)
	return withCatalogIndex(newItem("app", pk, sk, doc), "APPS", a.ID), nil
}

// PutApp replaces an existing app; errs.ErrNotFound when there is none (create with CreateApp).
func (s *Store) PutApp(ctx context.Context, a *catalog.App) error {
	it, err := appItem(a)
	if err != nil {
		return err
	}
	err = s.putIf(ctx, "update app "+a.ID, it, "attribute_exists(#pk)", nil)
	if errors.Is(err, errs.ErrConflict) {
		return fmt.Errorf("app %s: %w", a.ID, errs.ErrNotFound)
	}
	return err
}

// QueryApps pages through every app (wql.AppSchema).
func (s *Store) QueryApps(ctx context.Context, q *wql.Query) ([]*catalog.App, string, error) {
	return queryCatalog[catalog.App](ctx, s, "APPS", "", q)
}

// QueryTriggers pages through every app's triggers (wql.TriggerSchema).
func (s *Store) QueryTriggers(ctx context.Context, q *wql.Query) ([]*catalog.Trigger, string, error) {
	return queryCatalog[catalog.Trigger](ctx, s, "TRIGGERS", "triggerKey", q)
}

// QueryActions pages through every app's actions (wql.ActionSchema).
func (s *Store) QueryActions(ctx context.Context, q *wql.Query) ([]*catalog.Action, string, error) {
	return queryCatalog[catalog.Action](ctx, s, "ACTIONS", "actionKey", q)
}

func queryCatalog[T any](ctx context.Context, s *Store, kind, keyField string, q *wql.Query) ([]*T, string, error) {
	var docs []map[string]any
	raw := map[string]string{} // position id → stored document, decoded as is (no float64 round trip)
	err := s.query(ctx, "catalog "+kind, &dynamodb.QueryInput{
		IndexName:                 aws.String(IndexByTrigger),
		KeyConditionExpression:    aws.String("#gsi1pk = :pk"),
		ExpressionAttributeNames:  names("#gsi1pk"),
		ExpressionAttributeValues: item{":pk": str(catalogIndexKey(kind))},
	}, func(it item) error {
		d := getStr(it, attrDoc)
		var m map[string]any
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			return fmt.Errorf("decode stored catalog %s record: %w", kind, err)
		}
		raw[wql.CatalogPosition(m, keyField)] = d
		docs = append(docs, m)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return pageDocuments[T](q, docs, raw, "catalog "+kind+" record")
}
