package awse2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/internal/awslocal"
	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/awsrt"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/run"
	sfnrunner "github.com/switchyard-dev/switchyard/pkg/runner/sfn"
	"github.com/switchyard-dev/switchyard/pkg/store/dynamo"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

const definition = "../../statemachines/activation.asl.json"

// The engine functions as the state machine names them after SAM's DefinitionSubstitutions.
const (
	stepFn = "switchyard-EngineStepFunction"
	parkFn = "switchyard-EngineParkFunction"
	failFn = "switchyard-EngineFailFunction"
)

func arn(fn string) string { return "arn:aws:lambda:us-east-1:123456789012:function:" + fn }

var substitutions = map[string]string{
	"EngineStepFunctionArn": arn(stepFn),
	"EngineParkFunctionArn": arn(parkFn),
	"EngineFailFunctionArn": arn(failFn),
}

func TestMain(m *testing.M) {
	code := m.Run()
	awslocal.StopDynamoDB()
	if *updateTransitions && code == 0 {
		if err := writeTransitions(); err != nil {
			fmt.Fprintln(os.Stderr, "TRANSITIONS.md:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// newStore is the switch point between the stores: the DynamoDB store on DynamoDB Local (the AWS path,
// the default), or SQLite with SWITCHYARD_AWSE2E_STORE=sqlite — the same scenarios with the state
// machine and handlers unchanged, which tells a store problem from a state machine problem.
func newStore(t *testing.T) awsrt.Store {
	t.Helper()
	ctx := context.Background()
	if os.Getenv("SWITCHYARD_AWSE2E_STORE") == "sqlite" {
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "awse2e.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	client, err := dynamo.NewLocalClient(awslocal.StartDynamoDB(t))
	if err != nil {
		t.Fatal(err)
	}
	table := "awse2e_" + regexp.MustCompile(`[^A-Za-z0-9_.-]`).ReplaceAllString(t.Name(), "_")
	st := dynamo.New(client, table)
	if err := st.CreateTable(ctx); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return st
}

// world is one deployment of the AWS path: store, the functions' runtime, the local Lambda Invoke API
// with the engine functions registered, a provider, and the executions the "Step Functions" of this
// world runs.
type world struct {
	t      *testing.T
	rt     *awsrt.Runtime
	lambda *awslocal.LambdaServer
	prov   *testprovider.Server
	owner  awse2e.Client
	app    awse2e.Client
	sfn    *executions
	// failGetAction makes the store fail GetAction (an infrastructure error inside a step).
	failGetAction atomic.Bool
}

type worldOptions struct {
	steps     int // STEPS_PER_INVOCATION; 0 = the default
	providers map[string]testprovider.Handler
	// park, when set, wraps the engine-park function (to hold it back in a race test).
	park func(awslocal.Invoker) awslocal.Invoker
	// external, when set, is the URL of a provider the test runs itself: the world starts none (providers
	// is ignored) and registers no site; the caller does, through w.rt.HTTPHandler().
	external string
	// starter, when set, replaces the world's executions as the engine's Starter (the sweep tests put
	// the real sfn runner in front of them); now, when set, is the functions' clock.
	starter func(*world) engine.Starter
	now     func() time.Time
}

func newWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	w := &world{t: t, lambda: awslocal.NewLambdaServer(t)}
	if o.external == "" {
		w.prov = testprovider.Start(t, o.providers)
	}
	w.sfn = &executions{w: w, byName: map[string]*execution{}, kick: make(chan struct{}, 1)}
	env := map[string]string{"TABLE_NAME": "unused", "ADMIN_KEY_HASH": access.Hash(awse2e.AdminKey),
		// The provider listens on loopback, which the AWS deployment never allows by default.
		"ALLOWED_PROVIDER_CIDRS": "127.0.0.0/8", "LOG_LEVEL": "warn"}
	if o.steps > 0 {
		env["STEPS_PER_INVOCATION"] = fmt.Sprint(o.steps)
	}
	cfg, err := awsrt.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	store := &switchableStore{Store: newStore(t), failGetAction: &w.failGetAction}
	logs := &testLog{t: t}
	t.Cleanup(logs.close)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	var starter engine.Starter = w.sfn
	if o.starter != nil {
		starter = o.starter(w)
	}
	if w.rt, err = awsrt.New(cfg, awsrt.Deps{Store: store, Starter: starter, Now: o.now, Logger: logger}); err != nil {
		t.Fatal(err)
	}
	var park awslocal.Invoker = lambda.NewHandler(w.rt.ParkHandler)
	if o.park != nil {
		park = o.park(park)
	}
	w.lambda.Register(stepFn, lambda.NewHandler(w.rt.StepHandler))
	w.lambda.Register(parkFn, park)
	w.lambda.Register(failFn, lambda.NewHandler(w.rt.FailHandler))
	if o.external == "" {
		w.owner, w.app = awse2e.SetupSite(t, w.rt.HTTPHandler(), w.prov.URL)
	}
	return w
}

// testLog sends the functions' logs to the test's log (shown with -v or on failure) until the test ends.
type testLog struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = true
}

// switchableStore can fail GetAction on demand.
type switchableStore struct {
	awsrt.Store
	failGetAction *atomic.Bool
}

func (s *switchableStore) GetAction(ctx context.Context, appID, key string) (*catalog.Action, error) {
	if s.failGetAction.Load() {
		return nil, fmt.Errorf("dynamodb: ProvisionedThroughputExceededException (injected)")
	}
	return s.Store.GetAction(ctx, appID, key)
}

// reportViaLambda reports an event through the report-event function: an API Gateway HTTP API (payload
// 2.0) event into the same handler the Lambda serves.
func (w *world) reportViaLambda(payload map[string]any) []string {
	w.t.Helper()
	body, _ := json.Marshal(map[string]any{"triggerKey": awse2e.Trigger, "payload": payload,
		"externalEntityId": "dddddddd-dddd-4ddd-8ddd-dddddddddddd"})
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "POST /automations/v1/events/report",
		RawPath: "/automations/v1/events/report", Body: string(body),
		Headers: map[string]string{"authorization": w.app.Key, "content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "api.example.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/automations/v1/events/report", SourceIP: "203.0.113.9"}}}
	raw, _ := json.Marshal(ev)
	out, err := lambda.NewHandler(w.rt.APIHandler).Invoke(context.Background(), raw)
	if err != nil {
		w.t.Fatalf("report-event: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	var res struct {
		ActivationIDs []string `json:"activationIds"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &res) != nil {
		w.t.Fatalf("report-event answered %d %s (%v)", resp.StatusCode, resp.Body, err)
	}
	return res.ActivationIDs
}

// execution is one state machine execution for one branch.
type execution struct {
	seq  int // start order
	ref  run.BranchRef
	name string
	run  *awslocal.SFNRun
	res  awslocal.SFNResult
	err  error
	done chan struct{}
}

// States lists the states the execution entered, in order.
func (e *execution) States() []string { return e.run.EnteredStates() }

// Retries counts retried attempts (Step Functions bills each as a transition too).
func (e *execution) Retries() int {
	n := 0
	for _, tr := range e.run.Transitions() {
		if tr.Event == "retry" {
			n++
		}
	}
	return n
}

// executions stands in for Step Functions: it is the engine's Starter (StartExecution, named and
// deduplicated exactly like the sfn runner), Resumer (SendTaskSuccess) and Canceller (StopExecution).
// Start only records: the test goroutine launches the executions (RunStateMachine needs it).
type executions struct {
	w       *world
	mu      sync.Mutex
	byName  map[string]*execution
	pending []*execution
	stopped []run.BranchRef
	kick    chan struct{}
}

func (x *executions) notify() {
	select {
	case x.kick <- struct{}{}:
	default:
	}
}

func (x *executions) Start(_ context.Context, refs []run.BranchRef) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, ref := range refs {
		name := sfnrunner.ExecutionName(ref)
		if x.byName[name] != nil {
			continue // ExecutionAlreadyExists: the runner treats it as started
		}
		e := &execution{seq: len(x.byName), ref: ref, name: name, done: make(chan struct{})}
		x.byName[name] = e
		x.pending = append(x.pending, e)
	}
	x.notify()
	return nil
}

func (x *executions) Resume(_ context.Context, ref run.BranchRef, token string) error {
	if token == "" {
		return nil // not parked yet: engine-park will see the completion (as the sfn runner does)
	}
	e := x.get(ref)
	if e == nil || e.run == nil {
		return fmt.Errorf("no running execution %s", sfnrunner.ExecutionName(ref))
	}
	return e.run.SendTaskSuccess(token, sfnrunner.Input{ActivationID: ref.ActivationID, BranchID: ref.BranchID})
}

func (x *executions) Stop(_ context.Context, refs []run.BranchRef) error {
	for _, ref := range refs {
		x.mu.Lock()
		x.stopped = append(x.stopped, ref)
		x.mu.Unlock()
		if e := x.get(ref); e != nil && e.run != nil {
			if err := e.run.Abort(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (x *executions) get(ref run.BranchRef) *execution {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.byName[sfnrunner.ExecutionName(ref)]
}

// launch starts every execution recorded so far.
func (x *executions) launch(o runOptions) {
	x.w.t.Helper()
	x.mu.Lock()
	pending := x.pending
	x.pending = nil
	x.mu.Unlock()
	for _, e := range pending {
		r := awslocal.RunStateMachine(x.w.t, awslocal.SFNRunRequest{
			DefinitionPath:         definition,
			Substitutions:          substitutions,
			Input:                  sfnrunner.Input{ActivationID: e.ref.ActivationID, BranchID: e.ref.BranchID},
			ExecutionName:          e.name,
			RetryIntervalOverrides: o.retryIntervals,
			Lambda:                 x.w.lambda,
		})
		x.mu.Lock()
		e.run = r
		x.mu.Unlock()
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			e.res, e.err = r.Wait(ctx)
			close(e.done)
			x.notify()
		}()
	}
}

type runOptions struct {
	retryIntervals map[string]int
	// during runs in the test goroutine once the first executions have been launched.
	during func()
}

// runAll launches executions as they are started (the report's roots, then forks) until none is
// pending or running, and returns them in start order.
func (w *world) runAll(o runOptions) []*execution {
	w.t.Helper()
	deadline := time.After(90 * time.Second)
	w.sfn.launch(o)
	if o.during != nil {
		o.during()
	}
	for {
		w.sfn.launch(o)
		w.sfn.mu.Lock()
		var running, all []*execution
		for _, e := range w.sfn.byName {
			all = append(all, e)
			select {
			case <-e.done:
			default:
				running = append(running, e)
			}
		}
		pending := len(w.sfn.pending)
		w.sfn.mu.Unlock()
		if len(running) == 0 && pending == 0 {
			for _, e := range all {
				if e.err != nil {
					w.t.Fatalf("execution %s: %v\n%s", e.name, e.err, e.run.Stderr())
				}
			}
			sortExecutions(all)
			return all
		}
		select {
		case <-w.sfn.kick:
		case <-deadline:
			for _, e := range running {
				w.t.Logf("still running: %s, states %v", e.name, e.States())
			}
			w.t.Fatal("executions did not finish within 90s")
		}
	}
}

func sortExecutions(es []*execution) {
	sort.Slice(es, func(i, j int) bool { return es[i].seq < es[j].seq })
}

// transitions renders an execution's path, e.g. "Step → Route → Done (3 transitions)".
func transitions(e *execution) string {
	states := e.States()
	s := strings.Join(states, " → ")
	n := len(states) + e.Retries()
	if r := e.Retries(); r > 0 {
		s += fmt.Sprintf(" (+%d retries)", r)
	}
	return fmt.Sprintf("%s (%d transitions)", s, n)
}
