package awse2e_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/internal/awslocal"
	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

var updateTransitions = flag.Bool("update-transitions", false, "rewrite TRANSITIONS.md from this run")

// transitionLog collects one line per scenario and activation for TRANSITIONS.md.
var transitionLog = struct {
	sync.Mutex
	lines map[string]string // "group/scenario" → line
}{lines: map[string]string{}}

// report prints a scenario's path (t.Log, and stdout under -v) and keeps it for TRANSITIONS.md.
func report(t *testing.T, group, scenario string, es ...*execution) {
	t.Helper()
	var parts []string
	total := 0
	for _, e := range es {
		parts = append(parts, transitions(e))
		total += len(e.States()) + e.Retries()
	}
	line := fmt.Sprintf("%s: %s", scenario, strings.Join(parts, " + "))
	if len(es) > 1 {
		line += fmt.Sprintf(" = %d transitions", total)
	}
	t.Log(line)
	if testing.Verbose() {
		fmt.Println(line)
	}
	transitionLog.Lock()
	transitionLog.lines[group+"\x00"+scenario] = line
	transitionLog.Unlock()
}

func writeTransitions() error {
	transitionLog.Lock()
	defer transitionLog.Unlock()
	groups := map[string][]string{}
	var keys []string
	for k := range transitionLog.lines {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, _, _ := strings.Cut(k, "\x00")
		groups[g] = append(groups[g], transitionLog.lines[k])
	}
	var b strings.Builder
	b.WriteString(`# State transitions per activation (AWS path)

Standard workflows bill per state transition. These are the states each execution entered, measured by
the offline end-to-end tests (real ASL on aws-local-stepfunctions, real handlers, DynamoDB Local) and
written by ` + "`go test ./internal/awse2e -run . -update-transitions`" + `. "Done" is the Succeed state; a retry is
billed as a transition too. One execution runs per branch of an activation.

`)
	var names []string
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		b.WriteString("## " + g + "\n\n")
		for _, l := range groups[g] {
			b.WriteString("- " + l + "\n")
		}
		b.WriteString("\n")
	}
	return os.WriteFile("TRANSITIONS.md", []byte(b.String()), 0o644)
}

// One immediate action costs Step + Route; batching (STEPS_PER_INVOCATION, default 10) runs consecutive
// immediate actions in one engine-step invocation.
const (
	groupPerAction = "A: STEPS_PER_INVOCATION=1 (one Step + Route per action)"
	groupBatched   = "B: STEPS_PER_INVOCATION=10 (default: immediate actions batched)"
)

func TestASLDefinitionsValid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../statemachines/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no state machine definitions: %v", err)
	}
	for _, f := range files {
		awslocal.ValidateASL(t, f)
	}
}

// TestWalkingSkeleton is cmd/switchyard's TestEndToEndTwoActionAutomation on the AWS path: the event is
// reported through the report-event function's API Gateway adapter, the branch runs as a state machine
// execution, and the run logs are the local runtime's.
func TestWalkingSkeleton(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{providers: map[string]testprovider.Handler{
		"lookup_coupon": testprovider.Result(map[string]any{"code": "WELCOME10"}),
		"send_sms":      testprovider.Result(map[string]any{"messageId": "m-1"}),
	}})
	created := w.owner.Must("POST", "/v2/automations", awse2e.CouponBySMS())["automation"].(map[string]any)
	if created["revision"] != "1" || awse2e.Dig(created, "configuration.actions."+awse2e.ActionID(1)+".namespace") != "lookup_coupon-1" {
		t.Fatalf("created automation = %v", created)
	}
	ids := w.reportViaLambda(map[string]any{"name": "Ada", "email": "ada@example.com"})
	if len(ids) != 1 {
		t.Fatalf("activationIds = %v, want one", ids)
	}
	actID := ids[0]
	es := w.runAll(runOptions{})
	if len(es) != 1 || es[0].name != actID+"-"+awse2e.ActionID(1) || es[0].res.Status != "SUCCEEDED" {
		t.Fatalf("executions = %+v", summary(es))
	}
	report(t, groupBatched, "2-action walking skeleton (lookup_coupon → send_sms)", es...)

	log := w.owner.ActivationLog(actID)
	if log["status"] != "ENDED" || awse2e.Dig(log, "endedInfo.withFailedActions") != false {
		t.Fatalf("activation log = %v, want ENDED without failed actions", log)
	}
	if awse2e.Dig(log, "initiatedInfo.payload.name") != "Ada" || awse2e.Dig(log, "startedInfo.payload.email") != "ada@example.com" {
		t.Fatalf("activation log infos = %v", log)
	}
	sms := w.prov.CallsFor("send_sms")
	if len(sms) != 1 || sms[0].ActionParams["text"] != "Hi Ada, your code is WELCOME10!" {
		t.Fatalf("send_sms calls = %+v", sms)
	}
	ac := sms[0].ActivationContext
	if ac["activationId"] != actID || ac["actionId"] != awse2e.ActionID(2) || ac["triggerKey"] != awse2e.Trigger ||
		ac["triggerAppId"] != awse2e.App || ac["actionAppId"] != awse2e.App || fmt.Sprint(ac["invocationToken"]) == "" {
		t.Fatalf("activationContext = %v", ac)
	}
	if awse2e.Dig(ac, "payload.lookup_coupon-1.code") != "WELCOME10" {
		t.Fatalf("payload seen by the second action lacks the first action's output: %v", ac["payload"])
	}
	if k := sms[0].Header.Get("Idempotency-Key"); k != actID+":"+awse2e.ActionID(2) {
		t.Fatalf("Idempotency-Key = %q", k)
	}
	logs := w.owner.ActionLogs(actID)
	if len(logs) != 2 {
		t.Fatalf("action logs = %v, want 2", logs)
	}
	first, second := logs[0], logs[1]
	if first["id"] != awse2e.ActionID(1) || first["activationStatus"] != "ENDED" ||
		awse2e.Dig(first, "startedInfo.appDefinedActionInfo.input.email") != "ada@example.com" ||
		awse2e.Dig(first, "endedInfo.appDefinedActionInfo.output.code") != "WELCOME10" {
		t.Fatalf("first action log = %v", first)
	}
	if second["id"] != awse2e.ActionID(2) || second["activationStatus"] != "ENDED" || second["type"] != "APP_DEFINED" ||
		awse2e.Dig(second, "endedInfo.appDefinedActionInfo.output.messageId") != "m-1" {
		t.Fatalf("second action log = %v", second)
	}
}

// TestProviderFailureFlowContinues: a provider error FAILS the action, not the execution; the flow goes on.
func TestProviderFailureFlowContinues(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{providers: map[string]testprovider.Handler{
		"lookup_coupon": func(testprovider.Call) testprovider.Reply {
			return testprovider.Reply{Status: 400, Body: map[string]any{"message": "unknown customer"}}
		},
	}})
	w.owner.Must("POST", "/v2/automations", awse2e.CouponBySMS())
	ids := w.app.Report(map[string]any{"name": "Bo", "email": "bo@example.com"}, "")
	es := w.runAll(runOptions{})
	if len(es) != 1 || es[0].res.Status != "SUCCEEDED" {
		t.Fatalf("executions = %+v", summary(es))
	}
	log := w.owner.ActivationLog(ids[0])
	if log["status"] != "ENDED" || awse2e.Dig(log, "endedInfo.withFailedActions") != true {
		t.Fatalf("activation = %v, want ENDED with failed actions", log)
	}
	if first := w.owner.ActionLogs(ids[0])[0]; first["activationStatus"] != "FAILED" || fmt.Sprint(awse2e.Dig(first, "failedInfo.errorDescription")) == "" {
		t.Fatalf("first action = %v, want FAILED with a description", first)
	}
	if sms := w.prov.CallsFor("send_sms"); len(sms) != 1 || sms[0].ActionParams["text"] != "Hi Bo, your code is !" {
		t.Fatalf("send_sms calls = %+v", sms)
	}
}

// TestTransitionsPerAction runs chains of 1, 2 and 3 immediate actions (three automations on one
// trigger: one event, three activations, three executions) with and without batching.
func TestTransitionsPerAction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		group string
		steps int
		want  map[int]int // chain length → states entered
	}{
		{groupPerAction, 1, map[int]int{1: 3, 2: 5, 3: 7}},
		{groupBatched, 0, map[int]int{1: 3, 2: 3, 3: 3}},
	} {
		t.Run(fmt.Sprintf("steps=%d", tc.steps), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOptions{steps: tc.steps})
			length := map[string]int{} // automation id → chain length
			for n := 1; n <= 3; n++ {
				a := w.owner.Must("POST", "/v2/automations", awse2e.Chain(n))["automation"].(map[string]any)
				length[a["id"].(string)] = n
			}
			ids := w.app.Report(map[string]any{"name": "Cy", "email": "cy@example.com"}, "")
			es := w.runAll(runOptions{})
			if len(ids) != 3 || len(es) != 3 {
				t.Fatalf("activations %v, executions %+v", ids, summary(es))
			}
			byLength := map[int]*execution{}
			for _, e := range es {
				log := w.owner.ActivationLog(e.ref.ActivationID)
				if e.res.Status != "SUCCEEDED" || log["status"] != "ENDED" {
					t.Fatalf("execution %s: %s, activation %v", e.name, e.res.Status, log)
				}
				n := length[log["automationId"].(string)]
				byLength[n] = e
				if got := len(e.States()); got != tc.want[n] {
					t.Errorf("%d-action chain entered %d states %v, want %d", n, got, e.States(), tc.want[n])
				}
				if logs := w.owner.ActionLogs(e.ref.ActivationID); len(logs) != n {
					t.Errorf("%d-action chain has %d action logs", n, len(logs))
				}
			}
			for n := 1; n <= 3; n++ {
				report(t, tc.group, fmt.Sprintf("%d-action", n), byLength[n])
			}
			if calls := len(w.prov.CallsFor("note")); calls != 6 {
				t.Fatalf("note invoked %d times, want 1+2+3", calls)
			}
		})
	}
}

// TestDelay: a DELAY action parks the branch in the Wait state (TimestampPath) until its due time.
func TestDelay(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.owner.Must("POST", "/v2/automations", awse2e.Delayed(1200*time.Millisecond))
	reported := time.Now()
	ids := w.app.Report(map[string]any{"name": "Di", "email": "di@example.com"}, "")
	es := w.runAll(runOptions{})
	if len(es) != 1 || es[0].res.Status != "SUCCEEDED" {
		t.Fatalf("executions = %+v", summary(es))
	}
	if want := []string{"Step", "Route", "Delay", "Step", "Route", "Done"}; !slices.Equal(es[0].States(), want) {
		t.Fatalf("states = %v, want %v", es[0].States(), want)
	}
	report(t, groupBatched, "delay 1.2 s → 1 action", es...)
	notes := w.prov.CallsFor("note")
	if len(notes) != 1 || notes[0].At.Sub(reported) < 1200*time.Millisecond {
		t.Fatalf("note calls = %+v: want one, at least 1.2 s after the report", notes)
	}
	logs := w.owner.ActionLogs(ids[0])
	if len(logs) != 2 || logs[0]["type"] != "DELAY" || logs[0]["activationStatus"] != "ENDED" || logs[1]["activationStatus"] != "ENDED" {
		t.Fatalf("action logs = %v", logs)
	}
	if log := w.owner.ActivationLog(ids[0]); log["status"] != "ENDED" {
		t.Fatalf("activation = %v", log)
	}
}

// asyncProvider answers approve asynchronously with the timeout fields timeout returns at the time of the
// call, and hands the invocation tokens to the test without ever blocking the provider.
func asyncProvider(tokens chan<- string, timeout func() map[string]any) map[string]testprovider.Handler {
	return map[string]testprovider.Handler{
		"approve": func(c testprovider.Call) testprovider.Reply {
			select {
			case tokens <- c.ActivationContext["invocationToken"].(string):
			default:
			}
			body := map[string]any{"result": map[string]any{}}
			for k, v := range timeout() {
				body[k] = v
			}
			return testprovider.Reply{Status: 200, Body: body}
		},
	}
}

// TestAsyncCompletion: an async action parks the execution in the waitForTaskToken state; engine-park
// stores the task token; ReportActionInvocationCompleted wakes it (SendTaskSuccess) and Step resolves the
// action. Both orders of park and completion are run: the completion may arrive before the park.
func TestAsyncCompletion(t *testing.T) {
	t.Parallel()
	fiveMinutes := func() map[string]any {
		return map[string]any{"invokeTimeoutType": "TIMEOUT_LENGTH", "timeoutLengthOptions": map[string]any{"timeoutInMinutes": 5}}
	}
	for _, order := range []string{"completion after park", "completion before park"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			tokens := make(chan string, 2)
			hold := make(chan struct{})
			o := worldOptions{providers: asyncProvider(tokens, fiveMinutes)}
			if order == "completion before park" {
				// engine-park is held back until the completion is recorded.
				o.park = func(inner awslocal.Invoker) awslocal.Invoker {
					return awslocal.InvokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
						<-hold
						return inner.Invoke(ctx, p)
					})
				}
			} else {
				close(hold)
			}
			w := newWorld(t, o)
			w.owner.Must("POST", "/v2/automations", awse2e.Approval())
			ids := w.app.Report(map[string]any{"name": "Ed", "email": "ed@example.com"}, "")
			ref := run.BranchRef{ActivationID: ids[0], BranchID: awse2e.ActionID(1)}
			es := w.runAll(runOptions{during: func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				e := w.sfn.get(ref)
				taskToken, err := e.run.WaitForTaskToken(ctx, "AwaitCompletion")
				if err != nil {
					t.Fatalf("no task token: %v (states %v)", err, e.run.EnteredStates())
				}
				if order == "completion after park" {
					waitParked(t, w, ref, taskToken)
				}
				w.app.Must("POST", "/automations_runtime/v1/report-action-invocation-completed", map[string]any{
					"invocationToken": <-tokens, "status": "SUCCESS", "successInfo": map[string]any{"result": map[string]any{"by": "Bo"}}})
				if order == "completion before park" {
					close(hold)
				}
			}})
			if len(es) != 1 || es[0].res.Status != "SUCCEEDED" {
				t.Fatalf("executions = %+v", summary(es))
			}
			if want := []string{"Step", "Route", "AwaitCompletion", "Step", "Route", "Done"}; !slices.Equal(es[0].States(), want) {
				t.Fatalf("states = %v, want %v", es[0].States(), want)
			}
			parks := w.lambda.Invocations(parkFn)
			woken := len(parks) == 1 && strings.Contains(string(parks[0].Response), `"woken":true`)
			if len(parks) != 1 || woken != (order == "completion before park") {
				t.Fatalf("engine-park invocations = %d, woken %v (response %s)", len(parks), woken, parks[0].Response)
			}
			if order == "completion after park" {
				report(t, groupBatched, "async action completed → 1 action", es...)
			}
			logs := w.owner.ActionLogs(ids[0])
			if len(logs) != 2 || logs[0]["activationStatus"] != "ENDED" || awse2e.Dig(logs[0], "endedInfo.appDefinedActionInfo.output.by") != "Bo" {
				t.Fatalf("action logs = %v", logs)
			}
			if notes := w.prov.CallsFor("note"); len(notes) != 1 || notes[0].ActionParams["text"] != "approved by Bo" {
				t.Fatalf("note calls = %+v", notes)
			}
		})
	}
}

// waitParked waits until engine-park has stored the execution's task token on the branch.
func waitParked(t *testing.T, w *world, ref run.BranchRef, token string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, inv := range w.lambda.Invocations(parkFn) {
			if inv.ErrorType != "" {
				t.Fatalf("engine-park failed: %s: %s", inv.ErrorType, inv.ErrorMessage)
			}
			if strings.Contains(string(inv.Response), `"parked":true`) && strings.Contains(string(inv.Payload), token) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine-park never stored task token %s", token)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAsyncTimeout: without a completion the waitForTaskToken state times out (TimeoutSecondsPath);
// States.Timeout is caught into Step, which marks the action FAILED, and the flow goes on.
func TestAsyncTimeout(t *testing.T) {
	t.Parallel()
	tokens := make(chan string, 2)
	// The deadline is set when the provider answers: computed earlier, a slow start could put it in the past.
	soon := func() map[string]any {
		return map[string]any{"invokeTimeoutType": "TIMEOUT_DATE",
			"timeoutDateOptions": map[string]any{"timeoutDate": time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)}}
	}
	w := newWorld(t, worldOptions{providers: asyncProvider(tokens, soon)})
	w.owner.Must("POST", "/v2/automations", awse2e.Approval())
	ids := w.app.Report(map[string]any{"name": "Flo", "email": "flo@example.com"}, "")
	es := w.runAll(runOptions{})
	if len(es) != 1 || es[0].res.Status != "SUCCEEDED" {
		t.Fatalf("executions = %+v", summary(es))
	}
	if want := []string{"Step", "Route", "AwaitCompletion", "Step", "Route", "Done"}; !slices.Equal(es[0].States(), want) {
		t.Fatalf("states = %v, want %v", es[0].States(), want)
	}
	timedOut := false
	for _, tr := range es[0].run.Transitions() {
		timedOut = timedOut || (tr.Event == "fail" && tr.State == "AwaitCompletion" && tr.Error == "States.Timeout")
	}
	if !timedOut {
		t.Fatalf("AwaitCompletion did not end with States.Timeout: %+v", es[0].run.Transitions())
	}
	report(t, groupBatched, "async action timed out → 1 action", es...)
	log := w.owner.ActivationLog(ids[0])
	if log["status"] != "ENDED" || awse2e.Dig(log, "endedInfo.withFailedActions") != true {
		t.Fatalf("activation = %v, want ENDED with failed actions", log)
	}
	logs := w.owner.ActionLogs(ids[0])
	if len(logs) != 2 || logs[0]["activationStatus"] != "FAILED" || logs[1]["activationStatus"] != "ENDED" {
		t.Fatalf("action logs = %v, want the async action FAILED and the next one ENDED", logs)
	}
}

// TestFork: a second post action forks a branch; engine-step starts its execution (deterministic name),
// and the activation ends when both branches have.
func TestFork(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.owner.Must("POST", "/v2/automations", awse2e.Fork())
	ids := w.app.Report(map[string]any{"name": "Gus", "email": "gus@example.com"}, "")
	es := w.runAll(runOptions{})
	if len(es) != 2 || es[0].name != ids[0]+"-"+awse2e.ActionID(1) || es[1].name != ids[0]+"-"+awse2e.ActionID(3) {
		t.Fatalf("executions = %+v, want the root branch and the fork at %s", summary(es), awse2e.ActionID(3))
	}
	for _, e := range es {
		if e.res.Status != "SUCCEEDED" {
			t.Fatalf("execution %s: %s %s", e.name, e.res.Status, e.res.Cause)
		}
	}
	report(t, groupBatched, "fork: 1 action → 2 parallel actions", es...)
	if log := w.owner.ActivationLog(ids[0]); log["status"] != "ENDED" {
		t.Fatalf("activation = %v", log)
	}
	if logs := w.owner.ActionLogs(ids[0]); len(logs) != 3 {
		t.Fatalf("action logs = %v, want 3", logs)
	}
}

// TestStepFailure: a step that keeps failing (the store refuses, as when DynamoDB throttles) is retried
// under its StepError name, then caught into RecordFailure; the execution fails and the activation does
// not stay STARTED.
func TestStepFailure(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.owner.Must("POST", "/v2/automations", awse2e.Chain(2))
	ids := w.app.Report(map[string]any{"name": "Hal", "email": "hal@example.com"}, "")
	w.failGetAction.Store(true)
	es := w.runAll(runOptions{retryIntervals: map[string]int{"Step": 0, "RecordFailure": 0}})
	if len(es) != 1 || es[0].res.Status != "FAILED" || es[0].res.Error != "BranchFailed" {
		t.Fatalf("executions = %+v, want FAILED with BranchFailed", summary(es))
	}
	if want := []string{"Step", "RecordFailure", "Failed"}; !slices.Equal(es[0].States(), want) || es[0].Retries() != 5 {
		t.Fatalf("states = %v with %d retries, want %v after 5 retries", es[0].States(), es[0].Retries(), want)
	}
	if fails := w.lambda.Invocations(failFn); len(fails) != 1 || !strings.Contains(string(fails[0].Payload), `"error":"StepError"`) {
		t.Fatalf("engine-fail invocations = %+v", fails)
	}
	report(t, groupBatched, "step failing for good", es...)
	log := w.owner.ActivationLog(ids[0])
	switch log["status"] {
	case "FAILED": // a store with FailActivation
	case "ENDED": // the fallback: the branch closed with its action FAILED
		logs := w.owner.ActionLogs(ids[0])
		if awse2e.Dig(log, "endedInfo.withFailedActions") != true || len(logs) != 1 ||
			awse2e.Dig(logs[0], "failedInfo.errorCode") != "ENGINE_STEP_FAILED" {
			t.Fatalf("activation %v, action logs %v", log, logs)
		}
	default:
		t.Fatalf("activation = %v, want a terminal status", log)
	}
	if n := len(w.prov.CallsFor("note")); n != 0 {
		t.Fatalf("note invoked %d times while the store was failing", n)
	}
}

// TestCancel: CancelEvent cancels an activation waiting in a delay and stops its execution
// (StopExecution) instead of letting it sleep to its due time.
func TestCancel(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	w.owner.Must("POST", "/v2/automations", awse2e.Delayed(10*time.Minute))
	entity := "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"
	ids := w.app.Report(map[string]any{"name": "Ivy", "email": "ivy@example.com"}, entity)
	ref := run.BranchRef{ActivationID: ids[0], BranchID: awse2e.ActionID(1)}
	es := w.runAll(runOptions{during: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := w.sfn.get(ref).run.WaitFor(ctx, func(tr awslocal.Transition) bool { return tr.Event == "enter" && tr.State == "Delay" }); err != nil {
			t.Fatalf("never reached the Delay state: %v", err)
		}
		w.app.Must("POST", "/automations/v1/events/cancel", map[string]any{"triggerKey": awse2e.Trigger, "externalEntityId": entity})
	}})
	if len(es) != 1 || es[0].res.Status != "ABORTED" {
		t.Fatalf("executions = %+v, want ABORTED (stopped)", summary(es))
	}
	if !slices.Contains(w.sfn.stopped, ref) {
		t.Fatalf("stopped = %v, want %v", w.sfn.stopped, ref)
	}
	if log := w.owner.ActivationLog(ids[0]); log["status"] != "CANCELLED" {
		t.Fatalf("activation = %v, want CANCELLED", log)
	}
	if len(w.prov.CallsFor("note")) != 0 {
		t.Fatal("the action after the delay ran although the activation was cancelled")
	}
}

type execSummary struct {
	Name, Status, Error, Cause string
	States                     []string
}

func summary(es []*execution) []execSummary {
	var out []execSummary
	for _, e := range es {
		out = append(out, execSummary{e.name, e.res.Status, e.res.Error, e.res.Cause, e.States()})
	}
	return out
}
