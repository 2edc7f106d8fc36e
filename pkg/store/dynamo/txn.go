package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// txn collects the writes of one TransactWriteItems call, each with a name for error messages.
type txn struct {
	table string
	items []types.TransactWriteItem
	names []string
	bytes int // size of the documents, checked against maxTxnBytes before sending
}

func (s *Store) newTxn() *txn { return &txn{table: s.table} }

func (t *txn) put(name string, it item, cond string, vals item) {
	p := &types.Put{TableName: aws.String(t.table), Item: it}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
		p.ExpressionAttributeNames = names(cond)
		p.ExpressionAttributeValues = vals
	}
	t.add(name, types.TransactWriteItem{Put: p}, it)
}

func (t *txn) update(name string, k item, update, cond string, vals item) {
	u := &types.Update{TableName: aws.String(t.table), Key: k, UpdateExpression: aws.String(update),
		ExpressionAttributeNames: names(update, cond), ExpressionAttributeValues: vals}
	if cond != "" {
		u.ConditionExpression = aws.String(cond)
	}
	t.add(name, types.TransactWriteItem{Update: u}, vals)
}

func (t *txn) delete(name string, k item, cond string, vals item) {
	d := &types.Delete{TableName: aws.String(t.table), Key: k}
	if cond != "" {
		d.ConditionExpression = aws.String(cond)
		d.ExpressionAttributeNames = names(cond)
		d.ExpressionAttributeValues = vals
	}
	t.add(name, types.TransactWriteItem{Delete: d}, nil)
}

func (t *txn) add(name string, w types.TransactWriteItem, attrs item) {
	t.items = append(t.items, w)
	t.names = append(t.names, name)
	for _, v := range attrs {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			t.bytes += len(s.Value)
		}
	}
}

// txnConflict is the errs.ErrConflict of a transaction that a failed condition cancelled; it names the
// items whose conditions failed, for messages and for callers that react to one of them.
type txnConflict struct {
	what   string
	failed []string
}

func (e *txnConflict) Error() string {
	return fmt.Sprintf("%s: condition failed on %s: %v", e.what, strings.Join(e.failed, ", "), errs.ErrConflict)
}

func (e *txnConflict) Unwrap() error { return errs.ErrConflict }

// failedOn reports whether err is a transaction conflict on the item of that name.
func failedOn(err error, name string) bool {
	var c *txnConflict
	return errors.As(err, &c) && slices.Contains(c.failed, name)
}

// transact sends the transaction. A cancellation because a condition failed is errs.ErrConflict naming
// the items whose conditions failed; one caused only by a concurrent transaction or throttling is retried
// (nothing was written, and the retry's conditions are evaluated afresh).
func (s *Store) transact(ctx context.Context, what string, t *txn) error {
	if len(t.items) == 0 {
		return nil
	}
	if len(t.items) > maxTxnItems {
		return fmt.Errorf("%s writes %d items, over the %d one DynamoDB transaction can hold: %w",
			what, len(t.items), maxTxnItems, ErrTooLarge)
	}
	if t.bytes > maxTxnBytes {
		return fmt.Errorf("%s writes %d bytes of documents, over the %d one DynamoDB transaction can hold: %w",
			what, t.bytes, maxTxnBytes, ErrTooLarge)
	}
	return retryTransient(ctx, func() error {
		// The SDK fills ClientRequestToken, so its own retries after a lost response are idempotent: a
		// transaction that did commit is not applied (or refused by its own conditions) a second time.
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items})
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return classify(err, what)
		}
		var failed []string
		transient := false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i < len(t.names) {
					failed = append(failed, t.names[i])
				}
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
				transient = true
			}
		}
		switch {
		case len(failed) > 0:
			return &txnConflict{what: what, failed: failed}
		case transient:
			return &transientError{fmt.Errorf("dynamodb %s: %w", what, err)}
		}
		return fmt.Errorf("dynamodb %s: %w", what, err)
	})
}
