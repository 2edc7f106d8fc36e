package sfn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/runner/sfn"
)

// The runner is the engine's Starter, Resumer and Canceller on AWS.
var (
	_ engine.Starter   = (*sfn.Runner)(nil)
	_ engine.Resumer   = (*sfn.Runner)(nil)
	_ engine.Canceller = (*sfn.Runner)(nil)
)

const (
	machineARN = "arn:aws:states:us-east-1:123456789012:stateMachine:switchyard-activation"
	act1       = "0b5e7d8c-1f1e-4c55-9d2e-6a1f2b3c4d5e"
	br1        = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	br2        = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
)

// call is one request that reached the stand-in.
type call struct {
	Op   string
	Body map[string]any
}

// reply is the stand-in's answer: a status and a JSON body (an error body carries "__type").
type reply struct {
	Status int
	Body   string
}

// standIn answers the Step Functions JSON 1.0 protocol (POST /, X-Amz-Target: AWSStepFunctions.<Op>)
// with the wire shapes of the real service, so the real SDK client is exercised end to end.
type standIn struct {
	t       *testing.T
	mu      sync.Mutex
	calls   []call
	replies func(c call, n int) reply // n: how many calls of this op came before
	seen    map[string]int
}

func newStandIn(t *testing.T, replies func(c call, n int) reply) (*standIn, *awssfn.Client) {
	s := &standIn{t: t, replies: replies, seen: map[string]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := awssfn.New(awssfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		// Retries stay on (throttling is retried by the SDK, not by the runner) but do not sleep long.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = time.Millisecond }),
	})
	return s, client
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || r.URL.Path != "/" || !strings.HasPrefix(target, "AWSStepFunctions.") {
		s.t.Errorf("unexpected request %s %s target %q", r.Method, r.URL.Path, target)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		s.t.Errorf("Content-Type = %q, want application/x-amz-json-1.0", ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		s.t.Errorf("request is not SigV4-signed: %q", r.Header.Get("Authorization"))
	}
	raw, _ := io.ReadAll(r.Body)
	c := call{Op: strings.TrimPrefix(target, "AWSStepFunctions.")}
	if err := json.Unmarshal(raw, &c.Body); err != nil {
		s.t.Errorf("%s body is not JSON: %s", c.Op, raw)
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	n := s.seen[c.Op]
	s.seen[c.Op]++
	s.mu.Unlock()
	rep := s.replies(c, n)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", "req-1")
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

func (s *standIn) callsOf(op string) []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []call
	for _, c := range s.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Wire bodies as Step Functions sends them.
func startedBody(name string) string {
	return fmt.Sprintf(`{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:switchyard-activation:%s","startDate":1.700000000123E9}`, name)
}

func errorBody(typ, msg string) string {
	return fmt.Sprintf(`{"__type":"com.amazonaws.swf.service.v2.model#%s","message":%q}`, typ, msg)
}

func ok(body string) reply { return reply{Status: 200, Body: body} }

func fail(typ, msg string) reply { return reply{Status: 400, Body: errorBody(typ, msg)} }

func TestExecutionName(t *testing.T) {
	long := strings.Repeat("x", 60)
	tests := []struct {
		name string
		ref  run.BranchRef
		want string // "" = only check the rules
	}{
		{"two GUIDs", run.BranchRef{ActivationID: act1, BranchID: br1}, act1 + "-" + br1},
		{"too long", run.BranchRef{ActivationID: long, BranchID: long}, ""},
		{"forbidden characters", run.BranchRef{ActivationID: "a:b", BranchID: "c/d"}, ""},
		{"empty branch", run.BranchRef{ActivationID: act1}, ""},
		// Dashes in non-GUID ids would make "a-b"+"c" and "a"+"b-c" the same name: such ids are hashed.
		{"ambiguous split 1", run.BranchRef{ActivationID: "a-b", BranchID: "c"}, ""},
		{"ambiguous split 2", run.BranchRef{ActivationID: "a", BranchID: "b-c"}, ""},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sfn.ExecutionName(tc.ref)
			if tc.want != "" && got != tc.want {
				t.Fatalf("ExecutionName = %q, want %q", got, tc.want)
			}
			if len(got) > 80 {
				t.Fatalf("ExecutionName = %q: %d characters, limit 80", got, len(got))
			}
			for _, r := range got {
				if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
					t.Fatalf("ExecutionName = %q contains %q", got, r)
				}
			}
			if again := sfn.ExecutionName(tc.ref); again != got {
				t.Fatalf("ExecutionName is not deterministic: %q then %q", got, again)
			}
			if seen[got] {
				t.Fatalf("ExecutionName %q collides with another case", got)
			}
			seen[got] = true
		})
	}
}

func TestStart(t *testing.T) {
	ref1 := run.BranchRef{ActivationID: act1, BranchID: br1}
	ref2 := run.BranchRef{ActivationID: act1, BranchID: br2}
	tests := []struct {
		name    string
		refs    []run.BranchRef
		replies func(c call, n int) reply
		wantErr func(error) bool // nil: no error expected
		starts  int              // StartExecution requests expected
	}{
		{
			name:    "fresh execution",
			refs:    []run.BranchRef{ref1},
			replies: func(c call, _ int) reply { return ok(startedBody(c.Body["name"].(string))) },
			starts:  1,
		},
		{
			name:    "already exists is success",
			refs:    []run.BranchRef{ref1},
			replies: func(c call, _ int) reply { return fail("ExecutionAlreadyExists", "Execution Already Exists: 'x'") },
			starts:  1,
		},
		{
			name: "limit exceeded is an error naming the execution",
			refs: []run.BranchRef{ref1},
			replies: func(c call, _ int) reply {
				return fail("ExecutionLimitExceeded", "Maximum number of running executions reached")
			},
			wantErr: func(err error) bool {
				var lim *types.ExecutionLimitExceeded
				return errors.As(err, &lim) && strings.Contains(err.Error(), sfn.ExecutionName(ref1))
			},
			starts: 1,
		},
		{
			name: "one of two fails: the other is still started",
			refs: []run.BranchRef{ref1, ref2},
			replies: func(c call, _ int) reply {
				if strings.HasSuffix(c.Body["name"].(string), br2) {
					return fail("InvalidName", "bad name")
				}
				return ok(startedBody(c.Body["name"].(string)))
			},
			wantErr: func(err error) bool {
				var bad *types.InvalidName
				return errors.As(err, &bad) && strings.Contains(err.Error(), br2) && !strings.Contains(err.Error(), br1)
			},
			starts: 2,
		},
		{
			name: "throttling is retried by the SDK",
			refs: []run.BranchRef{ref1},
			replies: func(c call, n int) reply {
				if n == 0 {
					return fail("ThrottlingException", "Rate exceeded")
				}
				return ok(startedBody(c.Body["name"].(string)))
			},
			starts: 2,
		},
		{
			name:    "no refs: no call",
			refs:    nil,
			replies: func(c call, _ int) reply { t.Errorf("unexpected call %v", c); return ok("{}") },
			starts:  0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client := newStandIn(t, tc.replies)
			r := sfn.New(client, machineARN, sfn.Options{})
			err := r.Start(context.Background(), tc.refs)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("Start: %v", err)
			case tc.wantErr != nil && (err == nil || !tc.wantErr(err)):
				t.Fatalf("Start error = %v, not the expected one", err)
			}
			calls := srv.callsOf("StartExecution")
			if len(calls) != tc.starts {
				t.Fatalf("StartExecution calls = %d, want %d", len(calls), tc.starts)
			}
			for _, c := range calls {
				if c.Body["stateMachineArn"] != machineARN {
					t.Errorf("stateMachineArn = %v", c.Body["stateMachineArn"])
				}
				var in sfn.Input
				if err := json.Unmarshal([]byte(c.Body["input"].(string)), &in); err != nil {
					t.Fatalf("input %v: %v", c.Body["input"], err)
				}
				if want := sfn.ExecutionName(run.BranchRef{ActivationID: in.ActivationID, BranchID: in.BranchID}); c.Body["name"] != want {
					t.Errorf("name = %v, want %v (derived from the input ids)", c.Body["name"], want)
				}
				if in.ActivationID != act1 || (in.BranchID != br1 && in.BranchID != br2) {
					t.Errorf("input = %+v", in)
				}
				if len(c.Body) != 3 {
					t.Errorf("request has extra fields: %v", c.Body)
				}
			}
		})
	}
}

func TestStartWithoutStateMachine(t *testing.T) {
	_, client := newStandIn(t, func(c call, _ int) reply { t.Errorf("unexpected call %v", c); return ok("{}") })
	err := sfn.New(client, "", sfn.Options{}).Start(context.Background(), []run.BranchRef{{ActivationID: act1, BranchID: br1}})
	if err == nil || !strings.Contains(err.Error(), "STATE_MACHINE_ARN") {
		t.Fatalf("Start without a state machine = %v", err)
	}
}

func TestStop(t *testing.T) {
	ref1 := run.BranchRef{ActivationID: act1, BranchID: br1}
	ref2 := run.BranchRef{ActivationID: act1, BranchID: br2}
	arnOf := func(ref run.BranchRef) string {
		return "arn:aws:states:us-east-1:123456789012:execution:switchyard-activation:" + ref.ActivationID + "-" + ref.BranchID
	}
	tests := []struct {
		name    string
		replies func(c call) reply
		wantErr string // "" = none; else a substring
	}{
		{"stopped", func(call) reply { return ok(`{"stopDate":1.700000001E9}`) }, ""},
		{"does not exist is success", func(call) reply { return fail("ExecutionDoesNotExist", "Execution Does Not Exist: 'x'") }, ""},
		{"other errors surface, naming the execution", func(c call) reply {
			if strings.HasSuffix(c.Body["executionArn"].(string), br2) {
				return fail("InvalidArn", "Invalid Arn")
			}
			return ok(`{"stopDate":1.700000001E9}`)
		}, arnOf(ref2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client := newStandIn(t, func(c call, _ int) reply { return tc.replies(c) })
			err := sfn.New(client, machineARN, sfn.Options{}).Stop(context.Background(), []run.BranchRef{ref1, ref2})
			if (err != nil) != (tc.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Stop error = %v, want %q", err, tc.wantErr)
			}
			calls := srv.callsOf("StopExecution")
			got := map[string]bool{}
			for _, c := range calls {
				got[c.Body["executionArn"].(string)] = true
				if c.Body["error"] != "Cancelled" || c.Body["cause"] == "" {
					t.Errorf("StopExecution body = %v", c.Body)
				}
			}
			if len(calls) != 2 || !got[arnOf(ref1)] || !got[arnOf(ref2)] {
				t.Fatalf("StopExecution calls = %+v", calls)
			}
		})
	}
}

func TestResume(t *testing.T) {
	ref := run.BranchRef{ActivationID: act1, BranchID: br1}
	tests := []struct {
		name    string
		token   string
		reply   reply
		calls   int
		wantErr bool
	}{
		{"wakes the parked execution", "tok-1", ok(`{}`), 1, false},
		{"no token yet: park will wake it", "", ok(`{}`), 0, false},
		{"timed out: nothing to wake", "tok-1", fail("TaskTimedOut", "Task Timed Out"), 1, false},
		{"already completed: nothing to wake", "tok-1", fail("TaskDoesNotExist", "Task does not exist anymore"), 1, false},
		{"invalid token is an error", "tok-1", fail("InvalidToken", "Invalid token"), 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client := newStandIn(t, func(call, int) reply { return tc.reply })
			err := sfn.New(client, machineARN, sfn.Options{}).Resume(context.Background(), ref, tc.token)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Resume error = %v, want error %v", err, tc.wantErr)
			}
			c := srv.callsOf("SendTaskSuccess")
			if len(c) != tc.calls {
				t.Fatalf("SendTaskSuccess calls = %d, want %d", len(c), tc.calls)
			}
			if tc.calls == 1 && (c[0].Body["taskToken"] != tc.token || !strings.Contains(c[0].Body["output"].(string), br1)) {
				t.Fatalf("SendTaskSuccess body = %v", c[0].Body)
			}
		})
	}
}

func TestExecutionARNQualified(t *testing.T) {
	r := sfn.New(nil, machineARN+":prod", sfn.Options{})
	got, err := r.ExecutionARN(run.BranchRef{ActivationID: act1, BranchID: br1})
	if err != nil || got != "arn:aws:states:us-east-1:123456789012:execution:switchyard-activation:"+act1+"-"+br1 {
		t.Fatalf("ExecutionARN of an alias ARN = %q, %v", got, err)
	}
	if _, err := sfn.New(nil, "not-an-arn", sfn.Options{}).ExecutionARN(run.BranchRef{}); err == nil {
		t.Fatal("ExecutionARN of a malformed ARN: no error")
	}
}

func TestTaskTokens(t *testing.T) {
	tests := []struct {
		name       string
		op         string
		reply      reply
		wantClosed bool
		wantErr    bool
	}{
		{"success", "SendTaskSuccess", ok(`{}`), false, false},
		{"success after timeout", "SendTaskSuccess", fail("TaskTimedOut", "Task Timed Out"), true, true},
		{"success for an unknown task", "SendTaskSuccess", fail("TaskDoesNotExist", "Task does not exist anymore"), true, true},
		{"success with a bad token", "SendTaskSuccess", fail("InvalidToken", "Invalid token"), false, true},
		{"failure", "SendTaskFailure", ok(`{}`), false, false},
		{"failure after timeout", "SendTaskFailure", fail("TaskTimedOut", "Task Timed Out"), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client := newStandIn(t, func(call, int) reply { return tc.reply })
			r := sfn.New(client, machineARN, sfn.Options{})
			var err error
			if tc.op == "SendTaskSuccess" {
				err = r.SendTaskSuccess(context.Background(), "tok-1", map[string]any{"completed": true})
			} else {
				err = r.SendTaskFailure(context.Background(), "tok-1", "ActionFailed", strings.Repeat("é", 20000))
			}
			if (err != nil) != tc.wantErr || errors.Is(err, sfn.ErrTaskClosed) != tc.wantClosed {
				t.Fatalf("%s error = %v; want error %v, ErrTaskClosed %v", tc.op, err, tc.wantErr, tc.wantClosed)
			}
			c := srv.callsOf(tc.op)
			if len(c) != 1 || c[0].Body["taskToken"] != "tok-1" {
				t.Fatalf("%s calls = %+v", tc.op, c)
			}
			switch tc.op {
			case "SendTaskSuccess":
				if c[0].Body["output"] != `{"completed":true}` {
					t.Errorf("output = %v", c[0].Body["output"])
				}
			case "SendTaskFailure":
				cause := c[0].Body["cause"].(string)
				if c[0].Body["error"] != "ActionFailed" || len(cause) > 32768 || !strings.HasSuffix(cause, "é") {
					t.Errorf("error = %v, cause of %d bytes (limit 32768, cut on a rune boundary)", c[0].Body["error"], len(cause))
				}
			}
		})
	}
}

func TestSendTaskSuccessNilOutput(t *testing.T) {
	srv, client := newStandIn(t, func(call, int) reply { return ok(`{}`) })
	if err := sfn.New(client, machineARN, sfn.Options{}).SendTaskSuccess(context.Background(), "tok", nil); err != nil {
		t.Fatal(err)
	}
	if c := srv.callsOf("SendTaskSuccess"); c[0].Body["output"] != `{}` {
		t.Fatalf("output = %v, want {}", c[0].Body["output"])
	}
}
