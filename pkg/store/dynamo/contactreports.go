package dynamo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// The contact_updated outbox. A pending report is the item (CONTACTREPORT#<site>#<contact>, REV#<revision,
// 20 digits>): the contact as written at that revision, written by UpdateContact in the contact's
// transaction. Its own partition keeps it out of QueryContacts, which reads the whole CONTACTS#<site>
// partition.
//
// The drain finds due items through sparse keys on gsi2 (IndexActivationsBySite, KEYS_ONLY): gsi2pk =
// OUTBOX#CONTACT_UPDATED#<shard>, gsi2sk = <dueMs:13>#<site>#<contact>#<revision>. No activation key starts
// with OUTBOX (theirs are ACTS#<site>), and gsi5 — where the unstarted-branch keys go — stays untouched.
// Items are spread over contactReportShards partitions (by site and contact) so that a burst of updates
// does not write one index partition past its throughput; the drain queries every shard.
const (
	prefixContactReport = "CONTACTREPORT"
	prefixOutbox        = "OUTBOX"
	outboxContactUpdate = "CONTACT_UPDATED"
	attrAttempts        = "attempts"
	contactReportShards = 4
)

func contactReportKey(site, contactID string, revision int64) (string, string) {
	return key(prefixContactReport, site, contactID), key(prefixRevision, fmt.Sprintf("%020d", revision))
}

func contactReportShard(site, contactID string) string {
	h := fnv.New32a()
	h.Write([]byte(site + "/" + contactID))
	return key(prefixOutbox, outboxContactUpdate, strconv.Itoa(int(h.Sum32()%contactReportShards)))
}

func contactReportSortKey(due time.Time, site, contactID string, revision int64) string {
	return createdSortKey(due.UnixMilli(), key(site, contactID, strconv.FormatInt(revision, 10)))
}

// contactReportItem is the outbox item of one revision; doc is the contact's JSON as stored.
func contactReportItem(site, contactID string, revision int64, doc string, due time.Time, attempts int) item {
	pk, sk := contactReportKey(site, contactID, revision)
	it := newItem("contact report", pk, sk, doc)
	it[attrSiteID] = str(site)
	it[attrRevision] = num(revision)
	it[attrAttempts] = num(int64(attempts))
	it[attrDueAt] = num(due.UnixMilli())
	it[AttrGSI2PK] = str(contactReportShard(site, contactID))
	it[AttrGSI2SK] = str(contactReportSortKey(due, site, contactID, revision))
	return it
}

// ListDueContactReports returns up to limit pending reports of every site due at or before due, oldest due
// first: one Query per shard of gsi2 (sort key below the due time), then a BatchGetItem of the items. The
// index is eventually consistent, so a report written a moment ago may be missed until the next pass.
func (s *Store) ListDueContactReports(ctx context.Context, due time.Time, limit int) ([]contacts.PendingReport, error) {
	if limit <= 0 {
		return nil, nil
	}
	type entry struct{ sortKey, pk, sk string }
	var entries []entry
	hi := createdSortKey(due.UnixMilli()+1, "") // every key due at or before `due` sorts below this
	cond := "#" + AttrGSI2PK + " = :p AND #" + AttrGSI2SK + " < :hi"
	for shard := range contactReportShards {
		part := key(prefixOutbox, outboxContactUpdate, strconv.Itoa(shard))
		in := &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(IndexActivationsBySite),
			KeyConditionExpression: aws.String(cond), ExpressionAttributeNames: names(cond),
			ExpressionAttributeValues: item{":p": str(part), ":hi": str(hi)}, Limit: aws.Int32(int32(min(limit, 1000)))}
		// One page per shard is enough: its first `limit` keys are the shard's oldest.
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamodb query due contact reports of %s: %w", part, err)
		}
		for _, it := range out.Items {
			entries = append(entries, entry{getStr(it, AttrGSI2SK), getStr(it, AttrPK), getStr(it, AttrSK)})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.sortKey < b.sortKey:
			return -1
		case a.sortKey > b.sortKey:
			return 1
		}
		return 0
	})
	if len(entries) > limit {
		entries = entries[:limit]
	}
	if len(entries) == 0 {
		return nil, nil
	}
	keys := make([]item, 0, len(entries))
	for _, e := range entries {
		keys = append(keys, keyAttrs(e.pk, e.sk))
	}
	items, err := s.batchGet(ctx, "pending contact reports", keys)
	if err != nil {
		return nil, err
	}
	byKey := map[string]item{}
	for _, it := range items {
		byKey[getStr(it, AttrPK)+"\x00"+getStr(it, AttrSK)] = it
	}
	out := make([]contacts.PendingReport, 0, len(entries))
	for _, e := range entries {
		it, ok := byKey[e.pk+"\x00"+e.sk]
		if !ok {
			continue // reported and removed since the index was read
		}
		r := contacts.PendingReport{SiteID: getStr(it, attrSiteID), Contact: &contacts.Contact{}}
		if err := decodeDoc(it, "pending contact report "+e.pk, r.Contact); err != nil {
			return nil, err
		}
		r.Revision, _ = getNum(it, attrRevision)
		attempts, _ := getNum(it, attrAttempts)
		r.Attempts = int(attempts)
		dueMs, _ := getNum(it, attrDueAt)
		r.DueDate = time.UnixMilli(dueMs).UTC()
		if r.DueDate.After(due) {
			continue // deferred since the index was read
		}
		out = append(out, r)
	}
	return out, nil
}

// DeleteContactReport removes one revision's pending report (DeleteItem; absent is not an error). A newer
// revision's report is another item and stays.
func (s *Store) DeleteContactReport(ctx context.Context, siteID, contactID string, revision int64) error {
	pk, sk := contactReportKey(siteID, contactID, revision)
	return retryTransient(ctx, func() error {
		_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk)})
		return classify(err, fmt.Sprintf("delete contact report %s revision %d of site %s", contactID, revision, siteID))
	})
}

// DeferContactReport stores a failed report's next due date and attempt count (UpdateItem, moving its
// index key), only if the item still exists: a report removed meanwhile is never recreated.
func (s *Store) DeferContactReport(ctx context.Context, r contacts.PendingReport) error {
	pk, sk := contactReportKey(r.SiteID, r.Contact.ID, r.Revision)
	err := s.updateIf(ctx, fmt.Sprintf("defer contact report %s revision %d of site %s", r.Contact.ID, r.Revision, r.SiteID), pk, sk,
		"SET #attempts = :a, #dueAt = :due, #gsi2sk = :sk", "attribute_exists(#pk)",
		item{":a": num(int64(r.Attempts)), ":due": num(r.DueDate.UnixMilli()),
			":sk": str(contactReportSortKey(r.DueDate, r.SiteID, r.Contact.ID, r.Revision))})
	if errors.Is(err, errs.ErrConflict) {
		return nil
	}
	return err
}
