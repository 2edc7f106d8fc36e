package awsrt

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	"github.com/switchyard-dev/switchyard/pkg/plugins"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/schema"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
	"github.com/switchyard-dev/switchyard/pkg/webhook"
)

// Store is the persistence the functions need: what the API and the engine need. The DynamoDB store
// satisfies it in production; tests may pass any other implementation (the SQLite store does too).
type Store interface {
	api.Store
	engine.Store
	systemapp.Registry
}

// ActivationFailer is the store method FailHandler needs to mark an activation FAILED. A store without
// it gets the fallback described at FailHandler.
type ActivationFailer interface {
	FailActivation(ctx context.Context, activationID string, info run.FailedInfo) error
}

// Deps are the dependencies New wires; Load builds the production ones.
type Deps struct {
	Store Store
	// Starter starts executions for new activations and forks. The sfn runner is also the engine's
	// Resumer (SendTaskSuccess for completions, and for engine-park when the wait is already over) and
	// Canceller (StopExecution).
	Starter engine.Starter
	Invoker engine.Invoker // nil: the provider client with the SSRF guard from Config
	// Keys are the platform keys (LoadKeys); nil or nil parts: apps get no signing secret, WIX_JWT apps
	// are refused, and calls go unsigned.
	Keys   *platformkeys.Keys
	Now    func() time.Time
	Logger *slog.Logger
}

// Runtime holds everything one function instance serves; build it once per cold start.
type Runtime struct {
	cfg     Config
	store   Store
	engine  *engine.Engine
	resumer engine.Resumer
	starter engine.Starter // the sweep starts unstarted branches through it
	http    http.Handler
	adapter *httpadapter.HandlerAdapterV2
	now     func() time.Time
	log     *slog.Logger
}

// New wires a Runtime from cfg and d.
func New(cfg Config, d Deps) (*Runtime, error) {
	if d.Store == nil {
		return nil, errors.New("awsrt: no store")
	}
	if cfg.StepsPerInvocation <= 0 {
		cfg.StepsPerInvocation = 1
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	log := d.Logger
	if log == nil {
		// Lambda sends stdout to CloudWatch Logs; JSON lines are what Logs Insights queries.
		log = slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	}
	// One guard for every outbound call made on a user's behalf: provider calls and the webhook action.
	guard := (&provider.AddressGuard{AllowPrivate: cfg.AllowPrivateProviders}).With(cfg.AllowedNetworks)
	base := d.Invoker
	if base == nil {
		base = provider.NewClient(provider.Options{Guard: guard})
	}
	// The provider client makes every service-plugin call (a test invoker may make only some); the system
	// app's actions run in-process.
	providers, _ := base.(plugins.Caller)
	refresher, _ := base.(engine.PayloadRefresher)
	inv := systemapp.WithActions(base, webhook.New(webhook.Options{Guard: guard}))
	registerSystemApp(d.Store, log)
	schemas := schema.NewCache(0)
	sign, targets := signing(d.Keys, d.Store, cfg.JWTIssuer)
	eng := engine.New(engine.Config{Store: d.Store, Invoker: inv, Targets: targets, Refresher: refresher, Starter: d.Starter, Schemas: schemas,
		Now: now, Logger: log, Contacts: d.Store})
	h := api.NewServer(api.Config{Store: d.Store, Engine: eng, AdminKeyHash: cfg.AdminKeyHash, Schemas: schemas, Signing: sign, Now: now,
		Logger: log, Providers: providers, Targets: targets})
	resumer, _ := d.Starter.(engine.Resumer)
	return &Runtime{cfg: cfg, store: d.Store, engine: eng, resumer: resumer, starter: d.Starter, http: h, adapter: httpadapter.NewV2(h),
		now: now, log: log}, nil
}

// HTTPHandler is the REST API as a plain http.Handler (what APIHandler serves).
func (rt *Runtime) HTTPHandler() http.Handler { return rt.http }

// APIHandler serves one API Gateway HTTP API (payload format 2.0) request with the REST API. Every API
// function serves the whole API — routing happens in the handler — and the template attaches each
// function to its own route, which gives per-method IAM, scaling and metrics.
func (rt *Runtime) APIHandler(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return rt.adapter.ProxyWithContext(ctx, ev)
}

// registerSystemApp runs at every cold start: systemapp.Register reads the system app's three catalog
// records and writes only what is missing or changed (a new release's schemas). Functions with write
// access (report-event, engine-step, create-*, …) bring the catalog up to date; in a read-only function
// (the GETs, the catalog reads) a needed write is refused by IAM, logged, and left to the next
// write-capable cold start, so no function gains write access for this. Failure never fails the cold
// start: the records are only needed once someone uses the system app.
func registerSystemApp(s systemapp.Registry, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	wrote, err := systemapp.Register(ctx, s)
	switch {
	case err != nil:
		log.Warn("system app not registered by this function; a function with write access will", "err", err)
	case len(wrote) > 0:
		log.Info("system app registered", "wrote", wrote)
	}
}
