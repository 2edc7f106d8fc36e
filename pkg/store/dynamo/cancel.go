package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// CancelActivations cancels every pending activation matching c (an event's entity, an automation, or
// one activation by id):
// each becomes CANCELLED with cancelledInfo and openBranches 0, and its unfinished branches DONE (version
// + 1), so no step will commit on it again. It returns the branches that were still running, for
// runtimes that must stop executions.
//
// The candidates come from a sparse pending index (an entity's, or an automation's), which is eventually
// consistent: an activation created in the same instant may be missed, as it could be created just after
// the cancellation anyway. Each activation is cancelled in one transaction of its own — the activation
// (only if not terminal) with its unfinished branches (only if still at the version read) — so a step
// committing at the same moment either lands before (and the cancellation re-reads the branch) or is
// refused. Unlike SQLite, several activations are not cancelled atomically together.
func (s *Store) CancelActivations(ctx context.Context, c run.Cancellation) ([]run.BranchRef, error) {
	var index, pkAttr, part string
	switch {
	case c.ActivationID != "":
		// One activation: read it directly (strongly consistent), and only on the caller's site.
		pk, sk := activationKey(c.ActivationID)
		it, err := s.get(ctx, "activation "+c.ActivationID, pk, sk)
		if errors.Is(err, errs.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if getStr(it, attrSiteID) != c.SiteID {
			return nil, nil
		}
		return s.cancelOne(ctx, pk, c)
	case c.AutomationID != "":
		index, pkAttr, part = IndexPendingByAutomation, AttrGSI5PK, pendingByAutomation(c.SiteID, c.AutomationID)
	case c.ExternalEntityID != "":
		index, pkAttr = IndexPendingByEntity, AttrGSI4PK
		part = pendingByEntity(c.SiteID, c.TriggerAppID, c.TriggerKey, c.ExternalEntityID)
	default:
		return nil, nil // SQLite matches no activation without an entity either
	}
	var pks []string
	cond := "#" + pkAttr + " = :p"
	err := s.query(ctx, "pending activations of "+part, &dynamodb.QueryInput{IndexName: aws.String(index),
		KeyConditionExpression: aws.String(cond), ExpressionAttributeNames: names(cond),
		ExpressionAttributeValues: item{":p": str(part)}}, func(it item) error {
		pks = append(pks, getStr(it, AttrPK))
		return nil
	})
	if err != nil {
		return nil, err
	}
	var refs []run.BranchRef
	for _, pk := range pks {
		r, err := s.cancelOne(ctx, pk, c)
		if err != nil {
			return refs, err
		}
		refs = append(refs, r...)
	}
	return refs, nil
}

// cancelOne cancels the activation of partition pk unless it is terminal by now.
func (s *Store) cancelOne(ctx context.Context, pk string, c run.Cancellation) ([]run.BranchRef, error) {
	what := "cancel activation " + pk
	info, err := encodeDoc("cancelledInfo", &run.CancelledInfo{Reason: c.Reason, Initiator: c.Initiator, StatusChangedDate: c.Now})
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		it, err := s.get(ctx, "activation "+pk, pk, skActivation)
		if errors.Is(err, errs.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if run.Status(getStr(it, attrStatus)).Terminal() {
			return nil, nil // ended or cancelled since the index was read
		}
		open, err := s.unfinishedBranches(ctx, pk)
		if err != nil {
			return nil, err
		}
		t := s.newTxn()
		update := "SET #status = :cancelled, #cancelledInfo = :info, #openBranches = :zero, #updatedDate = :now" + removePending
		live, vals := notTerminalCond()
		t.update("activation", keyAttrs(pk, skActivation), update, live, merge(vals, item{
			":cancelled": str(string(run.StatusCancelled)), ":info": str(info), ":zero": num(0),
			":now": str(formatTime(c.Now))}))
		// One transaction holds 100 items. More unfinished branches than that is possible only in a
		// pathological automation (all of its 100 actions running in parallel); the rest are ended after
		// the activation, which is safe: a CANCELLED activation refuses every commit anyway.
		first := open[:min(len(open), maxTxnItems-1)]
		for _, b := range first {
			if err := s.putDone(t, b, c); err != nil {
				return nil, err
			}
		}
		err = s.transact(ctx, what, t)
		if failedOn(err, "activation") {
			return nil, nil // it became terminal meanwhile: not ours to cancel
		}
		if errors.Is(err, errs.ErrConflict) && attempt < retryAttempts {
			continue // a step moved a branch: read again
		}
		if err != nil {
			return nil, err
		}
		for _, b := range open[len(first):] {
			if err := s.finishBranch(ctx, b, c); err != nil {
				return nil, err
			}
		}
		refs := make([]run.BranchRef, len(open))
		for i, b := range open {
			refs[i] = run.BranchRef{ActivationID: b.ActivationID, BranchID: b.ID}
		}
		return refs, nil
	}
}

// unfinishedBranches reads the activation's branches that are not DONE.
func (s *Store) unfinishedBranches(ctx context.Context, pk string) ([]run.Branch, error) {
	var out []run.Branch
	err := s.query(ctx, "branches of "+pk, &dynamodb.QueryInput{ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :b)"),
		ExpressionAttributeNames:  names("#pk #sk"),
		ExpressionAttributeValues: item{":pk": str(pk), ":b": str(prefixBranch + "#")},
	}, func(it item) error {
		if run.BranchState(getStr(it, attrState)) == run.BranchDone {
			return nil
		}
		var b run.Branch
		if err := decodeDoc(it, "branch", &b); err != nil {
			return err
		}
		out = append(out, b)
		return nil
	})
	return out, err
}

// putDone adds to t the write that ends branch b, guarded by the version it was read at.
func (s *Store) putDone(t *txn, b run.Branch, c run.Cancellation) error {
	prev := b.Version
	b.State, b.DueAt, b.Version = run.BranchDone, c.Now, b.Version+1
	it, err := branchItem(&b, fmt.Sprintf("branch %s/%s", b.ActivationID, b.ID))
	if err != nil {
		return err
	}
	t.put("branch "+b.ID, it, "#version = :prev", item{":prev": num(prev)})
	return nil
}

// finishBranch ends one branch of a cancelled activation on its own, re-reading it when it moved.
func (s *Store) finishBranch(ctx context.Context, b run.Branch, c run.Cancellation) error {
	for attempt := 1; ; attempt++ {
		next := b
		next.State, next.DueAt, next.Version = run.BranchDone, c.Now, b.Version+1
		err := s.UpdateBranch(ctx, next)
		if !errors.Is(err, errs.ErrConflict) || attempt == retryAttempts {
			return err
		}
		cur, err := s.GetBranch(ctx, b.ActivationID, b.ID)
		if errors.Is(err, errs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.State == run.BranchDone {
			return nil
		}
		b = *cur
	}
}
