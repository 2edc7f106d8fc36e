package dynamo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// Unstarted branches. On AWS a branch runs once a Step Functions execution named after it exists. The
// store writes the branch first and the runner starts the execution afterwards; if that StartExecution
// fails for good (throttling beyond the SDK's retries, an outage, a Lambda that timed out in between) the
// branch is durable but nothing runs it. So every branch is created *marked* "not yet started by an
// execution", and the sweep (awsrt.SweepHandler) lists old marks and starts their executions again.
//
// The mark is the pair of gsi5 keys on the branch item, under a partition prefix no other item uses:
//
//	gsi5pk = UNSTARTED#<shard 00…15>     gsi5sk = <marked at, ms:13>#<activationId>#<branchId> (escaped)
//
// gsi5 (IndexPendingByAutomation) is KEYS_ONLY and its other partitions are PEND#…, read only by exact
// key, so the marks cost no new GSI (a CloudFormation update of its own) and never show up in a
// cancellation lookup. Clearing is free where it matters: every write of a branch after its creation is
// a whole-item Put built by branchItem, which carries no mark — the first step's CommitStep, the end of
// the branch, a cancellation, a park. The sweep clears a mark itself (ClearUnstarted) once it has started
// the execution, so a mark whose execution then dies without committing is not retried forever.
//
// Sharding: each branch costs its index two writes (the mark, then its removal), and one GSI partition
// takes about 1,000 writes per second; with a single partition key the index would cap the whole table at
// ~500 new branches per second and, once throttled, throttle the base-table writes of every tenant (a
// GSI's back-pressure reaches the table). Splitting for heat does not help a time-ordered key, whose
// writes always land at its tail. 16 shards give ~8,000 branches per second, several times Step
// Functions' default StartExecution quota (a burst of 1,300, 300 per second refill in the largest
// regions), so the runner, not the index, stays the bottleneck. The sweep pays 16 small Queries a run
// (16 × 0.5 RCU a minute). The shard count may grow, never shrink: marks in a dropped shard would never
// be listed again.
const (
	prefixUnstarted = "UNSTARTED"
	unstartedShards = 16
)

// unstartedPartition is the index partition of a branch's mark: a stable hash of its ids.
func unstartedPartition(activationID, branchID string) string {
	h := fnv.New32a()
	h.Write([]byte(activationID))
	h.Write([]byte{0})
	h.Write([]byte(branchID))
	return unstartedShard(int(h.Sum32() % unstartedShards))
}

func unstartedShard(i int) string { return key(prefixUnstarted, fmt.Sprintf("%02d", i)) }

// markUnstarted puts the mark on a new branch's item, stamped with the store's wall clock: the sweep's
// grace period is about real elapsed time, whatever clock the engine runs on. A DONE branch needs no
// execution and gets no mark.
func (s *Store) markUnstarted(it item, b *run.Branch) {
	if b.State == run.BranchDone {
		return
	}
	ms := min(max(s.now().UnixMilli(), 0), maxSortMillis)
	it[AttrGSI5PK] = str(unstartedPartition(b.ActivationID, b.ID))
	it[AttrGSI5SK] = str(fmt.Sprintf("%013d#%s", ms, key(b.ActivationID, b.ID)))
}

// parseUnstarted reads a branch reference back from a mark's sort key.
func parseUnstarted(sk string) (run.BranchRef, error) {
	if len(sk) < 15 || sk[13] != '#' {
		return run.BranchRef{}, fmt.Errorf("unstarted mark %q: no time prefix", sk)
	}
	parts := strings.Split(sk[14:], "#")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return run.BranchRef{}, fmt.Errorf("unstarted mark %q: want <ms>#<activation>#<branch>", sk)
	}
	return run.BranchRef{ActivationID: unescapeKeyPart(parts[0]), BranchID: unescapeKeyPart(parts[1])}, nil
}

// unescapeKeyPart undoes key's escaping of one part ('%' → %25, '#' → %23).
func unescapeKeyPart(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			switch p[i+1 : i+3] {
			case "25":
				b.WriteByte('%')
				i += 2
				continue
			case "23":
				b.WriteByte('#')
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// ListUnstartedBranches returns up to limit branches still marked unstarted whose mark is older than
// olderThan (by the store's wall clock), oldest first. It reads each shard's partition of gsi5 in order
// (at most limit entries from each) and merges them: no Scan. The index is eventually consistent, so a
// branch whose first step committed a moment ago may still be listed; starting it again is harmless
// (execution names are deterministic).
func (s *Store) ListUnstartedBranches(ctx context.Context, olderThan time.Time, limit int) ([]run.BranchRef, error) {
	if limit <= 0 {
		return nil, nil
	}
	before := fmt.Sprintf("%013d", min(max(olderThan.UnixMilli(), 0), maxSortMillis))
	type mark struct {
		sk  string
		ref run.BranchRef
	}
	var marks []mark
	cond := "#gsi5pk = :p AND #gsi5sk < :before"
	for shard := range unstartedShards {
		in := &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(IndexPendingByAutomation),
			KeyConditionExpression: aws.String(cond), ExpressionAttributeNames: names(cond),
			ExpressionAttributeValues: item{":p": str(unstartedShard(shard)), ":before": str(before)},
			ScanIndexForward:          aws.Bool(true), Limit: aws.Int32(int32(min(limit, 1000)))}
		for n := 0; n < limit; {
			out, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("dynamodb query unstarted branches (shard %d): %w", shard, err)
			}
			for _, it := range out.Items {
				if n == limit {
					break
				}
				sk := getStr(it, AttrGSI5SK)
				ref, err := parseUnstarted(sk)
				if err != nil {
					return nil, err
				}
				marks = append(marks, mark{sk: sk, ref: ref})
				n++
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	sort.Slice(marks, func(i, j int) bool { return marks[i].sk < marks[j].sk })
	refs := make([]run.BranchRef, 0, min(len(marks), limit))
	for _, m := range marks[:min(len(marks), limit)] {
		refs = append(refs, m.ref)
	}
	return refs, nil
}

// ClearUnstarted removes a branch's mark: the sweep calls it once StartExecution succeeded (or found the
// execution already there), so the mark's job is done. A branch that is gone or already unmarked (its
// first step committed) is left as it is; the write never creates an item.
func (s *Store) ClearUnstarted(ctx context.Context, ref run.BranchRef) error {
	pk, sk := branchKey(ref.ActivationID, ref.BranchID)
	update := "REMOVE #gsi5pk, #gsi5sk"
	cond := "attribute_exists(#gsi5pk)"
	err := retryTransient(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk),
			UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names(update, cond), ReturnValues: types.ReturnValueNone})
		return classify(err, fmt.Sprintf("clear unstarted mark of branch %s/%s", ref.ActivationID, ref.BranchID))
	})
	if errors.Is(err, errs.ErrConflict) {
		return nil // no mark (any more): nothing to clear
	}
	return err
}
