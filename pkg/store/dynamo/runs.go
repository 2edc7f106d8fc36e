package dynamo

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/run"
)

func branchItem(b *run.Branch, what string) (item, error) {
	doc, err := encodeDoc(what, b)
	if err != nil {
		return nil, err
	}
	pk, sk := branchKey(b.ActivationID, b.ID)
	return merge(newItem("branch", pk, sk, doc), item{
		attrVersion: num(b.Version),
		attrState:   str(string(b.State)),
		attrDueAt:   num(b.DueAt.UnixMilli()),
	}), nil
}

func (s *Store) GetBranch(ctx context.Context, activationID, id string) (*run.Branch, error) {
	var b run.Branch
	pk, sk := branchKey(activationID, id)
	if _, err := s.getDoc(ctx, fmt.Sprintf("branch %s/%s", activationID, id), pk, sk, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// UpdateBranch replaces a branch if it is still at version b.Version-1 (else errs.ErrConflict, also when
// there is no such branch): how completions and parked task tokens reach a waiting branch.
func (s *Store) UpdateBranch(ctx context.Context, b run.Branch) error {
	what := fmt.Sprintf("branch %s/%s", b.ActivationID, b.ID)
	it, err := branchItem(&b, what)
	if err != nil {
		return err
	}
	return s.putIf(ctx, "update "+what, it, "#version = :prev", item{":prev": num(b.Version - 1)})
}

func (s *Store) GetActionLog(ctx context.Context, activationID, actionID string) (*run.ActionLog, error) {
	var l run.ActionLog
	pk, sk := actionLogKey(activationID, actionID)
	if _, err := s.getDoc(ctx, fmt.Sprintf("action log %s/%s", activationID, actionID), pk, sk, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// ListActionLogs returns an activation's action logs in the order the actions were first written: a
// Query of the LOG# items, sorted by their seq (see CommitStep). An activation has at most
// automation.MaxActions logs, so sorting in memory is cheaper than a second index.
func (s *Store) ListActionLogs(ctx context.Context, activationID string) ([]run.ActionLog, error) {
	pk, _ := actionLogKey(activationID, "")
	type entry struct {
		seq int64
		sk  string
		log run.ActionLog
	}
	var entries []entry
	err := s.query(ctx, "action logs of "+activationID, &dynamodb.QueryInput{
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :log)"),
		ExpressionAttributeNames:  names("#pk #sk"),
		ExpressionAttributeValues: item{":pk": str(pk), ":log": str(prefixLog + "#")},
	}, func(it item) error {
		e := entry{sk: getStr(it, AttrSK)}
		e.seq, _ = getNum(it, attrSeq)
		if err := decodeDoc(it, "action log", &e.log); err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].seq != entries[j].seq {
			return entries[i].seq < entries[j].seq
		}
		return entries[i].sk < entries[j].sk
	})
	out := make([]run.ActionLog, len(entries)) // never nil: the API serves it as a JSON array
	for i := range entries {
		out[i] = entries[i].log
	}
	return out, nil
}
