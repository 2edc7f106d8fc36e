package awslocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/awslocal"
)

func TestDynamoDBLocal(t *testing.T) {
	start := time.Now()
	ep := awslocal.StartDynamoDB(t)
	t.Logf("StartDynamoDB: %v (process start to first ListTables: %v)", time.Since(start).Round(time.Millisecond), awslocal.DynamoDBStartDuration().Round(time.Millisecond))
	if !strings.HasPrefix(ep, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q", ep)
	}
	if again := awslocal.StartDynamoDB(t); again != ep {
		t.Errorf("second StartDynamoDB = %q, want the shared %q", again, ep)
	}

	// Raw JSON protocol, no SDK: any SigV4-shaped Authorization header is accepted.
	status, body, err := awslocal.DynamoDBRequest(nil, ep, "ListTables", []byte(`{}`))
	if err != nil || status != 200 {
		t.Fatalf("ListTables: %d %s %v", status, body, err)
	}
	var lt struct{ TableNames []string }
	if err := json.Unmarshal(body, &lt); err != nil {
		t.Fatalf("ListTables body %s: %v", body, err)
	}

	// Without an Authorization header DynamoDB Local refuses the request.
	req, _ := http.NewRequest(http.MethodPost, ep+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("ListTables without Authorization: status %d, want 400 (MissingAuthenticationToken)", resp.StatusCode)
	}

	// It is a real database: a table created under a test-specific name is listed.
	table := "awslocal_" + regexp.MustCompile(`[^A-Za-z0-9_.-]`).ReplaceAllString(t.Name(), "_")
	create := fmt.Sprintf(`{"TableName":%q,"BillingMode":"PAY_PER_REQUEST",
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
		"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}`, table)
	if status, body, err := awslocal.DynamoDBRequest(nil, ep, "CreateTable", []byte(create)); err != nil || status != 200 {
		t.Fatalf("CreateTable: %d %s %v", status, body, err)
	}
	t.Cleanup(func() {
		awslocal.DynamoDBRequest(nil, ep, "DeleteTable", []byte(fmt.Sprintf(`{"TableName":%q}`, table)))
	})
	_, body, _ = awslocal.DynamoDBRequest(nil, ep, "ListTables", []byte(`{}`))
	if !strings.Contains(string(body), `"`+table+`"`) {
		t.Errorf("ListTables after CreateTable: %s", body)
	}
}

func TestValidateASL(t *testing.T) {
	start := time.Now()
	awslocal.ValidateASL(t, "testdata/sample.asl.json")
	awslocal.ValidateASL(t, "testdata/invoke.asl.json")
	t.Logf("asl-validator: %v for two files", time.Since(start).Round(time.Millisecond))

	ok, out := awslocal.CheckASL(t, "testdata/broken.asl.json")
	if ok {
		t.Fatalf("broken.asl.json accepted:\n%s", out)
	}
	for _, want := range []string{"NoSuchState", "Pause"} {
		if !strings.Contains(out, want) {
			t.Errorf("validator output lacks %q:\n%s", want, out)
		}
	}
}

// stepScript is the "engine step" function of the sample machine.
type stepScript struct {
	failFirst   int    // fail this many calls with error type Transient
	instruction string // "await" or "finish"; the input's mode "fatal" fails with Fatal
	dueIn       time.Duration
	timeout     int
	calls       atomic.Int32
}

func (s *stepScript) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	n := s.calls.Add(1)
	var in struct{ ActivationID, Mode string }
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, err
	}
	if in.Mode == "fatal" {
		return nil, &awslocal.ErrFunction{Type: "Fatal", Message: "cannot continue"}
	}
	if int(n) <= s.failFirst {
		return nil, &awslocal.ErrFunction{Type: "Transient", Message: "try again"}
	}
	return json.Marshal(map[string]any{
		"instruction":    s.instruction,
		"dueAt":          time.Now().Add(s.dueIn).UTC().Format(time.RFC3339Nano),
		"timeoutSeconds": s.timeout,
	})
}

// notifier receives the AwaitCompletion invocation and passes its task token on.
type notifier chan string

func (n notifier) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var in struct {
		ActivationID string `json:"activationId"`
		TaskToken    string `json:"taskToken"`
	}
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, err
	}
	n <- in.TaskToken
	return []byte(`null`), nil
}

var sampleSubs = map[string]string{
	"StepFunctionArn":   "arn:aws:lambda:us-east-1:123456789012:function:step",
	"NotifyFunctionArn": "notify", // lambda:invoke FunctionName may be a plain name
}

func sampleRun(t *testing.T, step *stepScript, mode string, mut func(*awslocal.SFNRunRequest)) (*awslocal.SFNRun, notifier) {
	t.Helper()
	ls := awslocal.NewLambdaServer(t)
	ls.Register("step", step)
	notify := make(notifier, 1)
	ls.Register("notify", notify)
	req := awslocal.SFNRunRequest{
		DefinitionPath:         "testdata/sample.asl.json",
		Substitutions:          sampleSubs,
		Input:                  map[string]any{"activationId": "act-1", "mode": mode},
		RetryIntervalOverrides: map[string]int{"Step": 0},
		Lambda:                 ls,
	}
	if mut != nil {
		mut(&req)
	}
	return awslocal.RunStateMachine(t, req), notify
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func wantStates(t *testing.T, run *awslocal.SFNRun, want ...string) {
	t.Helper()
	if got := run.EnteredStates(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("entered states %v, want %v", got, want)
	}
}

func count(run *awslocal.SFNRun, event, state string) int {
	n := 0
	for _, tr := range run.Transitions() {
		if tr.Event == event && tr.State == state {
			n++
		}
	}
	return n
}

func TestStateMachine(t *testing.T) {
	awslocal.EnsureNodeModules(t)

	t.Run("TaskTokenSuccess", func(t *testing.T) {
		t.Parallel()
		step := &stepScript{failFirst: 1, instruction: "await", dueIn: time.Second, timeout: 30}
		run, notify := sampleRun(t, step, "await", nil)
		ctx := ctxT(t, 60*time.Second)

		var token string
		select {
		case token = <-notify:
		case <-ctx.Done():
			t.Fatalf("notify never called; transitions %+v\n%s", run.Transitions(), run.Stderr())
		}
		if evTok, err := run.WaitForTaskToken(ctx, "AwaitCompletion"); err != nil || evTok != token {
			t.Fatalf("task_token event %q (%v), Lambda got %q", evTok, err, token)
		}
		var apiErr *awslocal.SFNAPIError
		if err := run.SendTaskSuccess("not-a-token", map[string]any{}); !errors.As(err, &apiErr) || apiErr.Code != "TaskDoesNotExist" {
			t.Errorf("SendTaskSuccess(unknown) = %v, want TaskDoesNotExist", err)
		}
		if err := run.SendTaskSuccess(token, map[string]any{"outcome": "ok"}); err != nil {
			t.Fatalf("SendTaskSuccess: %v", err)
		}
		res, err := run.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("sfn-run of the sample (1 retry, 1 s Wait, token round trip): %v", run.Elapsed().Round(time.Millisecond))
		if res.Status != "SUCCEEDED" {
			t.Fatalf("result %+v\n%s", res, run.Stderr())
		}
		var out struct {
			Completion map[string]string `json:"completion"`
			Step       map[string]any    `json:"step"`
		}
		if err := json.Unmarshal(res.Result, &out); err != nil || out.Completion["outcome"] != "ok" {
			t.Errorf("result %s (%v)", res.Result, err)
		}
		wantStates(t, run, "Step", "Route", "Delay", "AwaitCompletion", "Done")
		if step.calls.Load() != 2 || count(run, "retry", "Step") != 1 {
			t.Errorf("step called %d times, %d retries; want 2 and 1", step.calls.Load(), count(run, "retry", "Step"))
		}
		// The failed first attempt reached ASL as error name Transient, Cause the Lambda body.
		fail, _ := run.WaitFor(ctx, func(tr awslocal.Transition) bool { return tr.Event == "fail" })
		if fail.Error != "Transient" || !strings.Contains(fail.Cause, `"errorType":"Transient"`) {
			t.Errorf("first failure %+v", fail)
		}
		// The Wait honoured TimestampPath: Delay ended at the dueAt the step returned, not before.
		var dueAt time.Time
		var exit int64
		for _, tr := range run.Transitions() {
			if tr.State == "Delay" && tr.Event == "enter" {
				var in struct{ Step struct{ DueAt time.Time } }
				if err := json.Unmarshal(tr.Input, &in); err != nil {
					t.Fatalf("Delay input %s: %v", tr.Input, err)
				}
				dueAt = in.Step.DueAt
			}
			if tr.State == "Delay" && tr.Event == "exit" {
				exit = tr.TS
			}
		}
		if early := dueAt.Sub(time.UnixMilli(exit)); early > 20*time.Millisecond || dueAt.IsZero() {
			t.Errorf("Delay ended at %v, %v before dueAt %v", time.UnixMilli(exit), early, dueAt)
		}
		if calls := run.Lambda.Invocations("notify"); len(calls) != 1 || !strings.Contains(string(calls[0].Payload), `"activationId":"act-1"`) {
			t.Errorf("notify invocations %+v", calls)
		}
	})

	t.Run("TaskTokenTimeout", func(t *testing.T) {
		t.Parallel()
		step := &stepScript{instruction: "await", dueIn: time.Hour, timeout: 1}
		run, notify := sampleRun(t, step, "await", func(r *awslocal.SFNRunRequest) {
			r.WaitTimeOverrides = map[string]int{"Delay": 0} // skip the hour-long Wait
		})
		ctx := ctxT(t, 60*time.Second)
		<-notify
		res, err := run.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != "SUCCEEDED" {
			t.Fatalf("result %+v\n%s", res, run.Stderr())
		}
		var out struct {
			Timeout struct{ Error string } `json:"timeout"`
		}
		if err := json.Unmarshal(res.Result, &out); err != nil || out.Timeout.Error != "States.Timeout" {
			t.Errorf("result %s (%v), want $.timeout.Error = States.Timeout", res.Result, err)
		}
		if count(run, "catch", "AwaitCompletion") != 1 {
			t.Errorf("no catch on AwaitCompletion: %+v", run.Transitions())
		}
		wantStates(t, run, "Step", "Route", "Delay", "AwaitCompletion", "Done")
	})

	t.Run("TaskTokenFailure", func(t *testing.T) {
		t.Parallel()
		step := &stepScript{instruction: "await", timeout: 30}
		run, notify := sampleRun(t, step, "await", nil)
		ctx := ctxT(t, 60*time.Second)
		token := <-notify
		if err := run.SendTaskFailure(token, "ActionFailed", "provider said no"); err != nil {
			t.Fatal(err)
		}
		res, err := run.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != "FAILED" || res.Error != "ActionFailed" || res.Cause != "provider said no" {
			t.Errorf("result %+v", res)
		}
	})

	t.Run("ChoiceFinish", func(t *testing.T) {
		t.Parallel()
		run, _ := sampleRun(t, &stepScript{instruction: "finish"}, "finish", nil)
		res, err := run.Wait(ctxT(t, 60*time.Second))
		if err != nil || res.Status != "SUCCEEDED" {
			t.Fatalf("result %+v %v", res, err)
		}
		wantStates(t, run, "Step", "Route", "Done")
	})

	t.Run("CatchCustomError", func(t *testing.T) {
		t.Parallel()
		run, _ := sampleRun(t, &stepScript{instruction: "finish"}, "fatal", nil)
		res, err := run.Wait(ctxT(t, 60*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != "FAILED" || res.Error != "StepFailed" {
			t.Errorf("result %+v", res)
		}
		wantStates(t, run, "Step", "StepFailed")
		if count(run, "catch", "Step") != 1 {
			t.Errorf("Fatal was not caught: %+v", run.Transitions())
		}
	})

	t.Run("RetryExhausted", func(t *testing.T) {
		t.Parallel()
		step := &stepScript{failFirst: 100, instruction: "finish"}
		run, _ := sampleRun(t, step, "finish", nil)
		res, err := run.Wait(ctxT(t, 60*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		// MaxAttempts 2: one call plus two retries, then the error is not caught.
		if res.Status != "FAILED" || res.Error != "Transient" || step.calls.Load() != 3 {
			t.Errorf("result %+v after %d calls", res, step.calls.Load())
		}
	})

	t.Run("NativeLambdaClient", func(t *testing.T) {
		t.Parallel()
		// aws-local-stepfunctions' own AWS SDK client honours AWS_ENDPOINT_URL_LAMBDA.
		step := &stepScript{instruction: "finish"}
		run, _ := sampleRun(t, step, "finish", func(r *awslocal.SFNRunRequest) { r.NativeLambda = true })
		res, err := run.Wait(ctxT(t, 60*time.Second))
		if err != nil || res.Status != "SUCCEEDED" {
			t.Fatalf("result %+v %v\n%s", res, err, run.Stderr())
		}
		calls := run.Lambda.Invocations("step")
		if len(calls) != 1 || calls[0].RawName != sampleSubs["StepFunctionArn"] {
			t.Errorf("step invocations %+v", calls)
		}
	})

	t.Run("LambdaInvokeIntegration", func(t *testing.T) {
		t.Parallel()
		ls := awslocal.NewLambdaServer(t)
		ls.Register("echo", awslocal.InvokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
			return []byte(`{"echo":` + string(p) + `}`), nil
		}))
		run := awslocal.RunStateMachine(t, awslocal.SFNRunRequest{
			DefinitionPath: "testdata/invoke.asl.json",
			Substitutions:  map[string]string{"EchoFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:echo"},
			Input:          map[string]any{"value": 7, "timeoutSeconds": 5},
			Lambda:         ls,
		})
		res, err := run.Wait(ctxT(t, 60*time.Second))
		if err != nil || res.Status != "SUCCEEDED" {
			t.Fatalf("result %+v %v\n%s", res, err, run.Stderr())
		}
		var out struct {
			Out struct {
				Echo   map[string]int `json:"echo"`
				Status int            `json:"status"`
			} `json:"out"`
		}
		if err := json.Unmarshal(res.Result, &out); err != nil || out.Out.Echo["value"] != 7 || out.Out.Status != 200 {
			t.Errorf("result %s (%v)", res.Result, err)
		}
	})
}
