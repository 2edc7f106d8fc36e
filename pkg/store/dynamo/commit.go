package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// CommitStep writes one engine step: one TransactWriteItems holding
//
//   - the branch, put only if its stored version is still Branch.Version-1 (two workers can never both
//     commit the same step; a stale one gets errs.ErrConflict and writes nothing); the Put carries no
//     unstarted mark, so the branch's first step clears it at no extra cost (unstarted.go);
//   - each forked branch, put only if absent and marked unstarted until its execution runs it;
//   - each action log, upserted: SET doc, and seq = if_not_exists(seq, new), so a log keeps the position
//     of its first write;
//   - the activation: ADD openBranches (forks − the branch if it ended) and failedActions, SET updatedDate,
//     and on the first step status STARTED — only if the activation exists and is not terminal;
//   - on the first step, the ACT#STARTED item: startedInfo with if_not_exists, so that of two branches that
//     both saw INITIATED the first to commit sets it.
//
// A transaction cannot read, so it cannot decide "this was the last branch". When the branch ended,
// FinishIfDrained follows the transaction and flips the activation to ENDED if openBranches is now 0.
//
// Action-log order: before the transaction, one UpdateItem reserves len(logs) numbers from the activation's
// logSeq counter (ADD, returning the new value). Reservations are strictly increasing, and a step of a
// branch reserves only after the previous step of that branch committed, so a log first written by a step
// that finished before another step began always sorts first; logs of one step keep their order in the
// commit. An aborted commit only leaves a gap. (A clock-based key would not do: engines running on a fake
// or skewed clock would reorder logs.) The reservation also fails fast on a missing or terminal activation.
func (s *Store) CommitStep(ctx context.Context, c run.StepCommit) (run.CommitResult, error) {
	var res run.CommitResult
	what := fmt.Sprintf("step of %s/%s", c.ActivationID, c.Branch.ID)
	apk, ask := activationKey(c.ActivationID)
	t := s.newTxn()

	b := c.Branch
	bit, err := branchItem(&b, fmt.Sprintf("branch %s/%s", c.ActivationID, b.ID))
	if err != nil {
		return res, err
	}
	// The key comes from the commit's activation id, as SQLite's UPDATE does.
	pk, sk := branchKey(c.ActivationID, b.ID)
	bit[AttrPK], bit[AttrSK] = str(pk), str(sk)
	t.put("branch "+b.ID, bit, "#version = :prev", item{":prev": num(b.Version - 1)})

	seen := map[string]bool{getStr(bit, AttrPK) + "\x00" + getStr(bit, AttrSK): true}
	cond, vals := s.absentCond()
	for i := range c.NewBranches {
		nb := &c.NewBranches[i]
		nwhat := fmt.Sprintf("new branch %s/%s", nb.ActivationID, nb.ID)
		it, err := branchItem(nb, nwhat)
		if err != nil {
			return res, err
		}
		k := getStr(it, AttrPK) + "\x00" + getStr(it, AttrSK)
		if seen[k] {
			// One item twice in a transaction is a ValidationException; SQLite reports the duplicate key.
			return res, fmt.Errorf("%s: %s already exists: %w", what, nwhat, errs.ErrConflict)
		}
		seen[k] = true
		s.markUnstarted(it, nb) // the fork's execution is started after this commit; see unstarted.go
		t.put(nwhat, it, cond, vals)
	}

	logs := dedupeLogs(c.ActionLogs)
	if len(logs) > 0 {
		first, err := s.reserveLogSeq(ctx, c.ActivationID, len(logs))
		if err != nil {
			return res, err
		}
		for i := range logs {
			l := &logs[i]
			lwhat := fmt.Sprintf("action log %s/%s", l.ActivationID, l.ActionID)
			doc, err := encodeDoc(lwhat, l)
			if err != nil {
				return res, err
			}
			lpk, lsk := actionLogKey(l.ActivationID, l.ActionID)
			t.update(lwhat, keyAttrs(lpk, lsk), "SET #doc = :doc, #kind = :kind, #seq = if_not_exists(#seq, :seq)", "",
				item{":doc": str(doc), ":kind": str("actionLog"), ":seq": num(first + int64(i))})
		}
	}

	if c.Started != nil {
		doc, err := encodeDoc("startedInfo of "+c.ActivationID, c.Started)
		if err != nil {
			return res, err
		}
		t.update("startedInfo", keyAttrs(apk, skStarted), "SET #doc = if_not_exists(#doc, :doc), #kind = :kind", "",
			item{":doc": str(doc), ":kind": str("activationStarted")})
	}

	delta := int64(len(c.NewBranches))
	if c.Branch.State == run.BranchDone {
		delta--
	}
	update := "SET #updatedDate = :now, #lastCommitAt = :wall"
	actVals := item{":now": str(formatTime(c.Now)), ":wall": num(s.now().UnixMilli()),
		":open": num(delta), ":failed": num(int64(c.FailedActions))}
	if c.Started != nil {
		// Only the engine's first step sends Started (it saw INITIATED); a later one finds STARTED already.
		update += ", #status = :started"
		actVals[":started"] = str(string(run.StatusStarted))
	}
	if len(c.Warnings) > 0 {
		// A list of JSON documents; readers keep the first run.MaxWarnings (an update cannot cap a list).
		ws := make([]types.AttributeValue, 0, len(c.Warnings))
		for i := range c.Warnings {
			doc, err := encodeDoc("warning of "+c.ActivationID, &c.Warnings[i])
			if err != nil {
				return res, err
			}
			ws = append(ws, str(doc))
		}
		update += ", #warnings = list_append(if_not_exists(#warnings, :noWarnings), :warnings)"
		actVals[":noWarnings"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
		actVals[":warnings"] = &types.AttributeValueMemberL{Value: ws}
	}
	update += " ADD #openBranches :open, #failedActions :failed"
	live, liveVals := notTerminalCond()
	t.update("activation "+c.ActivationID, keyAttrs(apk, ask), update, live, merge(actVals, liveVals))

	if err := s.transact(ctx, what, t); err != nil {
		if errors.Is(err, errs.ErrConflict) {
			return res, s.explainConflict(ctx, c.ActivationID, err)
		}
		return res, err
	}
	if c.Branch.State == run.BranchDone {
		ended, err := s.FinishIfDrained(ctx, c.ActivationID, c.Now)
		if err != nil {
			return res, fmt.Errorf("%s committed, but ending the activation failed (a later reader will): %w", what, err)
		}
		res.Ended = ended
	}
	return res, nil
}

// dedupeLogs keeps one log per action: the last one written, at the position of the first. (DynamoDB
// refuses a transaction naming an item twice; SQLite would insert and then update it.)
func dedupeLogs(in []run.ActionLog) []run.ActionLog {
	at := map[[2]string]int{}
	out := make([]run.ActionLog, 0, len(in))
	for _, l := range in {
		k := [2]string{l.ActivationID, l.ActionID}
		if i, ok := at[k]; ok {
			out[i] = l
			continue
		}
		at[k] = len(out)
		out = append(out, l)
	}
	return out
}

// reserveLogSeq takes n numbers from the activation's log counter and returns the first.
func (s *Store) reserveLogSeq(ctx context.Context, activationID string, n int) (int64, error) {
	pk, sk := activationKey(activationID)
	cond, vals := notTerminalCond()
	update := "ADD #logSeq :n"
	vals[":n"] = num(int64(n))
	var out *dynamodb.UpdateItemOutput
	err := retryTransient(ctx, func() error {
		var err error
		out, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk),
			UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names(update, cond), ExpressionAttributeValues: vals,
			ReturnValues: types.ReturnValueUpdatedNew})
		return classify(err, "reserve action log numbers of "+activationID)
	})
	if errors.Is(err, errs.ErrConflict) {
		return 0, s.explainConflict(ctx, activationID, err)
	}
	if err != nil {
		return 0, err
	}
	last, ok := getNum(out.Attributes, attrLogSeq)
	if !ok {
		return 0, fmt.Errorf("reserve action log numbers of %s: no %s in the response", activationID, attrLogSeq)
	}
	return last - int64(n) + 1, nil
}

// explainConflict turns a failed activation condition into what SQLite reports: errs.ErrNotFound when the
// activation does not exist, else the conflict (terminal activation, or a branch that moved on).
func (s *Store) explainConflict(ctx context.Context, activationID string, conflict error) error {
	pk, sk := activationKey(activationID)
	if _, err := s.get(ctx, "activation "+activationID, pk, sk); errors.Is(err, errs.ErrNotFound) {
		return err
	}
	return conflict
}

// FinishIfDrained flips a non-terminal activation whose open branches have all ended to ENDED, with
// endedInfo.withFailedActions from its failedActions, and reports whether this call made the flip.
//
// It is the second half of a commit that ended a branch (see CommitStep), and is safe to call by anyone at
// any time: it reads the activation (strongly consistent) and writes only under the condition that status,
// openBranches and failedActions are still what it read, so
//   - it never ends an activation with open branches (a fork committed in between changes openBranches);
//   - of several concurrent callers exactly one flips, and calling it again is a no-op (idempotent);
//   - a cancellation or failure that made the activation terminal first is never overwritten.
//
// A crash between a commit's transaction and this call leaves a drained activation that is not ENDED.
// Nothing is lost: every branch is DONE, so no further step will change it, and GetActivation (whose
// callers include every retried step) finishes it once drainGrace has passed; a sweeper may call this too.
func (s *Store) FinishIfDrained(ctx context.Context, activationID string, now time.Time) (bool, error) {
	pk, sk := activationKey(activationID)
	it, err := s.get(ctx, "activation "+activationID, pk, sk)
	if err != nil {
		return false, err
	}
	status := getStr(it, attrStatus)
	open, _ := getNum(it, attrOpenBranches)
	failed, _ := getNum(it, attrFailedActions)
	if run.Status(status).Terminal() || open > 0 {
		return false, nil
	}
	ended, err := encodeDoc("endedInfo of "+activationID,
		&run.EndedInfo{WithFailedActions: failed > 0, StatusChangedDate: now})
	if err != nil {
		return false, err
	}
	update := "SET #status = :ended, #endedInfo = :info, #openBranches = :zero, #updatedDate = :now" + removePending
	cond := "#status = :seen AND #openBranches = :open AND #failedActions = :failed"
	vals := item{":ended": str(string(run.StatusEnded)), ":info": str(ended), ":zero": num(0),
		":now": str(formatTime(now)), ":seen": str(status), ":open": num(open), ":failed": num(failed)}
	err = retryTransient(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk),
			UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names(update, cond), ExpressionAttributeValues: vals})
		return classify(err, "end activation "+activationID)
	})
	if errors.Is(err, errs.ErrConflict) {
		return false, nil // someone else finished it, or it changed under us: either way not ours to end
	}
	if err != nil {
		return false, err
	}
	return true, nil
}
