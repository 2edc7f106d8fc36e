package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard-dev/switchyard/internal/awslocal"
	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/store/storetest"
)

// The store must keep up with the interfaces its callers declare: a method added there fails this build.
var (
	_ engine.Store    = (*Store)(nil)
	_ api.Store       = (*Store)(nil)
	_ storetest.Store = (*Store)(nil)
)

// newLocalStore returns a Store over a fresh table (random name) in the shared DynamoDB Local instance,
// deleted when the test ends.
func newLocalStore(t *testing.T) *Store {
	t.Helper()
	client, err := NewLocalClient(awslocal.StartDynamoDB(t))
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	s := New(client, "switchyard_test_"+hex.EncodeToString(b))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(s.table)}); err != nil {
			t.Logf("delete table %s: %v", s.table, err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return newLocalStore(t) })
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rawPut writes an item as is, bypassing the store: how the tests plant expired or half-written records.
func rawPut(t *testing.T, s *Store, it item) {
	t.Helper()
	_, err := s.db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it})
	must(t, err)
}

// TestTTLExpiredIsAbsent: DynamoDB Local never deletes expired items and real DynamoDB takes its time, so
// every reader must treat an item past expiresAt as absent, and create-if-absent must overwrite it.
func TestTTLExpiredIsAbsent(t *testing.T) {
	t.Parallel()
	s := newLocalStore(t)
	c := t.Context()
	past, future := num(time.Now().Add(-time.Hour).Unix()), num(time.Now().Add(time.Hour).Unix())

	pk, sk := settingKey("expired")
	rawPut(t, s, item{AttrPK: str(pk), AttrSK: str(sk), attrValue: str("old"), AttrExpiresAt: past})
	pk, sk = settingKey("later")
	rawPut(t, s, item{AttrPK: str(pk), AttrSK: str(sk), attrValue: str("kept"), AttrExpiresAt: future})
	if _, err := s.GetSetting(c, "expired"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("GetSetting of an expired item: err = %v, want not found", err)
	}
	if v, err := s.GetSetting(c, "later"); err != nil || v != "kept" {
		t.Errorf("GetSetting of an item expiring later = %q, %v; want kept", v, err)
	}

	// Create-if-absent over an expired record.
	const appID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	pk, sk = appKey(appID)
	old := newItem("app", pk, sk, `{"id":"`+appID+`","name":"expired"}`)
	old[AttrExpiresAt] = past
	rawPut(t, s, old)
	must(t, s.CreateApp(c, &catalog.App{ID: appID, Name: "new"}))
	if a, err := s.GetApp(c, appID); err != nil || a.Name != "new" {
		t.Errorf("GetApp after creating over an expired app = %+v, %v", a, err)
	}

	// Query readers: an expired automation in the trigger index, an expired action log.
	const site = "11111111-1111-4111-8111-111111111111"
	pk, sk = automationKey(site, "dead")
	rawPut(t, s, item{AttrPK: str(pk), AttrSK: str(sk), attrDoc: str(`{"id":"dead"}`), AttrExpiresAt: past,
		AttrGSI1PK: str(triggerIndexKey(site, appID, "t")), AttrGSI1SK: str("AUTO#dead")})
	if list, err := s.ListTriggerAutomations(c, site, appID, "t"); err != nil || len(list) != 0 {
		t.Errorf("ListTriggerAutomations with only an expired automation = %d, %v; want none", len(list), err)
	}
	pk, sk = actionLogKey("act", "gone")
	rawPut(t, s, item{AttrPK: str(pk), AttrSK: str(sk), attrDoc: str(`{"id":"gone"}`), attrSeq: num(1), AttrExpiresAt: past})
	if logs, err := s.ListActionLogs(c, "act"); err != nil || len(logs) != 0 {
		t.Errorf("ListActionLogs with only an expired log = %d, %v; want none", len(logs), err)
	}
	if _, err := s.GetActionLog(c, "act", "gone"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("GetActionLog of an expired log: err = %v, want not found", err)
	}
}

// newActivation creates a one-branch activation through the store.
func newActivation(t *testing.T, s *Store, id string) run.NewActivation {
	t.Helper()
	now := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	n := run.NewActivation{
		Activation: run.Activation{ID: id, SiteID: "site", AutomationID: "auto", Status: run.StatusInitiated,
			OpenBranches: 1, CreatedDate: now, UpdatedDate: now},
		Branches: []run.Branch{{ActivationID: id, ID: "b1", Version: 1, State: run.BranchReady, ActionID: "b1", DueAt: now}},
	}
	must(t, s.CreateActivations(t.Context(), []run.NewActivation{n}))
	return n
}

// TestFinishIfDrained covers the crash between a commit's transaction and its ENDED flip: the activation
// is left drained but STARTED. A reader finishes it once drainGrace has passed (not before: the committer
// may be about to), and FinishIfDrained is idempotent.
func TestFinishIfDrained(t *testing.T) {
	t.Parallel()
	s := newLocalStore(t)
	c := t.Context()
	wall := time.Now()
	s.now = func() time.Time { return wall }

	newActivation(t, s, "act-1")
	if ended, err := s.FinishIfDrained(c, "act-1", wall); err != nil || ended {
		t.Errorf("FinishIfDrained with an open branch = %v, %v; want false", ended, err)
	}
	if _, err := s.FinishIfDrained(c, "nope", wall); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("FinishIfDrained of an unknown activation: err = %v, want not found", err)
	}

	// The transaction half of a commit that ended the last branch, with failures, and then nothing.
	pk, sk := activationKey("act-1")
	_, err := s.db.UpdateItem(c, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk),
		UpdateExpression:          aws.String("SET #status = :s, #lastCommitAt = :w ADD #openBranches :d, #failedActions :f"),
		ExpressionAttributeNames:  names("#status #lastCommitAt #openBranches #failedActions"),
		ExpressionAttributeValues: item{":s": str("STARTED"), ":w": num(wall.UnixMilli()), ":d": num(-1), ":f": num(2)}})
	must(t, err)

	a, err := s.GetActivation(c, "act-1")
	must(t, err)
	if a.Status != run.StatusStarted || a.OpenBranches != 0 {
		t.Errorf("within the grace: status %s, open %d; want STARTED, 0 (left to the committer)", a.Status, a.OpenBranches)
	}

	wall = wall.Add(drainGrace + time.Second)
	a, err = s.GetActivation(c, "act-1")
	must(t, err)
	if a.Status != run.StatusEnded || a.Infos.Ended == nil || !a.Infos.Ended.WithFailedActions ||
		!a.Infos.Ended.StatusChangedDate.Equal(wall) || a.FailedActions != 2 {
		t.Errorf("after the grace: status %s, ended %+v, failed %d; want ENDED withFailedActions at %v, 2",
			a.Status, a.Infos.Ended, a.FailedActions, wall)
	}
	if ended, err := s.FinishIfDrained(c, "act-1", wall.Add(time.Hour)); err != nil || ended {
		t.Errorf("FinishIfDrained again = %v, %v; want false (idempotent)", ended, err)
	}
	again, err := s.GetActivation(c, "act-1")
	must(t, err)
	if !again.Infos.Ended.StatusChangedDate.Equal(wall) {
		t.Errorf("a second FinishIfDrained moved endedInfo to %v", again.Infos.Ended.StatusChangedDate)
	}
}

// TestSizeLimits: records over MaxDocBytes and transactions over DynamoDB's 4 MB fail with ErrTooLarge
// (a 413-kind error naming the record) and write nothing.
func TestSizeLimits(t *testing.T) {
	t.Parallel()
	s := newLocalStore(t)
	c := t.Context()
	big := strings.Repeat("x", MaxDocBytes)

	err := s.CreateAutomation(c, "site", &automation.Automation{ID: "a1", Name: big})
	if !errors.Is(err, ErrTooLarge) || errs.KindOf(err) != errs.TooLarge || !strings.Contains(err.Error(), "automation a1") {
		t.Errorf("CreateAutomation of a %d-byte name: err = %v, want ErrTooLarge naming the automation", len(big), err)
	}

	n := newActivation(t, s, "act-1")
	b := n.Branches[0]
	b.Version = 2
	b.Payload = map[string]any{"blob": big}
	_, err = s.CommitStep(c, run.StepCommit{ActivationID: "act-1", Branch: b, Now: time.Now()})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("CommitStep with a %d-byte payload: err = %v, want ErrTooLarge", len(big), err)
	}

	// Twelve forks of 340 KB each: every item fits, the transaction does not.
	b.Payload = map[string]any{}
	fork := strings.Repeat("y", 340<<10)
	c1 := run.StepCommit{ActivationID: "act-1", Branch: b, Now: time.Now()}
	for i := range 12 {
		c1.NewBranches = append(c1.NewBranches, run.Branch{ActivationID: "act-1", ID: "f" + string(rune('a'+i)),
			Version: 1, State: run.BranchReady, Payload: map[string]any{"blob": fork}})
	}
	if _, err := s.CommitStep(c, c1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("CommitStep of 12 × 340 KB forks: err = %v, want ErrTooLarge", err)
	}
	got, err := s.GetBranch(c, "act-1", "b1")
	must(t, err)
	if got.Version != 1 {
		t.Errorf("a refused commit moved the branch to version %d", got.Version)
	}
}

// TestCreateTable: CreateTable is idempotent, and CheckTable refuses a table of another shape.
func TestCreateTable(t *testing.T) {
	t.Parallel()
	s := newLocalStore(t)
	must(t, s.CreateTable(t.Context())) // again: exists already
	ttl, err := s.db.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.table)})
	must(t, err)
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != AttrExpiresAt || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %+v, want enabled on %s", d, AttrExpiresAt)
	}

	other := New(s.db, s.table+"_bare")
	_, err = s.db.CreateTable(t.Context(), &dynamodb.CreateTableInput{TableName: aws.String(other.table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash}}})
	must(t, err)
	t.Cleanup(func() {
		s.db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(other.table)})
	})
	if err := other.CheckTable(t.Context()); err == nil {
		t.Errorf("CheckTable accepted a table keyed by %s alone", AttrPK)
	}
}

func TestNewLocalClientRefusesRemote(t *testing.T) {
	for _, ep := range []string{"https://dynamodb.us-east-1.amazonaws.com", "http://10.0.0.1:8000", "http://localhost.example:8000"} {
		if _, err := NewLocalClient(ep); err == nil {
			t.Errorf("NewLocalClient(%q) accepted a non-loopback endpoint", ep)
		}
	}
	if _, err := NewLocalClient("http://127.0.0.1:8000"); err != nil {
		t.Errorf("NewLocalClient(127.0.0.1): %v", err)
	}
}

func TestKeyEscaping(t *testing.T) {
	if key("a#b", "c") == key("a", "b#c") {
		t.Errorf("key parts with '#' collide: %q", key("a#b", "c"))
	}
	if key("a%23", "b") == key("a#", "b") {
		t.Errorf("an escaped '#' collides with a literal %%23: %q", key("a%23", "b"))
	}
	if got := key("SITE", "11111111-1111-4111-8111-111111111111"); got != "SITE#11111111-1111-4111-8111-111111111111" {
		t.Errorf("plain ids are escaped: %q", got)
	}
}

func TestTerminalStatuses(t *testing.T) {
	in := map[run.Status]bool{}
	for _, st := range terminalStatuses {
		in[st] = true
	}
	for _, st := range []run.Status{run.StatusInitiated, run.StatusScheduled, run.StatusStarted, run.StatusEnded,
		run.StatusCancelled, run.StatusFailed, run.StatusSkipped} {
		if st.Terminal() != in[st] {
			t.Errorf("status %s: Terminal() = %v, in the commit condition = %v", st, st.Terminal(), in[st])
		}
	}
}

// testAutomation is a runnable automation of (appA, trigger) at revision 1.
func testAutomation(id string) *automation.Automation {
	return &automation.Automation{ID: id, Revision: "1", Name: "automation " + id,
		Configuration: &automation.Configuration{Status: automation.StatusActive,
			Trigger:       &automation.Trigger{AppID: "app", TriggerKey: "t"},
			RootActionIDs: []string{"root"},
			Actions: map[string]*automation.Action{"root": {ID: "root", Type: automation.TypeDelay,
				DelayInfo: &automation.DelayInfo{OffsetTimeUnit: "MINUTES"}}}}}
}

// revisionItems reads the raw items of an automation's revision partition.
func revisionItems(t *testing.T, s *Store, site, id string) []item {
	t.Helper()
	var out []item
	must(t, s.query(t.Context(), "revisions", &dynamodb.QueryInput{ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("#pk = :pk"), ExpressionAttributeNames: names("#pk"),
		ExpressionAttributeValues: item{":pk": str(automationRevisions(site, id))}}, func(it item) error {
		out = append(out, it)
		return nil
	}))
	return out
}

// TestAutomationLongHistory: an automation with more revisions than one transaction (or one BatchWriteItem)
// can delete loses them all.
func TestAutomationLongHistory(t *testing.T) {
	t.Parallel()
	s := newLocalStore(t)
	c := t.Context()
	a := testAutomation("long")
	must(t, s.CreateAutomation(c, "site", a))
	const revisions = 130 // more than one transaction holds: BatchWriteItem calls of 25, …, 25 and 5
	for rev := int64(2); rev <= revisions; rev++ {
		a.Revision = strconv.FormatInt(rev, 10)
		must(t, s.UpdateAutomation(c, "site", a, rev-1))
	}
	if n := len(revisionItems(t, s, "site", a.ID)); n != revisions {
		t.Fatalf("%d revision items, want %d", n, revisions)
	}
	if got, err := s.GetAutomationRevision(c, "site", a.ID, 100); err != nil || got.Revision != "100" {
		t.Errorf("GetAutomationRevision(100) = %+v, %v", got, err)
	}
	must(t, s.DeleteAutomation(c, "site", a.ID))
	if left := revisionItems(t, s, "site", a.ID); len(left) != 0 {
		t.Errorf("%d revision items left after delete", len(left))
	}
	if _, err := s.GetAutomation(c, "site", a.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("GetAutomation after delete: err = %v, want not found", err)
	}
}

// TestAutomationWithoutRevisionAttribute: an automation item written before automations carried their
// revision as an attribute is updated (guarded by its document) and deleted like any other.
func TestAutomationWithoutRevisionAttribute(t *testing.T) {
	t.Parallel()
	s := newLocalStore(t)
	c := t.Context()
	for _, id := range []string{"old-1", "old-2"} {
		old := testAutomation(id)
		old.Revision = "3"
		doc, err := encodeDoc("automation", old)
		must(t, err)
		pk, sk := automationKey("site", id)
		rawPut(t, s, newItem("automation", pk, sk, doc))
	}

	next := testAutomation("old-1")
	next.Revision, next.Name = "4", "updated"
	if err := s.UpdateAutomation(c, "site", next, 2); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("UpdateAutomation at revision 2 of a revision-3 item: err = %v, want conflict", err)
	}
	must(t, s.UpdateAutomation(c, "site", next, 3))
	if got, err := s.GetAutomation(c, "site", "old-1"); err != nil || got.Name != "updated" {
		t.Errorf("GetAutomation after update = %+v, %v", got, err)
	}
	if got, err := s.GetAutomationRevision(c, "site", "old-1", 4); err != nil || got.Name != "updated" {
		t.Errorf("GetAutomationRevision(4) = %+v, %v", got, err)
	}
	next.Revision = "5"
	must(t, s.UpdateAutomation(c, "site", next, 4)) // now through the revision attribute

	must(t, s.DeleteAutomation(c, "site", "old-2"))
	if _, err := s.GetAutomation(c, "site", "old-2"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("GetAutomation of a deleted legacy item: err = %v, want not found", err)
	}
}

// TestAutomationItemSizes: an automation near MaxDocBytes is created, updated and read back, although
// each write carries its document twice (the automation and its revision item).
func TestAutomationItemSizes(t *testing.T) {
	t.Parallel()
	s := newLocalStore(t)
	c := t.Context()
	a := testAutomation("big")
	a.Name = strings.Repeat("x", MaxDocBytes-1000)
	must(t, s.CreateAutomation(c, "site", a))
	a.Revision = "2"
	must(t, s.UpdateAutomation(c, "site", a, 1))
	for rev := int64(1); rev <= 2; rev++ {
		if got, err := s.GetAutomationRevision(c, "site", "big", rev); err != nil || len(got.Name) != len(a.Name) {
			t.Errorf("GetAutomationRevision(%d) of a big automation: %v", rev, err)
		}
	}
	a.Revision, a.Name = "3", strings.Repeat("y", MaxDocBytes)
	if err := s.UpdateAutomation(c, "site", a, 2); !errors.Is(err, ErrTooLarge) {
		t.Errorf("UpdateAutomation over MaxDocBytes: err = %v, want ErrTooLarge", err)
	}
}

// TestAutomationHalfDeleted: a deletion that died after marking the automation leaves it absent to every
// reader and to updates; deleting it again (not found) or creating the id again finishes the deletion.
func TestAutomationHalfDeleted(t *testing.T) {
	t.Parallel()
	s := newLocalStore(t)
	c := t.Context()
	mark := func(id string) {
		t.Helper()
		pk, sk := automationKey("site", id)
		_, err := s.db.UpdateItem(c, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: keyAttrs(pk, sk),
			UpdateExpression:          aws.String("SET #deleting = :now REMOVE #gsi1pk, #gsi1sk"),
			ExpressionAttributeNames:  names("#deleting #gsi1pk #gsi1sk"),
			ExpressionAttributeValues: item{":now": num(time.Now().UnixMilli())}})
		must(t, err)
	}
	for _, id := range []string{"half-1", "half-2"} {
		a := testAutomation(id)
		must(t, s.CreateAutomation(c, "site", a))
		a.Revision = "2"
		must(t, s.UpdateAutomation(c, "site", a, 1))
		mark(id)
	}

	if _, err := s.GetAutomation(c, "site", "half-1"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("GetAutomation of a half-deleted automation: err = %v, want not found", err)
	}
	next := testAutomation("half-1")
	next.Revision = "3"
	if err := s.UpdateAutomation(c, "site", next, 2); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("UpdateAutomation of a half-deleted automation: err = %v, want not found", err)
	}
	if list, err := s.ListTriggerAutomations(c, "site", "app", "t"); err != nil || len(list) != 0 {
		t.Errorf("ListTriggerAutomations = %d automations, %v; want none", len(list), err)
	}

	// Deleting again: not found, and the deletion is finished.
	if err := s.DeleteAutomation(c, "site", "half-1"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("DeleteAutomation of a half-deleted automation: err = %v, want not found", err)
	}
	if left := revisionItems(t, s, "site", "half-1"); len(left) != 0 {
		t.Errorf("%d revision items left after the second delete", len(left))
	}
	pk, sk := automationKey("site", "half-1")
	if _, err := s.get(c, "raw", pk, sk); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("the marked item survived the second delete: err = %v", err)
	}

	// Creating the id again: the old history is gone first.
	again := testAutomation("half-2")
	again.Name = "again"
	must(t, s.CreateAutomation(c, "site", again))
	if got, err := s.GetAutomation(c, "site", "half-2"); err != nil || got.Name != "again" {
		t.Errorf("GetAutomation after re-creating = %+v, %v", got, err)
	}
	if _, err := s.GetAutomationRevision(c, "site", "half-2", 2); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("revision 2 of the deleted automation survived its re-creation: err = %v", err)
	}
}
