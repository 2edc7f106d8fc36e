// Package engine is what happens in an automation run: matching a reported event to the site's
// automations, creating activations, and stepping each branch through the action graph. It does no I/O
// of its own beyond the interfaces it is given, and time comes from an injected clock, so both runtimes
// (local worker pool and Step Functions) run exactly this code.
package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/outbound"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/schema"
)

// Store is the persistence the engine needs.
type Store interface {
	GetApp(ctx context.Context, id string) (*catalog.App, error)
	GetTrigger(ctx context.Context, appID, triggerKey string) (*catalog.Trigger, error)
	GetAction(ctx context.Context, appID, actionKey string) (*catalog.Action, error)
	GetInstallation(ctx context.Context, siteID, appID string) (*catalog.Installation, error)
	ListInstallations(ctx context.Context, siteID string) ([]*catalog.Installation, error)
	ListTriggerAutomations(ctx context.Context, siteID, appID, triggerKey string) ([]*automation.Automation, error)
	CreateActivations(ctx context.Context, acts []run.NewActivation) error
	CreateActivationsOnce(ctx context.Context, once run.Once, acts []run.NewActivation) (ids []string, fresh bool, err error)
	CancelActivations(ctx context.Context, c run.Cancellation) ([]run.BranchRef, error)
	Hit(ctx context.Context, c run.Counter) (allowed bool, err error)
	GetAutomation(ctx context.Context, siteID, id string) (*automation.Automation, error)
	GetActivation(ctx context.Context, id string) (*run.Activation, error)
	GetBranch(ctx context.Context, activationID, branchID string) (*run.Branch, error)
	GetActionLog(ctx context.Context, activationID, actionID string) (*run.ActionLog, error)
	UpdateBranch(ctx context.Context, b run.Branch) error
	CommitStep(ctx context.Context, c run.StepCommit) (run.CommitResult, error)
}

// Invoker calls an action provider's service plugin.
type Invoker interface {
	Invoke(ctx context.Context, target provider.Target, req provider.InvokeRequest) (*provider.InvokeResponse, error)
}

// Starter schedules branches that became runnable outside a step's own flow: root branches of new
// activations and forks. Local: wake the workers; AWS: start one execution per branch.
type Starter interface {
	Start(ctx context.Context, refs []run.BranchRef) error
}

// Resumer wakes a branch parked on an async action once its completion is recorded. Local: wake the
// workers; AWS: SendTaskSuccess with the task token the parked execution handed over. A Starter that also
// implements Resumer is used as one.
type Resumer interface {
	Resume(ctx context.Context, ref run.BranchRef, taskToken string) error
}

// Canceller stops the runtime's work on cancelled branches (AWS: StopExecution). The store has already
// marked them DONE, so a runner without one needs nothing more.
type Canceller interface {
	Stop(ctx context.Context, refs []run.BranchRef) error
}

// Targets builds the provider.Target of a call to an app's provider: signing secrets or the JWT
// envelope (package outbound). Every outbound call of the engine goes through it.
type Targets interface {
	Target(ctx context.Context, app *catalog.App, call outbound.Call) (provider.Target, error)
}

// Config wires an Engine.
type Config struct {
	Store   Store
	Invoker Invoker
	Targets Targets // nil: unsigned plain-JSON calls
	// Refresher calls trigger providers' refresh-payload; nil: the Invoker, if it is one.
	Refresher PayloadRefresher
	Starter   Starter
	Schemas   *schema.Cache
	Now       func() time.Time
	NewID     func() string
	Logger    *slog.Logger

	// Contacts loads contacts for identity enrichment; nil leaves payloads unenriched, with a warning.
	Contacts ContactReader
}

// Engine runs automations.
type Engine struct {
	store     Store
	invoker   Invoker
	targets   Targets
	refresher PayloadRefresher
	starter   Starter
	schemas   *schema.Cache
	now       func() time.Time
	newID     func() string
	log       *slog.Logger

	contacts ContactReader
}

// New returns an Engine; zero Config fields get production defaults.
func New(c Config) *Engine {
	e := &Engine{store: c.Store, invoker: c.Invoker, targets: c.Targets, starter: c.Starter, schemas: c.Schemas,
		now: c.Now, newID: c.NewID, log: c.Logger, contacts: c.Contacts}
	if e.targets == nil {
		e.targets = (*outbound.Builder)(nil)
	}
	if e.schemas == nil {
		e.schemas = schema.NewCache(0)
	}
	e.refresher = c.Refresher
	if e.refresher == nil {
		e.refresher, _ = c.Invoker.(PayloadRefresher)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.newID == nil {
		e.newID = func() string { return uuid.NewString() }
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// SetStarter lets a runner that needs the engine register itself after construction.
func (e *Engine) SetStarter(s Starter) { e.starter = s }

func (e *Engine) start(ctx context.Context, refs []run.BranchRef) {
	if len(refs) == 0 || e.starter == nil {
		return
	}
	// The branches are already durable: a failed start is recovered by the runner's sweep, not lost.
	if err := e.starter.Start(ctx, refs); err != nil {
		e.log.Warn("starting branches failed; the runner will pick them up", "err", err, "branches", len(refs))
	}
}
