package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// An activation is stored as several items of its own partition ACT#<id>:
//
//	sk ACT           the activation as created (doc) plus its mutable state as attributes: status,
//	                 openBranches, failedActions, updatedDate, endedInfo, cancelledInfo, logSeq,
//	                 lastCommitAt; and the keys of the activation indexes (gsi2…gsi5)
//	sk ACT#STARTED   startedInfo, apart because it carries a copy of the payload: beside a document that
//	                 already holds the payload and the frozen automation it could push one item past 400 KB
//	sk BRANCH#<id>   one branch: version (the commit guard), state, dueAt, doc
//	sk LOG#<action>  one action log: seq (first-write order), doc
//
// The activation's document is never rewritten after creation: a step changes only small attributes, so
// a commit costs the same whatever the size of the payload and the automation.
const skStarted = skActivation + "#STARTED"

// terminalStatuses are the statuses run.Status.Terminal accepts; commit conditions refuse them.
var terminalStatuses = []run.Status{run.StatusEnded, run.StatusCancelled, run.StatusFailed, run.StatusSkipped}

// notTerminalCond is the condition every write to a live activation carries, with its values.
func notTerminalCond() (string, item) {
	vals := item{}
	ph := make([]string, len(terminalStatuses))
	for i, st := range terminalStatuses {
		ph[i] = fmt.Sprintf(":term%d", i)
		vals[ph[i]] = str(string(st))
	}
	return "attribute_exists(#pk) AND NOT (#status IN (" + strings.Join(ph, ", ") + "))", vals
}

// removePending drops an activation from the pending indexes: part of every write that makes it terminal.
const removePending = " REMOVE #gsi4pk, #gsi4sk, #gsi5pk, #gsi5sk"

func merge(into item, from ...item) item {
	for _, f := range from {
		for k, v := range f {
			into[k] = v
		}
	}
	return into
}

func formatTime(t time.Time) string { return t.Format(time.RFC3339Nano) }

// parseTime reads what formatTime wrote, the way encoding/json decodes times (the SQLite store's
// documents go through it), so both stores hand back equal times.
func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// CreateActivations stores activations and their root branches, all or nothing; see createActivations.
func (s *Store) CreateActivations(ctx context.Context, news []run.NewActivation) error {
	return s.createActivations(ctx, news, nil)
}

const onceItem = "idempotency key"

// CreateActivationsOnce is CreateActivations behind an idempotency key: when an unexpired record for
// (once.Scope, once.Key) exists it writes nothing and returns the first call's activation ids with
// fresh=false. The record is written in the same transaction as the activations (the last one, when the
// batch needs several), conditional on no unexpired record, so of concurrent duplicates exactly one
// creates its activations and the others read its ids.
//
// "Unexpired" is judged by the caller's clock (once.CreatedDate), as SQLite does; the record also carries
// the TTL attribute, so DynamoDB deletes it some time after ExpiresAt.
func (s *Store) CreateActivationsOnce(ctx context.Context, once run.Once, news []run.NewActivation) ([]string, bool, error) {
	what := fmt.Sprintf("idempotency key %q of %s", once.Key, once.Scope)
	doc, err := encodeDoc(what, &once)
	if err != nil {
		return nil, false, err
	}
	pk, sk := onceKey(once.Scope, once.Key)
	it := merge(newItem("idempotencyKey", pk, sk, doc), item{
		AttrExpiresAt:     num(int64(math.Ceil(float64(once.ExpiresAt.UnixMilli()) / 1000))),
		attrOnceExpiresMs: num(once.ExpiresAt.UnixMilli()),
	})
	created := num(once.CreatedDate.UnixMilli())
	for attempt := 1; ; attempt++ {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
			Key: keyAttrs(pk, sk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, false, fmt.Errorf("dynamodb get %s: %w", what, err)
		}
		if exp, ok := getNum(out.Item, attrOnceExpiresMs); ok && exp > once.CreatedDate.UnixMilli() {
			var prev run.Once
			if err := decodeDoc(out.Item, what, &prev); err != nil {
				return nil, false, err
			}
			return prev.ActivationIDs, false, nil
		}
		t := s.newTxn()
		t.put(onceItem, it, "attribute_not_exists(#pk) OR #onceExpiresMs <= :created", item{":created": created})
		err = s.createActivations(ctx, news, t)
		if err == nil {
			return once.ActivationIDs, true, nil
		}
		// A concurrent duplicate recorded the key first: read its ids. Any other failure is the caller's.
		if !failedOn(err, onceItem) || attempt == 3 {
			return nil, false, err
		}
	}
}

// createActivations writes activations with their branches, and tail (if any) in the last transaction.
// One transaction holds at most 100 items and 4 MB, so a large batch is written as several transactions
// of whole activations; if one fails, the ones already written are deleted again before the error is
// returned. Nobody can have seen them yet: their ids are fresh, no runner is told about them until this
// call returns, and the idempotency record that would reveal them is written last.
func (s *Store) createActivations(ctx context.Context, news []run.NewActivation, tail *txn) error {
	seen := map[string]bool{}
	units := make([]*txn, 0, len(news)+1)
	for i := range news {
		one, err := s.activationItems(&news[i], seen)
		if err != nil {
			return err
		}
		units = append(units, one)
	}
	if tail != nil {
		units = append(units, tail)
	}
	var groups []*txn
	cur := s.newTxn()
	for _, u := range units {
		if len(cur.items) > 0 && (len(cur.items)+len(u.items) > maxTxnItems || cur.bytes+u.bytes > maxTxnBytes) {
			groups = append(groups, cur)
			cur = s.newTxn()
		}
		cur.items = append(cur.items, u.items...)
		cur.names = append(cur.names, u.names...)
		cur.bytes += u.bytes
	}
	groups = append(groups, cur)
	for gi, g := range groups {
		if err := s.transact(ctx, "create activations", g); err != nil {
			if gi > 0 {
				err = errors.Join(err, s.undoCreate(ctx, groups[:gi]))
			}
			return err
		}
	}
	return nil
}

// activationItems builds the create-if-absent puts of one activation and its branches. A key repeated
// within the batch is errs.ErrConflict here: DynamoDB refuses a transaction naming one item twice with a
// ValidationException, where SQLite reports the duplicate key.
func (s *Store) activationItems(n *run.NewActivation, seen map[string]bool) (*txn, error) {
	a := &n.Activation
	t := s.newTxn()
	cond, vals := s.absentCond()
	claim := func(pk, sk, what string) error {
		if seen[pk+"\x00"+sk] {
			return fmt.Errorf("%s appears twice: %w", what, errs.ErrConflict)
		}
		seen[pk+"\x00"+sk] = true
		return nil
	}
	what := "activation " + a.ID
	doc, err := encodeDoc(what, a)
	if err != nil {
		return nil, err
	}
	pk, sk := activationKey(a.ID)
	if err := claim(pk, sk, what); err != nil {
		return nil, err
	}
	created := createdSortKey(a.CreatedDate.UnixMilli(), a.ID)
	it := merge(newItem("activation", pk, sk, doc), item{
		attrStatus:        str(string(a.Status)),
		attrOpenBranches:  num(int64(a.OpenBranches)),
		attrFailedActions: num(int64(a.FailedActions)),
		attrUpdatedDate:   str(formatTime(a.UpdatedDate)),
		attrLogSeq:        num(0),
		attrSiteID:        str(a.SiteID),
		attrAutomationID:  str(a.AutomationID),
		AttrGSI2PK:        str(activationsBySite(a.SiteID)),
		AttrGSI2SK:        str(created),
		AttrGSI3PK:        str(activationsByAutomation(a.SiteID, a.AutomationID)),
		AttrGSI3SK:        str(created),
	})
	if !a.Status.Terminal() {
		it[AttrGSI5PK], it[AttrGSI5SK] = str(pendingByAutomation(a.SiteID, a.AutomationID)), str(created)
		if a.ExternalEntityID != "" { // SQLite's entity index skips activations without an entity too
			it[AttrGSI4PK] = str(pendingByEntity(a.SiteID, a.TriggerAppID, a.TriggerKey, a.ExternalEntityID))
			it[AttrGSI4SK] = str(created)
		}
	}
	if a.Infos.Ended != nil {
		if err := setJSON(it, attrEndedInfo, what, a.Infos.Ended); err != nil {
			return nil, err
		}
	}
	if a.Infos.Cancelled != nil {
		if err := setJSON(it, attrCancelledInfo, what, a.Infos.Cancelled); err != nil {
			return nil, err
		}
	}
	t.put(what, it, cond, vals)
	if a.Infos.Started != nil {
		started, err := encodeDoc(what+" startedInfo", a.Infos.Started)
		if err != nil {
			return nil, err
		}
		t.put(what+" startedInfo", newItem("activationStarted", pk, skStarted, started), cond, vals)
	}
	for j := range n.Branches {
		b := &n.Branches[j]
		bwhat := fmt.Sprintf("branch %s/%s", b.ActivationID, b.ID)
		bit, err := branchItem(b, bwhat)
		if err != nil {
			return nil, err
		}
		if err := claim(getStr(bit, AttrPK), getStr(bit, AttrSK), bwhat); err != nil {
			return nil, err
		}
		if !a.Status.Terminal() {
			s.markUnstarted(bit, b) // cleared by the branch's first step; see unstarted.go
		}
		t.put(bwhat, bit, cond, vals)
	}
	return t, nil
}

// setJSON stores v as JSON in one attribute of it.
func setJSON(it item, attr, what string, v any) error {
	doc, err := encodeDoc(what+" "+attr, v)
	if err != nil {
		return err
	}
	it[attr] = str(doc)
	return nil
}

// undoCreate deletes what earlier transactions of a failed createActivations wrote. It runs even if the
// caller's context is done (the failure may be that very cancellation), within a bound of its own.
func (s *Store) undoCreate(ctx context.Context, done []*txn) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errList []error
	for _, g := range done {
		u := s.newTxn()
		for i, w := range g.items {
			u.delete("undo "+g.names[i], keyAttrs(getStr(w.Put.Item, AttrPK), getStr(w.Put.Item, AttrSK)), "", nil)
		}
		if err := s.transact(ctx, "undo create activations", u); err != nil {
			errList = append(errList, err)
		}
	}
	if len(errList) > 0 {
		return fmt.Errorf("create activations: undoing the part already written failed, leaving orphan activations: %w",
			errors.Join(errList...))
	}
	return nil
}

// GetActivation reads an activation: one strongly consistent Query of the items ACT and ACT#STARTED.
//
// An activation whose branches have all ended but that is not yet ENDED is normally a commit between its
// transaction and its FinishIfDrained (milliseconds). Once that state is older than drainGrace the
// committer must have died in between, and the reader finishes the activation itself; see FinishIfDrained.
func (s *Store) GetActivation(ctx context.Context, id string) (*run.Activation, error) {
	a, lastCommit, err := s.readActivation(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.Status.Terminal() && a.OpenBranches <= 0 && !lastCommit.IsZero() && s.now().Sub(lastCommit) > drainGrace {
		if ended, err := s.FinishIfDrained(ctx, id, s.now().UTC()); err != nil {
			return nil, err
		} else if ended {
			if a, _, err = s.readActivation(ctx, id); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

// drainGrace is how long an activation may sit with no open branch before a reader finishes it. It only
// has to exceed the gap between a commit's transaction and its own FinishIfDrained call.
const drainGrace = 30 * time.Second

func (s *Store) readActivation(ctx context.Context, id string) (*run.Activation, time.Time, error) {
	what := "activation " + id
	pk, _ := activationKey(id)
	var main, started item
	err := s.query(ctx, what, &dynamodb.QueryInput{
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :act)"),
		ExpressionAttributeNames:  names("#pk #sk"),
		ExpressionAttributeValues: item{":pk": str(pk), ":act": str(skActivation)},
	}, func(it item) error {
		switch getStr(it, AttrSK) {
		case skActivation:
			main = it
		case skStarted:
			started = it
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	if main == nil {
		return nil, time.Time{}, fmt.Errorf("%s: %w", what, errs.ErrNotFound)
	}
	return decodeActivation(what, main, started)
}

// decodeActivation assembles an activation from its ACT item (document and mutable attributes) and its
// ACT#STARTED item (nil if it has not started). It also returns when it was last committed (zero if never).
func decodeActivation(what string, main, started item) (*run.Activation, time.Time, error) {
	var a run.Activation
	if err := decodeDoc(main, what, &a); err != nil {
		return nil, time.Time{}, err
	}
	a.Status = run.Status(getStr(main, attrStatus))
	open, _ := getNum(main, attrOpenBranches)
	failed, _ := getNum(main, attrFailedActions)
	a.OpenBranches, a.FailedActions = int(open), int(failed)
	if v := getStr(main, attrUpdatedDate); v != "" {
		var err error
		if a.UpdatedDate, err = parseTime(v); err != nil {
			return nil, time.Time{}, fmt.Errorf("decode stored %s updatedDate: %w", what, err)
		}
	}
	for attr, into := range map[string]any{attrEndedInfo: &a.Infos.Ended, attrCancelledInfo: &a.Infos.Cancelled} {
		if v := getStr(main, attr); v != "" {
			if err := json.Unmarshal([]byte(v), into); err != nil {
				return nil, time.Time{}, fmt.Errorf("decode stored %s %s: %w", what, attr, err)
			}
		}
	}
	if l, ok := main[attrWarnings].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			sv, ok := v.(*types.AttributeValueMemberS)
			if !ok {
				continue
			}
			var w run.Warning
			if err := json.Unmarshal([]byte(sv.Value), &w); err != nil {
				return nil, time.Time{}, fmt.Errorf("decode stored %s warning: %w", what, err)
			}
			a.Warnings = run.AppendWarnings(a.Warnings, []run.Warning{w})
		}
	}
	if started != nil {
		a.Infos.Started = &run.StartedInfo{}
		if err := decodeDoc(started, what+" startedInfo", a.Infos.Started); err != nil {
			return nil, time.Time{}, err
		}
	}
	var lastCommit time.Time
	if ms, ok := getNum(main, attrLastCommitAt); ok {
		lastCommit = time.UnixMilli(ms)
	}
	return &a, lastCommit, nil
}
