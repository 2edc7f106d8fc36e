// Package storetest is the conformance suite every Switchyard store must pass: what the engine and the API
// rely on, method by method — not-found and conflict errors, upserts, tenant isolation, the trigger index,
// automation revisions (optimistic updates, history, deletion) and WQL queries, atomic activation
// creation, idempotency keys, cancellation, rate-limit counters, activation listing, and CommitStep's
// version guard, counters, status changes and action-log order, including under concurrency.
// pkg/store/sqlite is the reference; pkg/store/dynamo runs the same suite.
//
// A store's test calls Run with a constructor that returns a fresh, empty store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return openFresh(t) })
//	}
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// Store is every method of engine.Store and api.Store, plus the settings that `switchyard serve` keeps.
// The local runner's queue (ClaimDue, Release, NextDue, ResetLeases) is SQLite's alone and not here.
type Store interface {
	CreateApp(ctx context.Context, a *catalog.App) error
	GetApp(ctx context.Context, id string) (*catalog.App, error)
	PutApp(ctx context.Context, a *catalog.App) error
	QueryApps(ctx context.Context, q *wql.Query) ([]*catalog.App, string, error)
	QueryTriggers(ctx context.Context, q *wql.Query) ([]*catalog.Trigger, string, error)
	QueryActions(ctx context.Context, q *wql.Query) ([]*catalog.Action, string, error)
	PutTrigger(ctx context.Context, t *catalog.Trigger) error
	GetTrigger(ctx context.Context, appID, key string) (*catalog.Trigger, error)
	PutAction(ctx context.Context, a *catalog.Action) error
	GetAction(ctx context.Context, appID, key string) (*catalog.Action, error)
	PutInstallation(ctx context.Context, in *catalog.Installation) (*catalog.Installation, error)
	GetInstallation(ctx context.Context, siteID, appID string) (*catalog.Installation, error)
	ListInstallations(ctx context.Context, siteID string) ([]*catalog.Installation, error)
	CreateAPIKey(ctx context.Context, k *access.APIKey) error
	GetAPIKeyByHash(ctx context.Context, hash string) (*access.APIKey, error)
	GetSetting(ctx context.Context, name string) (string, error)
	PutSetting(ctx context.Context, name, value string) error
	CreateAppWithSecrets(ctx context.Context, a *catalog.App, sec *catalog.SigningSecrets) error
	GetSigningSecrets(ctx context.Context, appID string) (*catalog.SigningSecrets, error)
	PutSigningSecrets(ctx context.Context, sec *catalog.SigningSecrets, expectedVersion int64) error

	CreateAutomation(ctx context.Context, siteID string, a *automation.Automation) error
	GetAutomation(ctx context.Context, siteID, id string) (*automation.Automation, error)
	ListDrafts(ctx context.Context, siteID string) ([]*automation.Automation, error)
	ListTriggerAutomations(ctx context.Context, siteID, appID, triggerKey string) ([]*automation.Automation, error)
	UpdateAutomation(ctx context.Context, siteID string, a *automation.Automation, expectedRevision int64) error
	DeleteAutomation(ctx context.Context, siteID, id string) error
	GetAutomationRevision(ctx context.Context, siteID, id string, revision int64) (*automation.Automation, error)
	QueryAutomations(ctx context.Context, v automation.View, q *wql.Query) (page []*automation.Automation, next string, err error)

	CreateActivations(ctx context.Context, acts []run.NewActivation) error
	CreateActivationsOnce(ctx context.Context, once run.Once, acts []run.NewActivation) (ids []string, fresh bool, err error)
	CancelActivations(ctx context.Context, c run.Cancellation) ([]run.BranchRef, error)
	Hit(ctx context.Context, c run.Counter) (allowed bool, err error)
	GetActivation(ctx context.Context, id string) (*run.Activation, error)
	ListActivations(ctx context.Context, q run.ActivationQuery) ([]run.Activation, string, error)
	GetBranch(ctx context.Context, activationID, branchID string) (*run.Branch, error)
	UpdateBranch(ctx context.Context, b run.Branch) error
	GetActionLog(ctx context.Context, activationID, actionID string) (*run.ActionLog, error)
	ListActionLogs(ctx context.Context, activationID string) ([]run.ActionLog, error)
	CommitStep(ctx context.Context, c run.StepCommit) (run.CommitResult, error)

	CreateContact(ctx context.Context, siteID string, c *contacts.Contact) error
	GetContact(ctx context.Context, siteID, id string) (*contacts.Contact, error)
	UpdateContact(ctx context.Context, siteID string, c *contacts.Contact, expectedRevision int64) error
	DeleteContact(ctx context.Context, siteID, id string) error
	QueryContacts(ctx context.Context, siteID string, q *wql.Query) (page []*contacts.Contact, next string, err error)

	ListDueContactReports(ctx context.Context, due time.Time, limit int) ([]contacts.PendingReport, error)
	DeleteContactReport(ctx context.Context, siteID, contactID string, revision int64) error
	DeferContactReport(ctx context.Context, r contacts.PendingReport) error
}

type test struct {
	name string
	fn   func(t *testing.T, s Store)
}

// Run runs the suite. Subtests run in parallel, each on its own store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	var all []test
	all = append(all, catalogTests...)
	all = append(all, catalogQueryTests...)
	all = append(all, automationTests...)
	all = append(all, test{"Drafts", testDrafts})
	all = append(all, viewTests...)
	all = append(all, activationTests...)
	all = append(all, onceTests...)
	all = append(all, listTests...)
	all = append(all, cancelTests...)
	all = append(all, counterTests...)
	all = append(all, commitTests...)
	all = append(all, concurrencyTests...)
	all = append(all, contactTests...)
	all = append(all, contactReportTests...)
	all = append(all, refreshTests...)
	all = append(all, secretTests...)
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

const (
	siteA = "11111111-1111-4111-8111-111111111111"
	siteB = "22222222-2222-4222-8222-222222222222"
	appA  = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	appB  = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

// t0 is the suite's epoch; every time is UTC so that JSON comparisons are exact.
var t0 = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func ctx(t *testing.T) context.Context { return t.Context() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want errors.Is %v", what, err, target)
	}
}

// sameJSON compares two records by their JSON form: what the API serves and what the stores keep.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	must(t, err)
	w, err := json.Marshal(want)
	must(t, err)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}
