// Package sfn runs activations on AWS Step Functions: every branch of an activation is one Standard
// execution of the thin state machine in statemachines/activation.asl.json, whose input is only the
// branch's ids. The execution name is derived from those ids, so starting the same branch twice (a
// retried ReportEvent, a step that is re-run after a crash) never runs it twice.
//
// The package also wraps the task-token calls (SendTaskSuccess/SendTaskFailure) that complete an async
// action's wait, and StopExecution for cancellation.
package sfn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// API is the part of the Step Functions client the runner calls; *sfn.Client satisfies it.
type API interface {
	StartExecution(ctx context.Context, in *awssfn.StartExecutionInput, optFns ...func(*awssfn.Options)) (*awssfn.StartExecutionOutput, error)
	StopExecution(ctx context.Context, in *awssfn.StopExecutionInput, optFns ...func(*awssfn.Options)) (*awssfn.StopExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *awssfn.SendTaskSuccessInput, optFns ...func(*awssfn.Options)) (*awssfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *awssfn.SendTaskFailureInput, optFns ...func(*awssfn.Options)) (*awssfn.SendTaskFailureOutput, error)
}

// ErrTaskClosed reports that a task token no longer names a waiting task: it was completed already or
// its wait timed out. Callers completing an async action treat it as "nothing left to wake".
var ErrTaskClosed = errors.New("task token no longer waiting")

// maxNameLen is Step Functions' limit on execution names.
const maxNameLen = 80

// Step Functions' limits on SendTaskFailure's fields.
const (
	maxErrorLen = 256
	maxCauseLen = 32768
)

// Options tune a Runner; zero values get defaults.
type Options struct {
	// Concurrency bounds how many StartExecution calls one Start makes at once (default 8): an event
	// matching many automations starts many executions, and the API is rate-limited per account.
	Concurrency int
	Logger      *slog.Logger
}

// Runner starts, stops and wakes the executions of one state machine: the engine's Starter, Resumer and
// Canceller on AWS.
type Runner struct {
	api             API
	stateMachineARN string
	concurrency     int
	log             *slog.Logger
}

// New returns a Runner for the state machine stateMachineARN.
func New(api API, stateMachineARN string, o Options) *Runner {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{api: api, stateMachineARN: stateMachineARN, concurrency: o.Concurrency, log: o.Logger}
}

// Input is an execution's input: ids only, because payloads live in the store and an execution's state
// is limited to 256 KiB.
type Input struct {
	ActivationID string `json:"activationId"`
	BranchID     string `json:"branchId"`
}

// ExecutionName is the deterministic execution name of a branch: "<activationId>-<branchId>" (73
// characters for two GUIDs). The activation id must be a GUID for that form — its fixed length is what
// makes the joined name unambiguous, as both ids contain dashes. Other ids, or ones that do not fit Step
// Functions' name rules or its 80-character limit, give a readable prefix plus a hash of both ids, which
// stays deterministic and unique.
func ExecutionName(ref run.BranchRef) string {
	name := ref.ActivationID + "-" + ref.BranchID
	if len(name) <= maxNameLen && automation.IsGUID(ref.ActivationID) && safeName(ref.BranchID) {
		return name
	}
	sum := sha256.Sum256([]byte(ref.ActivationID + "\x00" + ref.BranchID))
	suffix := hex.EncodeToString(sum[:20]) // 40 hex characters
	prefix := sanitize(ref.ActivationID)
	if room := maxNameLen - len(suffix) - 1; len(prefix) > room {
		prefix = prefix[:room]
	}
	return prefix + "-" + suffix
}

// safeName reports whether s uses only the characters that also keep CloudWatch logging possible.
func safeName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isNameRune(r) {
			return false
		}
	}
	return true
}

func isNameRune(r rune) bool {
	return r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if isNameRune(r) {
			return r
		}
		return '_'
	}, s)
}

// ExecutionARN is the ARN of a branch's execution, derived from the state machine's ARN
// (arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME → …:execution:NAME:EXECUTION).
func (r *Runner) ExecutionARN(ref run.BranchRef) (string, error) {
	const marker = ":stateMachine:"
	i := strings.Index(r.stateMachineARN, marker)
	if i < 0 {
		return "", fmt.Errorf("state machine ARN %q has no %q part", r.stateMachineARN, marker)
	}
	machine := r.stateMachineARN[i+len(marker):]
	if j := strings.IndexByte(machine, ':'); j >= 0 {
		machine = machine[:j] // a version or alias qualifier is not part of execution ARNs
	}
	return r.stateMachineARN[:i] + ":execution:" + machine + ":" + ExecutionName(ref), nil
}

// Start starts one execution per branch. A branch whose execution already exists (running or finished)
// counts as started: that is what makes starts idempotent. Every branch is attempted; the error joins
// the failures.
func (r *Runner) Start(ctx context.Context, refs []run.BranchRef) error {
	if len(refs) == 0 {
		return nil
	}
	if r.stateMachineARN == "" {
		return errors.New("sfn runner: no state machine ARN configured (STATE_MACHINE_ARN)")
	}
	return r.each(refs, func(ref run.BranchRef) error { return r.startOne(ctx, ref) })
}

// each runs fn for every ref with bounded concurrency and joins the errors.
func (r *Runner) each(refs []run.BranchRef, fn func(run.BranchRef) error) error {
	errs := make([]error, len(refs))
	sem := make(chan struct{}, r.concurrency)
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(ref)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *Runner) startOne(ctx context.Context, ref run.BranchRef) error {
	input, err := json.Marshal(Input{ActivationID: ref.ActivationID, BranchID: ref.BranchID})
	if err != nil {
		return fmt.Errorf("encode execution input: %w", err)
	}
	name := ExecutionName(ref)
	out, err := r.api.StartExecution(ctx, &awssfn.StartExecutionInput{
		StateMachineArn: aws.String(r.stateMachineARN),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	switch {
	case errors.As(err, &exists):
		r.log.Debug("execution already exists", "execution", name)
		return nil
	case err != nil:
		return fmt.Errorf("start execution %s: %w", name, err)
	}
	r.log.Debug("execution started", "execution", aws.ToString(out.ExecutionArn))
	return nil
}

// Stop stops the executions of cancelled branches (engine.Canceller). The store has already ended the
// branches, so a running execution would only find nothing to do at its next step; stopping it ends a
// long Wait or an async wait now instead of at its due time. An execution that does not exist — never
// started, or already gone — is as stopped as it gets. Every branch is attempted.
func (r *Runner) Stop(ctx context.Context, refs []run.BranchRef) error {
	return r.each(refs, func(ref run.BranchRef) error {
		return r.stopOne(ctx, ref, "Cancelled", "the activation was cancelled")
	})
}

func (r *Runner) stopOne(ctx context.Context, ref run.BranchRef, errName, cause string) error {
	arn, err := r.ExecutionARN(ref)
	if err != nil {
		return err
	}
	_, err = r.api.StopExecution(ctx, &awssfn.StopExecutionInput{ExecutionArn: aws.String(arn),
		Error: optional(truncate(errName, maxErrorLen)), Cause: optional(truncate(cause, maxCauseLen))})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop execution %s: %w", arn, err)
	}
	return nil
}

// Resume wakes the execution parked on a branch whose async completion was just recorded
// (engine.Resumer): SendTaskSuccess with the task token engine-park stored. Without a token the
// execution has not parked yet, and engine-park will find the completion and wake it itself; a token
// that is no longer waiting timed out, and the step that follows the timeout resolves the branch.
func (r *Runner) Resume(ctx context.Context, ref run.BranchRef, taskToken string) error {
	if taskToken == "" {
		return nil
	}
	err := r.SendTaskSuccess(ctx, taskToken, Input{ActivationID: ref.ActivationID, BranchID: ref.BranchID})
	if errors.Is(err, ErrTaskClosed) {
		r.log.Debug("resume: task no longer waiting", "activationId", ref.ActivationID, "branchId", ref.BranchID)
		return nil
	}
	return err
}

// SendTaskSuccess completes the waiting task that issued token; output is marshalled to JSON (nil
// sends {}). A token that is no longer waiting gives an error wrapping ErrTaskClosed.
func (r *Runner) SendTaskSuccess(ctx context.Context, token string, output any) error {
	if output == nil {
		output = struct{}{}
	}
	b, err := json.Marshal(output)
	if err != nil {
		return fmt.Errorf("encode task output: %w", err)
	}
	_, err = r.api.SendTaskSuccess(ctx, &awssfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(b))})
	return taskError("send task success", err)
}

// SendTaskFailure fails the waiting task that issued token with an ASL error name and a cause. A token
// that is no longer waiting gives an error wrapping ErrTaskClosed.
func (r *Runner) SendTaskFailure(ctx context.Context, token, errName, cause string) error {
	_, err := r.api.SendTaskFailure(ctx, &awssfn.SendTaskFailureInput{TaskToken: aws.String(token),
		Error: optional(truncate(errName, maxErrorLen)), Cause: optional(truncate(cause, maxCauseLen))})
	return taskError("send task failure", err)
}

func taskError(op string, err error) error {
	if err == nil {
		return nil
	}
	var gone *types.TaskDoesNotExist
	var timedOut *types.TaskTimedOut
	if errors.As(err, &gone) || errors.As(err, &timedOut) {
		return fmt.Errorf("%s: %w: %w", op, ErrTaskClosed, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
