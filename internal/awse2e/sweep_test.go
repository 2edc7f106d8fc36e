package awse2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/pkg/awsrt"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/run"
	sfnrunner "github.com/switchyard-dev/switchyard/pkg/runner/sfn"
)

const sweepMachineARN = "arn:aws:states:us-east-1:123456789012:stateMachine:switchyard-activation"

// sfnAPI is Step Functions at the protocol level (JSON 1.0 over HTTP, SigV4-signed, the wire shapes of
// the real service) in front of the world's executions, so that the real sfn runner and SDK client —
// with the SDK's retries — start them. StartExecution answers ExecutionAlreadyExists for a name it has
// seen, and ThrottlingException (which the SDK retries) while down is set.
type sfnAPI struct {
	t    *testing.T
	x    *executions
	down atomic.Bool

	mu      sync.Mutex
	refused int // StartExecution requests refused while down (every SDK attempt)
	exists  int // answered ExecutionAlreadyExists
}

func (a *sfnAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	raw, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	fail := func(typ, msg string) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.swf.service.v2.model#%s","message":%q}`, typ, msg)
	}
	if target != "AWSStepFunctions.StartExecution" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		a.t.Errorf("unexpected Step Functions request %q", target)
		fail("UnknownOperationException", target)
		return
	}
	var in struct{ StateMachineArn, Name, Input string }
	var input sfnrunner.Input
	if err := json.Unmarshal(raw, &in); err != nil || json.Unmarshal([]byte(in.Input), &input) != nil {
		a.t.Errorf("StartExecution body %s", raw)
		fail("InvalidExecutionInput", "bad body")
		return
	}
	ref := run.BranchRef{ActivationID: input.ActivationID, BranchID: input.BranchID}
	if in.StateMachineArn != sweepMachineARN || in.Name != sfnrunner.ExecutionName(ref) {
		a.t.Errorf("StartExecution of %s named %s for %+v", in.StateMachineArn, in.Name, ref)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down.Load() {
		a.refused++
		fail("ThrottlingException", "Rate exceeded")
		return
	}
	if a.x.get(ref) != nil {
		a.exists++
		fail("ExecutionAlreadyExists", "Execution Already Exists: '"+in.Name+"'")
		return
	}
	_ = a.x.Start(r.Context(), []run.BranchRef{ref}) // records it for the world to launch
	fmt.Fprintf(w, `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:switchyard-activation:%s","startDate":1.7E9}`, in.Name)
}

func (a *sfnAPI) counts() (refused, exists int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refused, a.exists
}

// sweepWorld is a world whose Starter is the real sfn runner talking to an sfnAPI, with a clock the
// test can move forward past the sweep's grace period.
func sweepWorld(t *testing.T) (*world, *sfnAPI, *atomic.Int64) {
	if os.Getenv("SWITCHYARD_AWSE2E_STORE") == "sqlite" {
		t.Skip("only the DynamoDB store tracks unstarted branches")
	}
	var skew atomic.Int64
	var api *sfnAPI
	w := newWorld(t, worldOptions{
		now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
		starter: func(w *world) engine.Starter {
			api = &sfnAPI{t: t, x: w.sfn}
			srv := httptest.NewServer(api)
			t.Cleanup(srv.Close)
			client := awssfn.New(awssfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
				Retryer:     retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = time.Millisecond })})
			return sfnrunner.New(client, sweepMachineARN, sfnrunner.Options{})
		},
	})
	return w, api, &skew
}

// sweep runs engine-sweep through its Lambda handler.
func (w *world) sweep() awsrt.SweepOutput {
	w.t.Helper()
	out, err := w.rt.SweepHandler(context.Background(), awsrt.SweepInput{})
	if err != nil {
		w.t.Fatalf("sweep: %v", err)
	}
	return out
}

// TestSweepStartsUnstartedBranches: a branch whose StartExecution failed after the SDK's retries is
// stored but runs nowhere; the sweep, once the grace period is over, starts it and the activation ends.
// Sweeping a branch whose execution exists already (not yet stepped) starts nothing twice.
func TestSweepStartsUnstartedBranches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		automation map[string]any
		// breakStart makes the StartExecution fail: of the root (at report time) or of the fork (while
		// the root's execution runs).
		breakStart string // "root", "fork" or "" (every start succeeds)
		swept      int    // branches the sweep finds after the grace period
		exists     int    // ExecutionAlreadyExists answers the sweep gets
		notes      int    // note invocations in all
	}{
		{name: "root start failed", automation: awse2e.Chain(2), breakStart: "root", swept: 1, notes: 2},
		{name: "fork start failed", automation: awse2e.Fork(), breakStart: "fork", swept: 1, notes: 3},
		{name: "re-sweep of a started, not yet stepped branch", automation: awse2e.Chain(1), swept: 1, exists: 1, notes: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, api, skew := sweepWorld(t)
			w.owner.Must("POST", "/v2/automations", tc.automation)
			api.down.Store(tc.breakStart == "root")
			ids := w.app.Report(map[string]any{"name": "Sw", "email": "sw@example.com"}, "")
			if len(ids) != 1 {
				t.Fatalf("activations = %v", ids)
			}
			if tc.breakStart == "fork" {
				api.down.Store(true)
				w.runAll(runOptions{}) // the root runs; its fork's start fails
			}
			refused, _ := api.counts()
			if tc.breakStart != "" && refused != retry.DefaultMaxAttempts {
				t.Fatalf("StartExecution refused %d times, want the SDK's %d attempts", refused, retry.DefaultMaxAttempts)
			}
			want := map[string]string{"root": "INITIATED", "fork": "STARTED", "": "INITIATED"}[tc.breakStart]
			if st := w.owner.ActivationLog(ids[0])["status"]; st != want {
				t.Fatalf("before the sweep the activation is %v, want %s (stuck)", st, want)
			}
			api.down.Store(false)

			if out := w.sweep(); out.Listed != 0 {
				t.Fatalf("sweep within the grace period = %+v, want nothing listed", out)
			}
			skew.Store(int64(awsrt.DefaultSweepGrace + time.Minute))
			if out := w.sweep(); out.Listed != tc.swept || out.Started != tc.swept || out.Failed != 0 {
				t.Fatalf("sweep after the grace period = %+v, want %d listed and started", out, tc.swept)
			}
			if _, exists := api.counts(); exists != tc.exists {
				t.Fatalf("ExecutionAlreadyExists answers = %d, want %d", exists, tc.exists)
			}
			if out := w.sweep(); out.Listed != 0 {
				t.Fatalf("second sweep = %+v, want nothing left", out)
			}

			es := w.runAll(runOptions{})
			for _, e := range es {
				if e.res.Status != "SUCCEEDED" {
					t.Fatalf("execution %s: %s %s", e.name, e.res.Status, e.res.Cause)
				}
			}
			if log := w.owner.ActivationLog(ids[0]); log["status"] != "ENDED" || awse2e.Dig(log, "endedInfo.withFailedActions") != false {
				t.Fatalf("activation after the sweep = %v, want ENDED without failed actions", log)
			}
			if n := len(w.prov.CallsFor("note")); n != tc.notes {
				t.Fatalf("note invoked %d times, want %d (no branch run twice)", n, tc.notes)
			}
			if out := w.sweep(); out.Listed != 0 {
				t.Fatalf("sweep after the end = %+v, want nothing", out)
			}
		})
	}
}

// ListUnstartedBranches and ClearUnstarted reach the DynamoDB store through the world's wrapper.
func (s *switchableStore) ListUnstartedBranches(ctx context.Context, olderThan time.Time, limit int) ([]run.BranchRef, error) {
	u, ok := s.Store.(awsrt.UnstartedBranches)
	if !ok {
		return nil, errors.New("store does not track unstarted branches")
	}
	return u.ListUnstartedBranches(ctx, olderThan, limit)
}

func (s *switchableStore) ClearUnstarted(ctx context.Context, ref run.BranchRef) error {
	u, ok := s.Store.(awsrt.UnstartedBranches)
	if !ok {
		return errors.New("store does not track unstarted branches")
	}
	return u.ClearUnstarted(ctx, ref)
}

// TestSweepDuringOutage: while Step Functions keeps refusing, a sweep gives up after a few failed starts
// (it does not hammer a throttled API), reports the failure, and leaves the marks; the first sweep after
// the outage starts every stuck branch, and every activation ends.
func TestSweepDuringOutage(t *testing.T) {
	t.Parallel()
	w, api, skew := sweepWorld(t)
	const n = 5 // automations on the trigger: one event, five activations, five root branches
	for range n {
		w.owner.Must("POST", "/v2/automations", awse2e.Chain(1))
	}
	api.down.Store(true)
	ids := w.app.Report(map[string]any{"name": "Ou", "email": "ou@example.com"}, "")
	if len(ids) != n {
		t.Fatalf("activations = %v, want %d", ids, n)
	}
	skew.Store(int64(awsrt.DefaultSweepGrace + time.Minute))

	out, err := w.rt.SweepHandler(context.Background(), awsrt.SweepInput{})
	var se *awsrt.SweepError
	if !errors.As(err, &se) || out != se.Out {
		t.Fatalf("sweep during the outage: %+v, %v; want a *SweepError carrying its output", out, err)
	}
	if se.Out.Listed != n || se.Out.Failed != 3 || se.Out.Started != 0 {
		t.Fatalf("sweep during the outage = %+v; want %d listed, stopped after 3 failures", se.Out, n)
	}
	// The report's n starts and the sweep's 3, each with all of the SDK's attempts.
	if refused, _ := api.counts(); refused != (n+3)*retry.DefaultMaxAttempts {
		t.Fatalf("StartExecution requests refused = %d, want %d", refused, (n+3)*retry.DefaultMaxAttempts)
	}

	api.down.Store(false)
	if out := w.sweep(); out.Listed != n || out.Started != n {
		t.Fatalf("sweep after the outage = %+v, want all %d started", out, n)
	}
	w.runAll(runOptions{})
	for _, id := range ids {
		if st := w.owner.ActivationLog(id)["status"]; st != "ENDED" {
			t.Fatalf("activation %s is %v after the sweep, want ENDED", id, st)
		}
	}
	if got := len(w.prov.CallsFor("note")); got != n {
		t.Fatalf("note invoked %d times, want %d", got, n)
	}
}
