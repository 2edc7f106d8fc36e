package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// An automation is the item (SITE#<site>, AUTO#<id>): its document, its revision as a number (the guard
// of UpdateAutomation), and — while it is runnable — the trigger index keys. Every revision ever written
// is also an item of the automation's own partition, (AUTO#<site>#<id>, REV#<revision:020>), with a copy
// of the document: the site partition stays what QueryAutomations reads, and deleting an automation's
// history is one Query of one partition.
//
// Deleting first marks the automation (attribute deleting, and off the trigger index): from then on every
// read treats it as absent and every update fails, so its history can no longer grow and is deleted at
// leisure, the automation item last. See DeleteAutomation.

const (
	automationItem = "automation"
	revisionItem   = "revision"
)

// revisionOf is the automation's revision as a number; 0 when it has none or it is not a number, as in
// SQLite.
func revisionOf(a *automation.Automation) int64 {
	n, _ := strconv.ParseInt(a.Revision, 10, 64)
	return n
}

// automationItems builds the automation's item (with the trigger index keys when it is runnable) and the
// item recording its revision.
func automationItems(siteID string, a *automation.Automation) (auto, rev item, err error) {
	what := fmt.Sprintf("automation %s of site %s", a.ID, siteID)
	doc, err := encodeDoc(what, a)
	if err != nil {
		return nil, nil, err
	}
	revision := revisionOf(a)
	pk, sk := automationKey(siteID, a.ID)
	auto = newItem("automation", pk, sk, doc)
	auto[attrRevision] = num(revision)
	// The index is sparse: ReportEvent's Query reads exactly the automations that may start, and drafts
	// and inactive automations cost it nothing. A Put replaces the whole item, so an update that makes an
	// automation not runnable drops it from the index, and a new trigger moves it.
	if a.IsActive() && a.Configuration.Trigger != nil {
		trig := a.Configuration.Trigger
		auto[AttrGSI1PK] = str(triggerIndexKey(siteID, trig.AppID, trig.TriggerKey))
		auto[AttrGSI1SK] = str(key(prefixAuto, a.ID))
	}
	rpk, rsk := automationRevisionKey(siteID, a.ID, revision)
	rev = newItem("automationRevision", rpk, rsk, doc)
	return auto, rev, nil
}

// CreateAutomation stores a new automation of a site and records its revision, in one transaction;
// errs.ErrConflict when the id is taken on that site (and then nothing is written).
func (s *Store) CreateAutomation(ctx context.Context, siteID string, a *automation.Automation) error {
	auto, rev, err := automationItems(siteID, a)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("automation %s of site %s", a.ID, siteID)
	for attempt := 1; ; attempt++ {
		t := s.newTxn()
		cond, vals := s.absentCond()
		t.put(automationItem, auto, cond, vals)
		t.put(revisionItem, rev, "", nil)
		err = s.transact(ctx, "create "+what, t)
		if !failedOn(err, automationItem) || attempt > 1 {
			return err
		}
		// The id is taken; by a deletion that died half-way, it is finished first.
		pk, sk := automationKey(siteID, a.ID)
		cur, gerr := s.get(ctx, what, pk, sk)
		if errors.Is(gerr, errs.ErrNotFound) {
			continue // deleted meanwhile
		}
		if gerr != nil || !deleting(cur) {
			return err
		}
		if err := s.purgeAutomation(ctx, siteID, a.ID); err != nil {
			return err
		}
	}
}

// deleting reports whether an automation item is marked for deletion: every reader treats it as absent.
func deleting(it item) bool {
	_, ok := it[attrDeleting]
	return ok
}

// UpdateAutomation replaces a site's automation if its stored revision is expectedRevision (a.Revision is
// the next one, set by the caller) and records the new revision: one transaction of the conditional Put
// of the automation (which carries the trigger index keys of the new document, or none) and the Put of the
// revision item. errs.ErrNotFound when the automation does not exist on that site (or is being deleted),
// errs.ErrConflict when its revision is not expectedRevision; nothing is written then.
func (s *Store) UpdateAutomation(ctx context.Context, siteID string, a *automation.Automation, expectedRevision int64) error {
	what := fmt.Sprintf("update automation %s of site %s", a.ID, siteID)
	auto, rev, err := automationItems(siteID, a)
	if err != nil {
		return err
	}
	pk, sk := automationKey(siteID, a.ID)
	const live = " AND attribute_not_exists(#deleting)"
	cond, vals := "#revision = :expected"+live, item{":expected": num(expectedRevision)}
	for attempt := 1; ; attempt++ {
		t := s.newTxn()
		t.put(automationItem, auto, cond, vals)
		t.put(revisionItem, rev, "", nil)
		err = s.transact(ctx, what, t)
		if !failedOn(err, automationItem) {
			return err
		}
		// Absent, stale, changed between the write and this read, or an item written before automations
		// carried their revision as an attribute (then the replacement is guarded by the document read).
		cur, err := s.get(ctx, fmt.Sprintf("automation %s of site %s", a.ID, siteID), pk, sk)
		if err != nil {
			return err // errs.ErrNotFound when absent
		}
		if deleting(cur) {
			return fmt.Errorf("automation %s of site %s: %w", a.ID, siteID, errs.ErrNotFound)
		}
		stored, ok := getNum(cur, attrRevision)
		if !ok {
			var old automation.Automation
			if err := decodeDoc(cur, "automation "+a.ID, &old); err != nil {
				return err
			}
			stored = revisionOf(&old)
			cond, vals = "attribute_not_exists(#revision) AND #doc = :doc"+live, item{":doc": cur[attrDoc]}
		} else {
			cond, vals = "#revision = :expected"+live, item{":expected": num(expectedRevision)}
		}
		if stored != expectedRevision || attempt == retryAttempts {
			return fmt.Errorf("automation %s of site %s is at revision %d, not %d: %w", a.ID, siteID, stored,
				expectedRevision, errs.ErrConflict)
		}
	}
}

// DeleteAutomation removes a site's automation and its revision history; errs.ErrNotFound when absent.
//
// It never conflicts with concurrent updates, however many: one UpdateItem first marks the automation
// (deleting, trigger index keys removed), after which GetAutomation, QueryAutomations and
// ListTriggerAutomations no longer see it and every UpdateAutomation fails with errs.ErrNotFound. An
// update that committed before the mark wrote its revision item before it, so the strongly consistent
// Query that follows reads the whole history; it is deleted in batches, and the automation item last.
// Of concurrent deletes one returns nil, the others errs.ErrNotFound, as in SQLite.
//
// A deletion that dies half-way leaves the marked automation (absent to every reader) and part of its
// history, which GetAutomationRevision can still read; the next DeleteAutomation of the id (which returns
// errs.ErrNotFound) or CreateAutomation of it finishes the deletion.
func (s *Store) DeleteAutomation(ctx context.Context, siteID, id string) error {
	what := fmt.Sprintf("automation %s of site %s", id, siteID)
	pk, sk := automationKey(siteID, id)
	update, cond := "SET #deleting = :now REMOVE #gsi1pk, #gsi1sk", "attribute_exists(#pk)"
	var old item
	err := retryTransient(ctx, func() error {
		out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk),
			UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames:  names(update, cond),
			ExpressionAttributeValues: item{":now": num(s.now().UnixMilli())},
			ReturnValues:              types.ReturnValueUpdatedOld})
		if err == nil {
			old = out.Attributes
		}
		return classify(err, "mark "+what+" for deletion")
	})
	if errors.Is(err, errs.ErrConflict) {
		return fmt.Errorf("%s: %w", what, errs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if err := s.purgeAutomation(ctx, siteID, id); err != nil {
		return err
	}
	if deleting(old) { // marked already: another deletion's (concurrent, or one that died half-way)
		return fmt.Errorf("%s: %w", what, errs.ErrNotFound)
	}
	return nil
}

// purgeAutomation deletes the history of an automation marked for deletion, then the automation.
func (s *Store) purgeAutomation(ctx context.Context, siteID, id string) error {
	what := fmt.Sprintf("automation %s of site %s", id, siteID)
	var revs []item
	err := s.query(ctx, "revisions of "+what, &dynamodb.QueryInput{
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ProjectionExpression:      aws.String("#pk, #sk"),
		ExpressionAttributeNames:  names("#pk #sk"),
		ExpressionAttributeValues: item{":pk": str(automationRevisions(siteID, id))},
	}, func(it item) error {
		revs = append(revs, keyAttrs(getStr(it, AttrPK), getStr(it, AttrSK)))
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.batchDelete(ctx, "revisions of "+what, revs); err != nil {
		return err
	}
	pk, sk := automationKey(siteID, id)
	cond := "attribute_exists(#deleting)" // never a new automation of the id (it cannot exist before this)
	err = retryTransient(ctx, func() error {
		_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk),
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: names(cond)})
		return classify(err, "delete "+what)
	})
	if errors.Is(err, errs.ErrConflict) {
		return nil // a concurrent deletion deleted it first
	}
	return err
}

// batchDelete deletes items by key with BatchWriteItem (25 a call), retrying what DynamoDB leaves
// unprocessed.
func (s *Store) batchDelete(ctx context.Context, what string, keys []item) error {
	for start := 0; start < len(keys); start += 25 {
		var reqs []types.WriteRequest
		for _, k := range keys[start:min(start+25, len(keys))] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		}
		req := map[string][]types.WriteRequest{s.table: reqs}
		wait := retryBase
		for attempt := 1; len(req) > 0; attempt++ {
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
			if err != nil {
				return fmt.Errorf("dynamodb batch delete %s: %w", what, err)
			}
			req = out.UnprocessedItems
			if len(req) == 0 {
				break
			}
			if attempt == retryAttempts {
				return fmt.Errorf("dynamodb batch delete %s: items still unprocessed after %d attempts", what, attempt)
			}
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			wait = min(2*wait, retryMax)
		}
	}
	return nil
}

// GetAutomation reads one automation of a site: the site is part of the key, so another site's automation
// is simply not found.
func (s *Store) GetAutomation(ctx context.Context, siteID, id string) (*automation.Automation, error) {
	var a automation.Automation
	pk, sk := automationKey(siteID, id)
	what := fmt.Sprintf("automation %s of site %s", id, siteID)
	it, err := s.getDoc(ctx, what, pk, sk, &a)
	if err != nil {
		return nil, err
	}
	if deleting(it) {
		return nil, fmt.Errorf("%s: %w", what, errs.ErrNotFound)
	}
	return &a, nil
}

// GetAutomationRevision reads one recorded revision of a site's automation; errs.ErrNotFound when absent.
func (s *Store) GetAutomationRevision(ctx context.Context, siteID, id string, revision int64) (*automation.Automation, error) {
	var a automation.Automation
	pk, sk := automationRevisionKey(siteID, id, revision)
	what := fmt.Sprintf("revision %d of automation %s of site %s", revision, id, siteID)
	if _, err := s.getDoc(ctx, what, pk, sk, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// QueryAutomations pages through the automations of a view with a WQL query. It reads every automation of
// the site — one strongly consistent, paginated Query of the site's partition (begins_with AUTO#, so
// installations are skipped, and revisions live elsewhere) — and of each preinstalled tenant of the view, and
// evaluates the query in memory with [wql.Query.Page]: DynamoDB can neither sort on a field of a JSON
// document nor resume at a WQL cursor. The cost is the view's automations in read units and memory on every
// page; a site has tens of them.
func (s *Store) QueryAutomations(ctx context.Context, v automation.View, q *wql.Query) ([]*automation.Automation, string, error) {
	var docs []map[string]any
	raw := map[string]string{} // id → stored document, decoded as is for the page (no float64 round trip)
	for i, tenant := range append([]string{v.SiteID}, v.Preinstalled...) {
		own := i == 0
		err := s.query(ctx, "automations of "+tenant, &dynamodb.QueryInput{
			ConsistentRead:            aws.Bool(true),
			KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :auto)"),
			ProjectionExpression:      aws.String("#doc, #expiresAt, #deleting"),
			ExpressionAttributeNames:  names("#pk #sk #doc #expiresAt #deleting"),
			ExpressionAttributeValues: item{":pk": str(key(prefixSite, tenant)), ":auto": str(prefixAuto + "#")},
		}, func(it item) error {
			if deleting(it) {
				return nil
			}
			d := getStr(it, attrDoc)
			var m map[string]any
			if err := json.Unmarshal([]byte(d), &m); err != nil {
				return fmt.Errorf("decode stored automation of %s: %w", tenant, err)
			}
			if di, isDraft := m["draftInfo"].(map[string]any); m["draftInfo"] != nil {
				// Drafts are listed by ListDrafts; only a view asking for standalone ones queries those.
				if !own || !v.StandaloneDrafts || !isDraft || di["originalAutomationId"] != nil {
					return nil
				}
			}
			id, _ := m["id"].(string)
			if _, shadowed := raw[id]; shadowed {
				return nil // the site's own automation replaces the preinstalled one
			}
			raw[id] = d
			docs = append(docs, m)
			return nil
		})
		if err != nil {
			return nil, "", err
		}
	}
	return pageDocuments[automation.Automation](q, docs, raw, "automation of site "+v.SiteID)
}

// ListTriggerAutomations returns the site's runnable automations on (appID, triggerKey): one Query of the
// trigger index, whose partition key is (site, app, trigger), never a scan.
//
// The index is eventually consistent: an automation created (or updated) a moment ago may be missed, or
// still be listed as it was, by an event reported in the same instant (SQLite's index is consistent). The
// engine re-checks IsActive on each one.
func (s *Store) ListTriggerAutomations(ctx context.Context, siteID, appID, k string) ([]*automation.Automation, error) {
	in := &dynamodb.QueryInput{
		IndexName:                 aws.String(IndexByTrigger),
		KeyConditionExpression:    aws.String("#gsi1pk = :p"),
		ExpressionAttributeNames:  names("#gsi1pk"),
		ExpressionAttributeValues: item{":p": str(triggerIndexKey(siteID, appID, k))},
	}
	var out []*automation.Automation
	err := s.query(ctx, "trigger automations", in, func(it item) error {
		if deleting(it) {
			return nil // the index has yet to drop it
		}
		var a automation.Automation
		if err := decodeDoc(it, "automation", &a); err != nil {
			return err
		}
		out = append(out, &a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListDrafts returns a site's draft automations (read from the site partition, like QueryAutomations).
func (s *Store) ListDrafts(ctx context.Context, siteID string) ([]*automation.Automation, error) {
	out := []*automation.Automation{}
	err := s.query(ctx, "drafts of site "+siteID, &dynamodb.QueryInput{
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :auto)"),
		ProjectionExpression:      aws.String("#doc, #expiresAt, #deleting"),
		ExpressionAttributeNames:  names("#pk #sk #doc #expiresAt #deleting"),
		ExpressionAttributeValues: item{":pk": str(key(prefixSite, siteID)), ":auto": str(prefixAuto + "#")},
	}, func(it item) error {
		if deleting(it) {
			return nil
		}
		var a automation.Automation
		if err := json.Unmarshal([]byte(getStr(it, attrDoc)), &a); err != nil {
			return fmt.Errorf("decode stored automation of site %s: %w", siteID, err)
		}
		if a.DraftInfo != nil {
			out = append(out, &a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
