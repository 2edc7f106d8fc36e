package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// Hit counts one use of a rate-limit window and reports whether it was within the limit; a window past
// its expiry (by c.Now, the caller's clock, as in SQLite) starts again from zero.
//
// No transaction is needed: each attempt is one conditional UpdateItem, either "increment a live window
// that is under the limit" or "start the window afresh where there is none or it is over". When neither
// condition holds the window is live and full — unless another writer changed it between the two
// attempts, which a consistent read tells apart, and then the attempts run again.
func (s *Store) Hit(ctx context.Context, c run.Counter) (bool, error) {
	if c.Limit <= 0 {
		return false, nil
	}
	what := "rate-limit counter " + c.Key
	pk := key(prefixCounter, c.Key)
	end := int64(0)
	if !c.ExpiresAt.IsZero() {
		end = c.ExpiresAt.UnixMilli()
	}
	now := c.Now.UnixMilli()
	vals := item{":one": num(1), ":end": num(end), ":zero": num(0), ":now": num(now), ":kind": str("counter")}
	set, tail := ", #windowEndsMs = :end, #kind = :kind", " REMOVE #expiresAt"
	if end != 0 {
		set, tail = set+", #expiresAt = :ttl", ""
		vals[":ttl"] = num(int64(math.Ceil(float64(end) / 1000)))
	}
	live := "(#windowEndsMs = :zero OR #windowEndsMs > :now)"
	increment, restart := merge(item{":limit": num(int64(c.Limit))}, vals), vals
	for round := 1; round <= retryAttempts; round++ {
		err := s.updateIf(ctx, what, pk, skCounter, "SET #hits = #hits + :one"+set+tail,
			"attribute_exists(#pk) AND #hits < :limit AND "+live, increment)
		if err == nil || !errors.Is(err, errs.ErrConflict) {
			return err == nil, err
		}
		err = s.updateIf(ctx, what, pk, skCounter, "SET #hits = :one"+set+tail, "attribute_not_exists(#pk) OR NOT "+live, restart)
		if err == nil || !errors.Is(err, errs.ErrConflict) {
			return err == nil, err
		}
		it, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
			Key: keyAttrs(pk, skCounter), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return false, fmt.Errorf("dynamodb get %s: %w", what, err)
		}
		hits, _ := getNum(it.Item, attrHits)
		ends, _ := getNum(it.Item, attrCounterMs)
		if len(it.Item) > 0 && (ends == 0 || ends > now) && hits >= int64(c.Limit) {
			return false, nil
		}
	}
	return false, fmt.Errorf("%s: too much contention", what)
}

// updateIf runs one conditional UpdateItem; errs.ErrConflict when the condition does not hold.
func (s *Store) updateIf(ctx context.Context, what, pk, sk, update, cond string, vals item) error {
	return retryTransient(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk),
			UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names(update, cond), ExpressionAttributeValues: vals})
		return classify(err, what)
	})
}
