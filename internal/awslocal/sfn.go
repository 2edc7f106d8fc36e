package awslocal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SFNRunRequest describes one state machine execution run by infra/sfn-run.mjs.
type SFNRunRequest struct {
	// DefinitionPath is the ASL JSON file; relative paths are resolved against the working
	// directory of the test (its package directory).
	DefinitionPath string `json:"definitionPath"`
	// Substitutions replace "${NAME}" in the definition text before parsing, like SAM's
	// DefinitionSubstitutions. A placeholder without a substitution is a harness error.
	Substitutions map[string]string `json:"substitutions,omitempty"`
	// Input is the execution input (marshalled to JSON; json.RawMessage is sent as is).
	Input any `json:"input"`
	// WaitTimeOverrides makes the named Wait states wait this many milliseconds instead.
	WaitTimeOverrides map[string]int `json:"waitTimeOverrides,omitempty"`
	// RetryIntervalOverrides makes the named states' retriers wait this many milliseconds.
	RetryIntervalOverrides map[string]int `json:"retryIntervalOverrides,omitempty"`
	// TaskTokenStates lists extra Task states to run as .waitForTaskToken (states whose
	// Resource ends in .waitForTaskToken always are).
	TaskTokenStates []string `json:"taskTokenStates,omitempty"`
	// Context is merged into the context object ($$). Execution.Name/Id and StateMachine.Id
	// get defaults; $$.Task.Token is provided for task-token states.
	Context map[string]any `json:"context,omitempty"`
	// ExecutionName sets $$.Execution.Name (default: a random UUID).
	ExecutionName string `json:"executionName,omitempty"`
	// NativeLambda makes plain Lambda-ARN Tasks use aws-local-stepfunctions' own AWS SDK client
	// (which also honours AWS_ENDPOINT_URL_LAMBDA) instead of sfn-run's invoker. The native
	// client reports a function error's Cause as "Type: message" rather than AWS's JSON body,
	// resolves TimeoutSecondsPath after Parameters, and times a Task out after 60 s by default.
	NativeLambda bool `json:"nativeLambda,omitempty"`
	// Lambda receives every Lambda invocation. Nil: a fresh empty LambdaServer.
	Lambda *LambdaServer `json:"-"`
}

// Transition is one line of sfn-run's event stream.
type Transition struct {
	// Event is "enter", "exit", "fail", "retry", "catch" or "task_token".
	Event string `json:"event"`
	State string `json:"state"`
	Type  string `json:"type,omitempty"` // ASL state type (not set on task_token)
	// Index is the Map iteration index for states inside a Map.
	Index  *int            `json:"index,omitempty"`
	Input  json.RawMessage `json:"input,omitempty"`  // enter
	Output json.RawMessage `json:"output,omitempty"` // exit
	Error  string          `json:"error,omitempty"`  // fail
	Cause  string          `json:"cause,omitempty"`  // fail
	// Attempt is the retrier attempt number (retry); Next is the catcher's target (catch).
	Attempt int    `json:"attempt,omitempty"`
	Next    string `json:"next,omitempty"`
	// Token, Payload (the evaluated Parameters) and TimeoutSeconds describe a task_token.
	Token          string          `json:"token,omitempty"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	TimeoutSeconds *int            `json:"timeoutSeconds,omitempty"`
	// TS is the event time in Unix milliseconds.
	TS int64 `json:"ts"`
}

// SFNResult is the outcome of an execution.
type SFNResult struct {
	// Status is SUCCEEDED, FAILED, ABORTED or TIMED_OUT (the top-level TimeoutSeconds).
	Status string          `json:"status"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
}

// SFNAPIError is an error answered by sfn-run's control server, named like the Step Functions
// API error (TaskDoesNotExist, TaskTimedOut, InvalidToken).
type SFNAPIError struct {
	Code    string `json:"__type"`
	Message string `json:"message"`
}

func (e *SFNAPIError) Error() string { return e.Code + ": " + e.Message }

// SFNRun is a running execution started by RunStateMachine.
type SFNRun struct {
	// Lambda is the server receiving the execution's Lambda invocations.
	Lambda *LambdaServer

	cmd         *exec.Cmd
	controlURL  string
	stderr      *syncBuffer
	started     time.Time
	finished    time.Time
	done        chan struct{}
	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every new transition
	transitions []Transition
	result      *SFNResult
	runErr      error
}

// RunStateMachine starts `node infra/sfn-run.mjs` for req and returns once the execution has
// started (its control server is up). The process is killed in t.Cleanup if still running.
// Harness errors (bad definition, missing substitution, …) fail the test.
func RunStateMachine(t testing.TB, req SFNRunRequest) *SFNRun {
	t.Helper()
	infra := EnsureNodeModules(t)
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "Node.js (>= 20) is not on PATH: install it (Debian: apt-get install -y nodejs npm)")
	}
	if req.DefinitionPath == "" {
		t.Fatalf("awslocal: SFNRunRequest.DefinitionPath is empty")
	}
	abs, err := filepath.Abs(req.DefinitionPath)
	if err != nil {
		t.Fatalf("awslocal: %v", err)
	}
	req.DefinitionPath = abs
	if req.Lambda == nil {
		req.Lambda = NewLambdaServer(t)
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("awslocal: marshal SFNRunRequest: %v", err)
	}

	cmd := exec.Command(node, filepath.Join(infra, "sfn-run.mjs"))
	cmd.Dir = infra
	cmd.Env = nodeEnv(infra, req.Lambda.URL)
	cmd.Stdin = bytes.NewReader(body)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("awslocal: %v", err)
	}
	r := &SFNRun{Lambda: req.Lambda, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{}), changed: make(chan struct{}), started: time.Now()}
	cmd.Stderr = r.stderr
	if err := startProcess(cmd); err != nil {
		t.Fatalf("awslocal: start sfn-run: %v", err)
	}
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			killProcessGroup(cmd.Process)
			<-r.done
		}
	})

	ready := make(chan int, 1)
	go r.read(stdout, ready)
	select {
	case port := <-ready:
		r.controlURL = "http://127.0.0.1:" + strconv.Itoa(port)
	case <-r.done:
		t.Fatalf("awslocal: sfn-run failed before starting the execution: %v\n%s", r.runErr, r.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("awslocal: sfn-run did not start within 60s\n%s", r.stderr.String())
	}
	return r
}

// nodeEnv is the environment for Node helpers: the polyfill preloaded, a fixed region, dummy
// credentials, Lambda pointed at lambdaURL, and none of the caller's AWS_* settings.
func nodeEnv(infra, lambdaURL string) []string {
	var env []string
	nodeOptions := ""
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "AWS_"):
			continue
		case strings.HasPrefix(kv, "NODE_OPTIONS="):
			nodeOptions = strings.TrimPrefix(kv, "NODE_OPTIONS=")
			continue
		}
		env = append(env, kv)
	}
	polyfill := filepath.Join(infra, "polyfill.cjs")
	if strings.ContainsAny(polyfill, " \"\\") {
		polyfill = strconv.Quote(polyfill)
	}
	env = append(env,
		strings.TrimSpace("NODE_OPTIONS=--require "+polyfill+" "+nodeOptions),
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true",
		"AWS_EC2_METADATA_DISABLED=true",
	)
	if lambdaURL != "" {
		env = append(env, "AWS_ENDPOINT_URL_LAMBDA="+lambdaURL)
	}
	return env
}

func (r *SFNRun) read(stdout io.Reader, ready chan<- int) {
	defer func() {
		_, _ = io.Copy(io.Discard, stdout) // after a scan error, keep the child from blocking
		err := r.cmd.Wait()
		r.mu.Lock()
		r.finished = time.Now()
		if r.result == nil {
			r.runErr = fmt.Errorf("sfn-run exited without a result (%v)", err)
			if err == nil {
				r.runErr = errors.New("sfn-run exited without a result")
			}
		}
		r.mu.Unlock()
		close(r.done)
	}()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			first = false
			var hello struct {
				ControlPort int `json:"controlPort"`
			}
			if err := json.Unmarshal(line, &hello); err == nil && hello.ControlPort != 0 {
				ready <- hello.ControlPort
				continue
			}
		}
		var probe struct {
			Event  *string `json:"event"`
			Status *string `json:"status"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			r.stderr.Write([]byte("unparsable stdout line: " + string(line) + "\n"))
			continue
		}
		switch {
		case probe.Event != nil:
			var tr Transition
			if err := json.Unmarshal(line, &tr); err != nil {
				r.stderr.Write([]byte("bad event line: " + string(line) + "\n"))
				continue
			}
			r.mu.Lock()
			r.transitions = append(r.transitions, tr)
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		case probe.Status != nil:
			var res struct {
				Status string          `json:"status"`
				Result json.RawMessage `json:"result"`
				Error  *string         `json:"error"`
				Cause  *string         `json:"cause"`
			}
			if err := json.Unmarshal(line, &res); err != nil {
				r.stderr.Write([]byte("bad result line: " + string(line) + "\n"))
				continue
			}
			out := &SFNResult{Status: res.Status, Result: res.Result}
			if res.Error != nil {
				out.Error = *res.Error
			}
			if res.Cause != nil {
				out.Cause = *res.Cause
			}
			r.mu.Lock()
			r.result = out
			r.mu.Unlock()
		}
	}
}

// Transitions returns the events seen so far.
func (r *SFNRun) Transitions() []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Transition(nil), r.transitions...)
}

// EnteredStates returns the names of the states entered so far, in order.
func (r *SFNRun) EnteredStates() []string {
	var out []string
	for _, tr := range r.Transitions() {
		if tr.Event == "enter" {
			out = append(out, tr.State)
		}
	}
	return out
}

// WaitFor blocks until a transition matching match has been seen (including ones seen before
// the call) and returns the first such transition.
func (r *SFNRun) WaitFor(ctx context.Context, match func(Transition) bool) (Transition, error) {
	for {
		r.mu.Lock()
		for _, tr := range r.transitions {
			if match(tr) {
				r.mu.Unlock()
				return tr, nil
			}
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-r.done:
			// drain: a matching line may have arrived just before exit
			r.mu.Lock()
			for _, tr := range r.transitions {
				if match(tr) {
					r.mu.Unlock()
					return tr, nil
				}
			}
			r.mu.Unlock()
			return Transition{}, errors.New("awslocal: execution finished without a matching transition")
		case <-ctx.Done():
			return Transition{}, ctx.Err()
		}
	}
}

// WaitForTaskToken waits until the task-token state named state has issued a token and
// returns it.
func (r *SFNRun) WaitForTaskToken(ctx context.Context, state string) (string, error) {
	tr, err := r.WaitFor(ctx, func(tr Transition) bool { return tr.Event == "task_token" && tr.State == state })
	return tr.Token, err
}

// SendTaskSuccess completes the waiting task that issued token with output. output is
// marshalled to JSON, except json.RawMessage and []byte, which must already be JSON.
func (r *SFNRun) SendTaskSuccess(token string, output any) error {
	var raw json.RawMessage
	switch v := output.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		raw = b
	}
	if !json.Valid(raw) {
		return fmt.Errorf("awslocal: SendTaskSuccess output is not JSON: %q", raw)
	}
	return r.control("/send-task-success", map[string]any{"taskToken": token, "output": raw})
}

// SendTaskFailure fails the waiting task that issued token with the given error name and
// cause; Catch/Retry match errName.
func (r *SFNRun) SendTaskFailure(token, errName, cause string) error {
	return r.control("/send-task-failure", map[string]any{"taskToken": token, "error": errName, "cause": cause})
}

// Abort stops the execution; Wait then reports status ABORTED.
func (r *SFNRun) Abort() error { return r.control("/abort", map[string]any{}) }

func (r *SFNRun) control(path string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(r.controlURL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		select {
		case <-r.done:
			return fmt.Errorf("awslocal: execution already finished: %w", err)
		default:
		}
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	apiErr := &SFNAPIError{}
	if json.Unmarshal(rb, apiErr) != nil || apiErr.Code == "" {
		return fmt.Errorf("awslocal: %s: HTTP %d: %s", path, resp.StatusCode, rb)
	}
	return apiErr
}

// Wait waits for the execution to finish and returns its result. An error means the harness
// failed (the process died, or ctx ended first), not that the execution failed: see
// SFNResult.Status for that.
func (r *SFNRun) Wait(ctx context.Context) (SFNResult, error) {
	select {
	case <-r.done:
	case <-ctx.Done():
		return SFNResult{}, fmt.Errorf("awslocal: waiting for execution: %w; states entered: %v", ctx.Err(), r.EnteredStates())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.result == nil {
		return SFNResult{}, fmt.Errorf("awslocal: %v\n%s", r.runErr, r.stderr.String())
	}
	return *r.result, nil
}

// Elapsed is the wall time from process start to now, or to the end of the run.
func (r *SFNRun) Elapsed() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.finished.IsZero() {
		return r.finished.Sub(r.started)
	}
	return time.Since(r.started)
}

// Stderr returns what sfn-run wrote to stderr.
func (r *SFNRun) Stderr() string { return r.stderr.String() }
