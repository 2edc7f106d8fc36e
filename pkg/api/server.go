// Package api is Switchyard's whole REST surface as one http.Handler: Wix-compatible routes, key
// authentication, request limits and Wix error shapes. `switchyard serve` and every API Lambda serve it.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/contactreport"
	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/plugins"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/schema"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// Store is the persistence the API needs.
type Store interface {
	CreateApp(ctx context.Context, a *catalog.App) error
	GetApp(ctx context.Context, id string) (*catalog.App, error)
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
	CreateAutomation(ctx context.Context, siteID string, a *automation.Automation) error
	GetAutomation(ctx context.Context, siteID, id string) (*automation.Automation, error)
	UpdateAutomation(ctx context.Context, siteID string, a *automation.Automation, expectedRevision int64) error
	DeleteAutomation(ctx context.Context, siteID, id string) error
	GetAutomationRevision(ctx context.Context, siteID, id string, revision int64) (*automation.Automation, error)
	QueryAutomations(ctx context.Context, v automation.View, q *wql.Query) ([]*automation.Automation, string, error)
	ListDrafts(ctx context.Context, siteID string) ([]*automation.Automation, error)
	GetActivation(ctx context.Context, id string) (*run.Activation, error)
	ListActionLogs(ctx context.Context, activationID string) ([]run.ActionLog, error)
	ListActivations(ctx context.Context, q run.ActivationQuery) ([]run.Activation, string, error)

	CreateContact(ctx context.Context, siteID string, c *contacts.Contact) error
	GetContact(ctx context.Context, siteID, id string) (*contacts.Contact, error)
	UpdateContact(ctx context.Context, siteID string, c *contacts.Contact, expectedRevision int64) error
	DeleteContact(ctx context.Context, siteID, id string) error
	QueryContacts(ctx context.Context, siteID string, q *wql.Query) ([]*contacts.Contact, string, error)
	contactreport.Store // the contact_updated outbox UpdateContact writes
	SecretStore
}

// Engine is the run-time the API drives.
type Engine interface {
	Report(ctx context.Context, ev engine.Event) ([]string, error)
	Complete(ctx context.Context, c engine.Completion) (alreadyCompleted bool, err error)
	CancelEvent(ctx context.Context, siteID, appID, triggerKey, externalEntityID string) (int, error)
	TestRun(ctx context.Context, siteID, automationID string, payload map[string]any, by string) (string, error)
	Rerun(ctx context.Context, siteID, activationID string, skipDelays bool, by string) (string, error)
	CancelAutomation(ctx context.Context, siteID, automationID, reason string, by *run.Initiator) (int, error)
	ManualRun(ctx context.Context, r engine.ManualRunRequest) (string, error)
}

// Config wires the API.
type Config struct {
	Store        Store
	Engine       Engine
	AdminKeyHash string // access.Hash of the admin key
	Schemas      *schema.Cache
	MaxBodyBytes int64 // request body limit (default 1 MiB)
	Signing      Signing
	Now          func() time.Time
	NewID        func() string
	Logger       *slog.Logger
	// Providers makes the service-plugin calls outside runs (validate-configuration, quota-info); nil:
	// no provider is asked, and quota info is an empty list.
	Providers plugins.Caller
	// Targets signs those calls as the engine's (*outbound.Builder); nil: unsigned.
	Targets plugins.Targets
}

type server struct {
	store     Store
	engine    Engine
	adminHash string
	schemas   *schema.Cache
	maxBody   int64
	signing   Signing
	now       func() time.Time
	newID     func() string
	log       *slog.Logger
	plugins   *plugins.Checker
	reports   *contactreport.Outbox
}

// NewServer returns the REST API handler.
func NewServer(c Config) http.Handler {
	s := &server{store: c.Store, engine: c.Engine, adminHash: c.AdminKeyHash, schemas: c.Schemas,
		maxBody: c.MaxBodyBytes, signing: c.Signing, now: c.Now, newID: c.NewID, log: c.Logger}
	if s.schemas == nil {
		s.schemas = schema.NewCache(0)
	}
	if s.maxBody <= 0 {
		s.maxBody = 1 << 20
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = uuid.NewString
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.reports = &contactreport.Outbox{Store: c.Store, Engine: c.Engine, Now: s.now, Log: s.log}
	if c.Providers != nil {
		s.plugins = &plugins.Checker{Catalog: c.Store, Caller: c.Providers, Targets: c.Targets, Logger: s.log}
	}
	return s.routes()
}
