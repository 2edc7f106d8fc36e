package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// ListActivations pages through a site's activations (optionally of one automation) created in
// [From, To), newest first (ties: greater id first), as SQLite does; its cursors have SQLite's format too.
//
// One Query of the site's (or the automation's) activation index, descending from min(To, cursor) and
// stopping at From, reads Limit+1 keys; one BatchGetItem then reads those activations. The index is
// eventually consistent: an activation created a moment ago may be missing from the first page.
func (s *Store) ListActivations(ctx context.Context, q run.ActivationQuery) ([]run.Activation, string, error) {
	index, pkAttr, skAttr, part := IndexActivationsBySite, AttrGSI2PK, AttrGSI2SK, activationsBySite(q.SiteID)
	if q.AutomationID != "" {
		index, pkAttr, skAttr = IndexActivationsByAutomation, AttrGSI3PK, AttrGSI3SK
		part = activationsByAutomation(q.SiteID, q.AutomationID)
	}
	// Every sort key of an activation created before To is below "<To>#" (the id follows the '#').
	hi := createdSortKey(q.To.UnixMilli(), "")
	if q.Cursor != "" {
		at, id, err := run.DecodeActivationCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		hi = min(hi, createdSortKey(at, id))
	}
	lo := createdSortKey(q.From.UnixMilli(), "")
	if q.Limit <= 0 || hi <= lo {
		return nil, "", nil
	}
	cond := "#" + pkAttr + " = :p AND #" + skAttr + " < :hi"
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(index),
		KeyConditionExpression: aws.String(cond), ExpressionAttributeNames: names(cond),
		ExpressionAttributeValues: item{":p": str(part), ":hi": str(hi)},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(min(q.Limit+1, 1000)))}
	type entry struct{ pk, sortKey string }
	var entries []entry
	p := dynamodb.NewQueryPaginator(s.db, in)
read:
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("dynamodb query activations of %s: %w", part, err)
		}
		for _, it := range page.Items {
			sk := getStr(it, skAttr)
			if sk < lo {
				break read // created before From
			}
			entries = append(entries, entry{pk: getStr(it, AttrPK), sortKey: sk})
			if len(entries) > q.Limit {
				break read // one more than a page: there is a next page
			}
		}
	}
	var next string
	if len(entries) > q.Limit {
		last := entries[q.Limit-1].sortKey
		ms, _ := strconv.ParseInt(last[:13], 10, 64)
		next = run.EncodeActivationCursor(ms, last[14:])
		entries = entries[:q.Limit]
	}
	if len(entries) == 0 {
		return nil, "", nil
	}

	keys := make([]item, 0, 2*len(entries))
	for _, e := range entries {
		keys = append(keys, keyAttrs(e.pk, skActivation), keyAttrs(e.pk, skStarted))
	}
	items, err := s.batchGet(ctx, "activations", keys)
	if err != nil {
		return nil, "", err
	}
	mains, starts := map[string]item{}, map[string]item{}
	for _, it := range items {
		if getStr(it, AttrSK) == skStarted {
			starts[getStr(it, AttrPK)] = it
		} else {
			mains[getStr(it, AttrPK)] = it
		}
	}
	out := make([]run.Activation, 0, len(entries))
	for _, e := range entries {
		main, ok := mains[e.pk]
		if !ok {
			continue // deleted since the index was read (an undone create): the index lags the table
		}
		a, _, err := decodeActivation("activation "+e.pk, main, starts[e.pk])
		if err != nil {
			return nil, "", err
		}
		out = append(out, *a)
	}
	return out, next, nil
}

// pageDocuments pages a partition's documents with a WQL query and decodes the page from the stored text
// (raw, by the id each document has in docs) rather than from the maps, so numbers keep their precision.
func pageDocuments[T any](q *wql.Query, docs []map[string]any, raw map[string]string, what string) ([]*T, string, error) {
	page, next, err := q.Page(docs)
	if err != nil {
		return nil, "", err
	}
	out := make([]*T, 0, len(page))
	for _, m := range page {
		id, _ := m["id"].(string)
		var v T
		if err := json.Unmarshal([]byte(raw[id]), &v); err != nil {
			return nil, "", fmt.Errorf("decode stored %s %s: %w", what, id, err)
		}
		out = append(out, &v)
	}
	return out, next, nil
}
