package awsrt_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/internal/awslocal"
	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/awsrt"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

func TestConfigFromEnv(t *testing.T) {
	hash := access.Hash("sy_admin")
	tests := []struct {
		name    string
		env     map[string]string
		want    func(awsrt.Config) bool
		wantErr string
	}{
		{"defaults", map[string]string{"TABLE_NAME": "t"}, func(c awsrt.Config) bool {
			return c.TableName == "t" && c.LogLevel == slog.LevelInfo && !c.AllowPrivateProviders &&
				c.AllowedNetworks.Empty() && c.StepsPerInvocation == 10 && c.StepReserve == 40*time.Second
		}, ""},
		{"everything", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:1:stateMachine:s",
			"LOG_LEVEL": "debug", "ADMIN_KEY_HASH": strings.ToUpper(hash), "ALLOW_PRIVATE_PROVIDERS": "true",
			"ALLOWED_PROVIDER_CIDRS": " 10.1.2.3/16 , 127.0.0.0/8, 10.9.9.9:8443, hooks.internal:443", "STEPS_PER_INVOCATION": "3", "STEP_RESERVE": "5s", "STAGE": "dev"},
			func(c awsrt.Config) bool {
				return c.StateMachineARN != "" && c.LogLevel == slog.LevelDebug && c.AdminKeyHash == hash && c.AllowPrivateProviders &&
					slices.Equal(c.AllowedNetworks.CIDRs, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("127.0.0.0/8")}) &&
					c.AllowedNetworks.String() == "10.1.0.0/16,127.0.0.0/8,10.9.9.9:8443,hooks.internal:443" &&
					c.StepsPerInvocation == 3 && c.StepReserve == 5*time.Second && c.Stage == "dev"
			}, ""},
		{"no table", map[string]string{}, nil, "TABLE_NAME"},
		{"raw key instead of its hash", map[string]string{"TABLE_NAME": "t", "ADMIN_KEY_HASH": "sy_admin"}, nil, "ADMIN_KEY_HASH"},
		{"bad level", map[string]string{"TABLE_NAME": "t", "LOG_LEVEL": "loud"}, nil, "LOG_LEVEL"},
		{"bad bool", map[string]string{"TABLE_NAME": "t", "ALLOW_PRIVATE_PROVIDERS": "maybe"}, nil, "ALLOW_PRIVATE_PROVIDERS"},
		{"bad cidr", map[string]string{"TABLE_NAME": "t", "ALLOWED_PROVIDER_CIDRS": "10.0.0.0/33"}, nil, "ALLOWED_PROVIDER_CIDRS"},
		{"bad host:port", map[string]string{"TABLE_NAME": "t", "ALLOWED_PROVIDER_CIDRS": "hooks.internal"}, nil, "ALLOWED_PROVIDER_CIDRS"},
		{"bad steps", map[string]string{"TABLE_NAME": "t", "STEPS_PER_INVOCATION": "0"}, nil, "STEPS_PER_INVOCATION"},
		{"bad reserve", map[string]string{"TABLE_NAME": "t", "STEP_RESERVE": "-1s"}, nil, "STEP_RESERVE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := awsrt.ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.want(c) {
				t.Fatalf("ConfigFromEnv = %+v, %v", c, err)
			}
		})
	}
}

// recorder stands in for the Step Functions runner: it records starts and wake-ups.
type recorder struct {
	mu      sync.Mutex
	started []run.BranchRef
	resumed []string // task tokens
}

func (r *recorder) Start(_ context.Context, refs []run.BranchRef) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, refs...)
	return nil
}

func (r *recorder) Resume(_ context.Context, _ run.BranchRef, token string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resumed = append(r.resumed, token)
	return nil
}

func (r *recorder) tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.resumed)
}

type fixture struct {
	store *sqlite.Store
	rec   *recorder
	rt    *awsrt.Runtime
	prov  *testprovider.Server
	owner awse2e.Client
	app   awse2e.Client
}

// newFixture is a runtime over a fresh SQLite store (the engine-task handlers only need the store
// contract, which both stores pass) with the fixture site registered through the API.
func newFixture(t *testing.T, env map[string]string, handlers map[string]testprovider.Handler) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "awsrt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{store: store, rec: &recorder{}, prov: testprovider.Start(t, handlers)}
	f.rt = newRuntime(t, env, store, f.rec)
	f.owner, f.app = awse2e.SetupSite(t, f.rt.HTTPHandler(), f.prov.URL)
	return f
}

func newRuntime(t *testing.T, env map[string]string, store awsrt.Store, starter engine.Starter) *awsrt.Runtime {
	t.Helper()
	base := map[string]string{"TABLE_NAME": "unused", "ADMIN_KEY_HASH": access.Hash(awse2e.AdminKey),
		"ALLOWED_PROVIDER_CIDRS": "127.0.0.0/8"} // the test provider is on loopback, which AWS never allows
	for k, v := range env {
		base[k] = v
	}
	cfg, err := awsrt.ConfigFromEnv(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	rt, err := awsrt.New(cfg, awsrt.Deps{Store: store, Starter: starter, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// report creates one activation and returns its only branch.
func (f *fixture) report(t *testing.T, automation map[string]any) run.BranchRef {
	t.Helper()
	f.owner.Must("POST", "/v2/automations", automation)
	ids := f.app.Report(map[string]any{"name": "Ada", "email": "ada@example.com"}, "")
	if len(ids) != 1 {
		t.Fatalf("activations = %v", ids)
	}
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	for _, ref := range f.rec.started {
		if ref.ActivationID == ids[0] {
			return ref
		}
	}
	t.Fatalf("no branch of %s was started", ids[0])
	return run.BranchRef{}
}

func step(t *testing.T, rt *awsrt.Runtime, ctx context.Context, ref run.BranchRef) awsrt.StepOutput {
	t.Helper()
	out, err := rt.StepHandler(ctx, awsrt.StepInput{ActivationID: ref.ActivationID, BranchID: ref.BranchID})
	if err != nil {
		t.Fatalf("StepHandler: %v", err)
	}
	return out
}

func TestStepHandlerBatchesImmediateActions(t *testing.T) {
	tests := []struct {
		name     string
		steps    string
		deadline time.Duration // 0: no deadline on the invocation
		want     []engine.InstructionKind
	}{
		{"one step per invocation", "1", 0, []engine.InstructionKind{engine.Continue, engine.Continue, engine.Done}},
		{"batched", "10", 0, []engine.InstructionKind{engine.Done}},
		{"batch of two", "2", 0, []engine.InstructionKind{engine.Continue, engine.Done}},
		{"too little time left for a second step", "10", 2 * time.Second, []engine.InstructionKind{engine.Continue, engine.Continue, engine.Done}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, map[string]string{"STEPS_PER_INVOCATION": tc.steps}, nil)
			ref := f.report(t, awse2e.Chain(3))
			var got []engine.InstructionKind
			for range tc.want {
				ctx := context.Background()
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				got = append(got, step(t, f.rt, ctx, ref).Instruction)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("instructions = %v, want %v", got, tc.want)
			}
			if n := len(f.prov.CallsFor("note")); n != 3 {
				t.Fatalf("note invoked %d times, want 3", n)
			}
			if log := f.owner.ActivationLog(ref.ActivationID); log["status"] != "ENDED" {
				t.Fatalf("activation = %v", log)
			}
		})
	}
}

func TestStepHandlerWaitAndAwaitOutputs(t *testing.T) {
	t.Parallel()
	async := map[string]testprovider.Handler{
		"approve": func(testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{},
				"invokeTimeoutType": "TIMEOUT_LENGTH", "timeoutLengthOptions": map[string]any{"timeoutInMinutes": 5}}}
		},
	}
	t.Run("delay", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		before := time.Now()
		wait := step(t, f.rt, context.Background(), f.report(t, awse2e.Delayed(90*time.Second)))
		until, err := time.Parse(time.RFC3339, wait.Until)
		if wait.Instruction != engine.Wait || err != nil || until.Nanosecond() != 0 || !strings.HasSuffix(wait.Until, "Z") ||
			until.Before(before.Add(90*time.Second)) || until.After(time.Now().Add(92*time.Second)) || wait.TimeoutSeconds != 0 {
			t.Fatalf("delay step = %+v (%v), want WAIT until about 90 s ahead in whole UTC seconds", wait, err)
		}
	})
	t.Run("async action", func(t *testing.T) {
		f := newFixture(t, nil, async)
		await := step(t, f.rt, context.Background(), f.report(t, awse2e.Approval()))
		until, err := time.Parse(time.RFC3339, await.Until)
		if await.Instruction != engine.Await || err != nil || until.Nanosecond() != 0 || await.TimeoutSeconds < 299 || await.TimeoutSeconds > 301 {
			t.Fatalf("async step = %+v (%v), want AWAIT with about 300 s to wait", await, err)
		}
		raw, _ := json.Marshal(await)
		var wire map[string]any
		if err := json.Unmarshal(raw, &wire); err != nil || wire["instruction"] != "AWAIT" || wire["timeoutSeconds"] == nil || wire["until"] == nil {
			t.Fatalf("wire form %s", raw)
		}
	})
}

func TestParkHandler(t *testing.T) {
	t.Parallel()
	tokens := make(chan string, 2)
	f := newFixture(t, nil, map[string]testprovider.Handler{
		"approve": func(c testprovider.Call) testprovider.Reply {
			tokens <- c.ActivationContext["invocationToken"].(string)
			return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{},
				"invokeTimeoutType": "TIMEOUT_LENGTH", "timeoutLengthOptions": map[string]any{"timeoutInMinutes": 5}}}
		},
	})
	ctx := context.Background()
	ref := f.report(t, awse2e.Approval())
	if out := step(t, f.rt, ctx, ref); out.Instruction != engine.Await {
		t.Fatalf("step = %+v, want AWAIT", out)
	}
	park := func(token string) awsrt.ParkOutput {
		t.Helper()
		out, err := f.rt.ParkHandler(ctx, awsrt.ParkInput{TaskToken: token, ActivationID: ref.ActivationID, BranchID: ref.BranchID})
		if err != nil {
			t.Fatalf("ParkHandler: %v", err)
		}
		return out
	}
	if out := park("task-token-1"); !out.Parked || out.Woken {
		t.Fatalf("park = %+v, want parked", out)
	}
	if br, _ := f.store.GetBranch(ctx, ref.ActivationID, ref.BranchID); br.Await == nil || br.Await.TaskToken != "task-token-1" {
		t.Fatalf("branch await = %+v, want the task token stored", br.Await)
	}
	if out := park("task-token-1"); !out.Parked {
		t.Fatalf("repeated park = %+v", out)
	}

	// The provider completes the action: the engine wakes the parked execution with its token.
	f.app.Must("POST", "/automations_runtime/v1/report-action-invocation-completed", map[string]any{
		"invocationToken": <-tokens, "status": "SUCCESS", "successInfo": map[string]any{"result": map[string]any{"by": "Bo"}}})
	if got := f.rec.tokens(); !slices.Equal(got, []string{"task-token-1"}) {
		t.Fatalf("resumed tokens = %v, want [task-token-1]", got)
	}
	// A park arriving after the completion (a retried or late park) must not wait for a wake-up that
	// already happened: it wakes its own task at once.
	if out := park("task-token-2"); !out.Woken || out.Parked {
		t.Fatalf("park after completion = %+v, want woken", out)
	}
	if got := f.rec.tokens(); !slices.Equal(got, []string{"task-token-1", "task-token-2"}) {
		t.Fatalf("resumed tokens = %v", got)
	}
	if out := step(t, f.rt, ctx, ref); out.Instruction != engine.Done {
		t.Fatalf("step after completion = %+v, want DONE", out)
	}
	if calls := f.prov.CallsFor("note"); len(calls) != 1 || calls[0].ActionParams["text"] != "approved by Bo" {
		t.Fatalf("note calls = %+v", calls)
	}
}

// failingStore fails the calls named in fail with an infrastructure error.
type failingStore struct {
	awsrt.Store
	fail map[string]bool
}

var errDown = errors.New("store unavailable")

func (s *failingStore) GetActivation(ctx context.Context, id string) (*run.Activation, error) {
	if s.fail["GetActivation"] {
		return nil, errDown
	}
	return s.Store.GetActivation(ctx, id)
}

func (s *failingStore) GetBranch(ctx context.Context, a, b string) (*run.Branch, error) {
	if s.fail["GetBranch"] {
		return nil, errDown
	}
	return s.Store.GetBranch(ctx, a, b)
}

func (s *failingStore) GetAction(ctx context.Context, appID, key string) (*catalog.Action, error) {
	if s.fail["GetAction"] {
		return nil, errDown
	}
	return s.Store.GetAction(ctx, appID, key)
}

// failer adds FailActivation to a store.
type failer struct {
	awsrt.Store
	mu     sync.Mutex
	failed map[string]run.FailedInfo
}

func (s *failer) FailActivation(_ context.Context, id string, info run.FailedInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed[id] = info
	return nil
}

// TestErrorTypeNames: Step Functions matches Retry and Catch on the errorType aws-lambda-go reports,
// which is the Go type name of the returned error (awslocal.LambdaErrorType computes the same).
func TestErrorTypeNames(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil)
	ref := f.report(t, awse2e.Chain(1))
	tests := []struct {
		name    string
		fail    map[string]bool
		handler func(rt *awsrt.Runtime) any
		payload any
		want    string
	}{
		{"step: store down", map[string]bool{"GetActivation": true}, func(rt *awsrt.Runtime) any { return rt.StepHandler },
			awsrt.StepInput{ActivationID: ref.ActivationID, BranchID: ref.BranchID}, "StepError"},
		{"step: ids missing", nil, func(rt *awsrt.Runtime) any { return rt.StepHandler }, map[string]string{}, "InvalidInput"},
		{"park: store down", map[string]bool{"GetBranch": true}, func(rt *awsrt.Runtime) any { return rt.ParkHandler },
			awsrt.ParkInput{TaskToken: "tok", ActivationID: ref.ActivationID, BranchID: ref.BranchID}, "ParkError"},
		{"park: no token", nil, func(rt *awsrt.Runtime) any { return rt.ParkHandler },
			awsrt.ParkInput{ActivationID: ref.ActivationID, BranchID: ref.BranchID}, "InvalidInput"},
		{"fail: store down", map[string]bool{"GetActivation": true}, func(rt *awsrt.Runtime) any { return rt.FailHandler },
			awsrt.FailInput{ActivationID: ref.ActivationID, BranchID: ref.BranchID, Error: "StepError"}, "FailError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t, nil, &failingStore{Store: f.store, fail: tc.fail}, f.rec)
			payload, _ := json.Marshal(tc.payload)
			_, err := lambda.NewHandler(tc.handler(rt)).Invoke(context.Background(), payload)
			if err == nil {
				t.Fatal("no error")
			}
			if got := awslocal.LambdaErrorType(err); got != tc.want {
				t.Fatalf("errorType = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestFailHandler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("fallback closes the branch with its action FAILED", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		ref := f.report(t, awse2e.Chain(2))
		out, err := f.rt.FailHandler(ctx, awsrt.FailInput{ActivationID: ref.ActivationID, BranchID: ref.BranchID,
			Error: "StepError", Cause: "store unavailable"})
		if err != nil || !out.BranchClosed || out.ActivationFailed {
			t.Fatalf("FailHandler = %+v, %v", out, err)
		}
		log := f.owner.ActivationLog(ref.ActivationID)
		if log["status"] != "ENDED" || awse2e.Dig(log, "endedInfo.withFailedActions") != true {
			t.Fatalf("activation = %v, want ENDED with failed actions", log)
		}
		logs := f.owner.ActionLogs(ref.ActivationID)
		if len(logs) != 1 || logs[0]["activationStatus"] != "FAILED" || awse2e.Dig(logs[0], "failedInfo.errorCode") != "ENGINE_STEP_FAILED" ||
			!strings.Contains(awse2e.Dig(logs[0], "failedInfo.errorDescription").(string), "store unavailable") {
			t.Fatalf("action logs = %v", logs)
		}
		// Repeated (a retried Lambda): nothing left to close.
		if out, err := f.rt.FailHandler(ctx, awsrt.FailInput{ActivationID: ref.ActivationID, BranchID: ref.BranchID}); err != nil || out.BranchClosed {
			t.Fatalf("repeated FailHandler = %+v, %v", out, err)
		}
	})
	t.Run("a store with FailActivation marks the activation FAILED", func(t *testing.T) {
		f := newFixture(t, nil, nil)
		ref := f.report(t, awse2e.Chain(1))
		st := &failer{Store: f.store, failed: map[string]run.FailedInfo{}}
		rt := newRuntime(t, nil, st, f.rec)
		out, err := rt.FailHandler(ctx, awsrt.FailInput{ActivationID: ref.ActivationID, BranchID: ref.BranchID, Error: "StepError", Cause: "x"})
		if err != nil || !out.ActivationFailed {
			t.Fatalf("FailHandler = %+v, %v", out, err)
		}
		if info := st.failed[ref.ActivationID]; info.ErrorCode != "ENGINE_STEP_FAILED" || info.ErrorReason != "StepError" {
			t.Fatalf("failedInfo = %+v", info)
		}
	})
}

// TestAPIHandler serves an API Gateway HTTP API (payload 2.0) event through the adapter.
func TestAPIHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil)
	created := f.owner.Must("POST", "/v2/automations", awse2e.Chain(1))["automation"].(map[string]any)
	id := created["id"].(string)
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /v2/automations/{automationId}", RawPath: "/v2/automations/" + id,
		RawQueryString: "automationId=" + id,
		Headers:        map[string]string{"authorization": f.owner.Key, "host": "api.example.com"},
		PathParameters: map[string]string{"automationId": id},
		RequestContext: events.APIGatewayV2HTTPRequestContext{DomainName: "api.example.com", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/v2/automations/" + id, SourceIP: "203.0.113.1"}},
	}
	payload, _ := json.Marshal(ev)
	raw, err := lambda.NewHandler(f.rt.APIHandler).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &body) != nil || awse2e.Dig(body, "automation.id") != id {
		t.Fatalf("response = %d %s", resp.StatusCode, resp.Body)
	}
	if resp.Headers["Content-Type"] == "" && resp.MultiValueHeaders["Content-Type"] == nil {
		t.Fatalf("response has no Content-Type: %+v", resp.Headers)
	}
}
