// Package dynamo is the AWS store: the catalog, automations and run records of Switchyard in one DynamoDB
// table (a single-table design: string pk/sk keys plus sparse GSIs; docs/architecture.md describes the layout).
// It implements the same contract as pkg/store/sqlite, which pkg/store/storetest checks for both.
//
// Records are stored as JSON documents in one string attribute, next to the few attributes that keys,
// conditions and counters need. Every read of a single record is strongly consistent; only the trigger
// index (a GSI) is eventually consistent, as GSIs always are.
package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// Store is the DynamoDB implementation of the storage interfaces of the engine and the API.
type Store struct {
	db    *dynamodb.Client
	table string
	now   func() time.Time // wall clock for TTL checks and the drained-activation grace; tests replace it
}

// New returns a Store over the table (which CreateTable creates, or template.yaml deploys).
func New(client *dynamodb.Client, table string) *Store {
	return &Store{db: client, table: table, now: time.Now}
}

// Size bounds. DynamoDB refuses items over 400 KB (names and values together) and transactions over 100
// items or 4 MB. Documents are bounded well below the item limit so that the key and counter attributes
// always fit beside them, and an oversized record fails with a message that names it instead of a
// ValidationException from deep inside a transaction.
const (
	MaxDocBytes = 350 << 10
	maxTxnItems = 100
	maxTxnBytes = 4_000_000 - 100*2_000 // the documents of one transaction, leaving room for keys and attributes
)

// ErrTooLarge is wrapped by every error about a record or a write that exceeds DynamoDB's size limits.
var ErrTooLarge = errs.New(errs.TooLarge, "RECORD_TOO_LARGE", "record too large for the DynamoDB store")

type item = map[string]types.AttributeValue

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getStr(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getNum(it item, name string) (int64, bool) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	return n, err == nil
}

func keyAttrs(pk, sk string) item { return item{AttrPK: str(pk), AttrSK: str(sk)} }

// newItem starts an item: its key, what it is, and its JSON document.
func newItem(kind, pk, sk, doc string) item {
	return item{AttrPK: str(pk), AttrSK: str(sk), attrKind: str(kind), attrDoc: str(doc)}
}

// encodeDoc marshals a record and enforces MaxDocBytes.
func encodeDoc(what string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", what, err)
	}
	if len(b) > MaxDocBytes {
		return "", fmt.Errorf("%s is %d bytes of JSON, over the %d bytes a DynamoDB item of Switchyard may hold: %w",
			what, len(b), MaxDocBytes, ErrTooLarge)
	}
	return string(b), nil
}

func decodeDoc(it item, what string, out any) error {
	if err := json.Unmarshal([]byte(getStr(it, attrDoc)), out); err != nil {
		return fmt.Errorf("decode stored %s: %w", what, err)
	}
	return nil
}

// live reports whether an item read from the table exists for the application. DynamoDB deletes items
// past their TTL lazily (up to days later; DynamoDB Local never does), so an expired item must read as
// absent everywhere, and create-if-absent conditions must accept it as absent too (see absentCond).
func (s *Store) live(it item) bool {
	if len(it) == 0 {
		return false
	}
	if exp, ok := getNum(it, AttrExpiresAt); ok && exp <= s.now().Unix() {
		return false
	}
	return true
}

// absentCond is the condition of a create-if-absent write: no item, or only an expired one.
func (s *Store) absentCond() (string, item) {
	return "attribute_not_exists(#pk) OR #expiresAt <= :ttlNow", item{":ttlNow": num(s.now().Unix())}
}

// get reads one item with a strongly consistent read; errs.ErrNotFound when it is absent or expired.
func (s *Store) get(ctx context.Context, what, pk, sk string) (item, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyAttrs(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("dynamodb get %s: %w", what, err)
	}
	if !s.live(out.Item) {
		return nil, fmt.Errorf("%s: %w", what, errs.ErrNotFound)
	}
	return out.Item, nil
}

// getDoc reads one item and decodes its document into out.
func (s *Store) getDoc(ctx context.Context, what, pk, sk string, out any) (item, error) {
	it, err := s.get(ctx, what, pk, sk)
	if err != nil {
		return nil, err
	}
	return it, decodeDoc(it, what, out)
}

// put writes one item unconditionally (create or replace).
func (s *Store) put(ctx context.Context, what string, it item) error {
	return retryTransient(ctx, func() error {
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it})
		return classify(err, "put "+what)
	})
}

// putNew writes one item only if its key is free; errs.ErrConflict when it is taken.
func (s *Store) putNew(ctx context.Context, what string, it item) error {
	cond, vals := s.absentCond()
	return s.putIf(ctx, "create "+what, it, cond, vals)
}

// putIf writes one item if cond holds; errs.ErrConflict when it does not.
func (s *Store) putIf(ctx context.Context, what string, it item, cond string, vals item) error {
	return retryTransient(ctx, func() error {
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it,
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: names(cond),
			ExpressionAttributeValues: vals})
		return classify(err, what)
	})
}

// batchGet reads items by key (strongly consistent, any number of keys) and returns the live ones, in no
// particular order.
func (s *Store) batchGet(ctx context.Context, what string, keys []item) ([]item, error) {
	var out []item
	for start := 0; start < len(keys); start += 100 { // BatchGetItem takes at most 100 keys
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys[start:min(start+100, len(keys))],
			ConsistentRead: aws.Bool(true)}}
		wait := retryBase
		for attempt := 1; len(req) > 0; attempt++ {
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("dynamodb batch get %s: %w", what, err)
			}
			for _, it := range res.Responses[s.table] {
				if s.live(it) {
					out = append(out, it)
				}
			}
			req = res.UnprocessedKeys // throttled keys: DynamoDB asks for them again, later
			if len(req) == 0 {
				break
			}
			if attempt == retryAttempts {
				return nil, fmt.Errorf("dynamodb batch get %s: keys still unprocessed after %d attempts", what, attempt)
			}
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			wait = min(2*wait, retryMax)
		}
	}
	return out, nil
}

// query runs a paginated Query and hands every live item to fn.
func (s *Store) query(ctx context.Context, what string, in *dynamodb.QueryInput, fn func(item) error) error {
	in.TableName = aws.String(s.table)
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("dynamodb query %s: %w", what, err)
		}
		for _, it := range page.Items {
			if !s.live(it) {
				continue
			}
			if err := fn(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// names maps every #name placeholder of the expressions to the attribute of that name. Writing every
// attribute as #name sidesteps DynamoDB's reserved words (status, state, value, version, …), and deriving
// the map from the expressions keeps it exact: DynamoDB rejects names an expression does not use.
func names(exprs ...string) map[string]string {
	out := map[string]string{}
	for _, e := range exprs {
		for i := 0; i < len(e); i++ {
			if e[i] != '#' {
				continue
			}
			j := i + 1
			for j < len(e) && (e[j] == '_' || e[j] >= '0' && e[j] <= '9' || e[j] >= 'a' && e[j] <= 'z' || e[j] >= 'A' && e[j] <= 'Z') {
				j++
			}
			out[e[i:j]] = e[i+1 : j]
			i = j - 1
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// transientError marks a write that lost to a concurrent transaction or was throttled: nothing was
// written, so the same request may simply be sent again.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// classify maps a single-item write error: a failed condition is errs.ErrConflict, a collision with an
// in-flight transaction is transient (retried by retryTransient), anything else is wrapped as is.
func classify(err error, what string) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%s: %w", what, errs.ErrConflict)
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "TransactionConflictException" {
		return &transientError{fmt.Errorf("dynamodb %s: %w", what, err)}
	}
	return fmt.Errorf("dynamodb %s: %w", what, err)
}

// Transient failures are retried with jittered exponential backoff. The SDK retries throttling and
// network errors itself, but not transaction conflicts: DynamoDB cancels a transaction (or a single write)
// that touches an item another transaction holds, and two branches of one activation committing at the
// same time both write the activation item. The loser retries; its own conditions decide the outcome.
const (
	retryAttempts = 12
	retryBase     = 5 * time.Millisecond
	retryMax      = 250 * time.Millisecond
)

func retryTransient(ctx context.Context, fn func() error) error {
	wait := retryBase
	for attempt := 1; ; attempt++ {
		err := fn()
		var te *transientError
		if !errors.As(err, &te) {
			return err
		}
		if attempt == retryAttempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, te.err)
		}
		if err := sleep(ctx, wait); err != nil {
			return errors.Join(err, te.err)
		}
		wait = min(2*wait, retryMax)
	}
}

// sleep waits about d (jittered between d/2 and d, so that writers that collided do not collide again).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d/2 + rand.N(d/2+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
