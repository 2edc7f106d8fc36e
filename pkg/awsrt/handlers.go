package awsrt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// Errors returned to Step Functions. aws-lambda-go reports an error's Go type name as its errorType
// (an ErrorType() method is ignored on AWS, infra/README.md trap 3), and the state machine's Retry and
// Catch match those names, so each handler returns exactly one of these pointer types, never a wrapper.
type (
	// StepError: the engine could not advance the branch for an infrastructure reason (store
	// unreachable, throttled, …). The step is safe to repeat, and the state machine retries it.
	StepError struct {
		Ref run.BranchRef
		Err error
	}
	// ParkError: the task token could not be stored; the state machine parks again.
	ParkError struct {
		Ref run.BranchRef
		Err error
	}
	// FailError: the failure could not be recorded; the state machine retries the record.
	FailError struct {
		Ref run.BranchRef
		Err error
	}
	// InvalidInput: the event is not what the state machine sends; retrying cannot help.
	InvalidInput struct{ Reason string }
)

func (e *StepError) Error() string {
	return fmt.Sprintf("step %s/%s: %v", e.Ref.ActivationID, e.Ref.BranchID, e.Err)
}
func (e *StepError) Unwrap() error { return e.Err }
func (e *ParkError) Error() string {
	return fmt.Sprintf("park %s/%s: %v", e.Ref.ActivationID, e.Ref.BranchID, e.Err)
}
func (e *ParkError) Unwrap() error { return e.Err }
func (e *FailError) Error() string {
	return fmt.Sprintf("record failure of %s/%s: %v", e.Ref.ActivationID, e.Ref.BranchID, e.Err)
}
func (e *FailError) Unwrap() error    { return e.Err }
func (e *InvalidInput) Error() string { return "invalid input: " + e.Reason }

// StepInput is the engine-step event: the execution's input ids.
type StepInput struct {
	ActivationID string `json:"activationId"`
	BranchID     string `json:"branchId"`
}

// StepOutput is what the state machine routes on ($.step). Until is an RFC 3339 UTC timestamp in whole
// seconds (what a Wait state's TimestampPath accepts); TimeoutSeconds is the async wait's remaining time,
// for the waitForTaskToken state's TimeoutSecondsPath.
type StepOutput struct {
	Instruction    engine.InstructionKind `json:"instruction"`
	Until          string                 `json:"until,omitempty"`
	TimeoutSeconds int64                  `json:"timeoutSeconds,omitempty"`
}

// maxTaskTimeout is the largest TimeoutSeconds Step Functions accepts.
const maxTaskTimeout = 99999999

func (in StepInput) ref() (run.BranchRef, error) {
	if in.ActivationID == "" || in.BranchID == "" {
		return run.BranchRef{}, &InvalidInput{Reason: "activationId and branchId are required"}
	}
	return run.BranchRef{ActivationID: in.ActivationID, BranchID: in.BranchID}, nil
}

// StepHandler is engine-step. It runs up to StepsPerInvocation consecutive steps of the branch while
// they answer CONTINUE and the invocation has StepReserve of its time left, then tells the state machine
// what to do next. Batching immediate actions in one invocation saves two state transitions per action;
// every step is committed on its own, so a crash or timeout in the middle loses nothing and the retried
// invocation goes on from the first step that did not commit.
func (rt *Runtime) StepHandler(ctx context.Context, in StepInput) (StepOutput, error) {
	ref, err := in.ref()
	if err != nil {
		return StepOutput{}, err
	}
	for n := 1; ; n++ {
		ins, err := rt.engine.Step(ctx, ref)
		if err != nil {
			rt.log.Error("engine step failed", "activationId", ref.ActivationID, "branchId", ref.BranchID, "err", err)
			return StepOutput{}, &StepError{Ref: ref, Err: err}
		}
		if ins.Kind != engine.Continue || n >= rt.cfg.StepsPerInvocation || !rt.timeForAnotherStep(ctx) {
			out := rt.stepOutput(ins)
			rt.log.Debug("engine step", "activationId", ref.ActivationID, "branchId", ref.BranchID, "steps", n,
				"instruction", out.Instruction, "until", out.Until)
			return out, nil
		}
	}
}

func (rt *Runtime) timeForAnotherStep(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > rt.cfg.StepReserve
}

func (rt *Runtime) stepOutput(ins engine.Instruction) StepOutput {
	out := StepOutput{Instruction: ins.Kind}
	switch ins.Kind {
	case engine.Wait, engine.Await:
		// Rounded up: a Wait that ended a fraction of a second early would only cost another round trip.
		until := ceilSecond(ins.Until.UTC())
		out.Until = until.Format(time.RFC3339)
		if ins.Kind == engine.Await {
			secs := int64(math.Ceil(until.Sub(rt.now()).Seconds()))
			out.TimeoutSeconds = min(max(secs, 1), maxTaskTimeout) // 0 or less is rejected by Step Functions
		}
	}
	return out
}

func ceilSecond(t time.Time) time.Time {
	if tr := t.Truncate(time.Second); !tr.Equal(t) {
		return tr.Add(time.Second)
	}
	return t
}

// ParkInput is the engine-park event, sent by the waitForTaskToken state.
type ParkInput struct {
	TaskToken    string `json:"taskToken"`
	ActivationID string `json:"activationId"`
	BranchID     string `json:"branchId"`
}

// ParkOutput says what engine-park did (Step Functions ignores it; it is for logs and tests).
type ParkOutput struct {
	Parked bool `json:"parked"` // the token is stored on the branch's await
	Woken  bool `json:"woken"`  // the wait was over already: the task was completed at once
}

// ParkHandler is engine-park: it stores the task token on the branch's await (engine.Park, under the
// branch's version guard), so that ReportActionInvocationCompleted can wake the execution with
// SendTaskSuccess. If the wait is already over — the completion came first, the branch moved on or was
// cancelled — nobody else will wake this task, so it completes the task itself and the next Step
// follows what the branch says.
func (rt *Runtime) ParkHandler(ctx context.Context, in ParkInput) (ParkOutput, error) {
	ref, err := StepInput{ActivationID: in.ActivationID, BranchID: in.BranchID}.ref()
	if err != nil {
		return ParkOutput{}, err
	}
	if in.TaskToken == "" {
		return ParkOutput{}, &InvalidInput{Reason: "taskToken is required"}
	}
	resumeNow, err := rt.engine.Park(ctx, ref, in.TaskToken)
	if err != nil {
		return ParkOutput{}, &ParkError{Ref: ref, Err: err}
	}
	if !resumeNow {
		rt.log.Debug("parked", "activationId", ref.ActivationID, "branchId", ref.BranchID)
		return ParkOutput{Parked: true}, nil
	}
	if rt.resumer == nil {
		return ParkOutput{}, &ParkError{Ref: ref, Err: fmt.Errorf("the wait is over, but no resumer is configured to wake the execution")}
	}
	if err := rt.resumer.Resume(ctx, ref, in.TaskToken); err != nil {
		return ParkOutput{}, &ParkError{Ref: ref, Err: fmt.Errorf("waking the execution: %w", err)}
	}
	rt.log.Debug("woken at park", "activationId", ref.ActivationID, "branchId", ref.BranchID)
	return ParkOutput{Woken: true}, nil
}

// FailInput is the engine-fail event: the ids plus the ASL error the Step state caught.
type FailInput struct {
	ActivationID string `json:"activationId"`
	BranchID     string `json:"branchId"`
	Error        string `json:"error"`
	Cause        string `json:"cause"`
}

// FailOutput says what engine-fail recorded.
type FailOutput struct {
	ActivationFailed bool `json:"activationFailed"` // the activation is now FAILED
	BranchClosed     bool `json:"branchClosed"`     // fallback: the branch ended with its action FAILED
}

// failAttempts bounds the version-conflict loop of the fallback.
const failAttempts = 5

// FailHandler is engine-fail: the Step state failed for good (retries exhausted, or an error no retry
// covers). With a store that implements ActivationFailer the activation becomes FAILED with failedInfo.
// Otherwise — the existing store methods cannot set FAILED — the branch is closed through CommitStep with
// its current action FAILED (errorCode ENGINE_STEP_FAILED), so the activation still reaches a terminal
// status (ENDED, withFailedActions) instead of staying STARTED forever.
func (rt *Runtime) FailHandler(ctx context.Context, in FailInput) (FailOutput, error) {
	ref, err := StepInput{ActivationID: in.ActivationID, BranchID: in.BranchID}.ref()
	if err != nil {
		return FailOutput{}, err
	}
	desc := truncate(fmt.Sprintf("the engine could not run this step: %s: %s", in.Error, in.Cause), 1000)
	rt.log.Error("branch failed", "activationId", ref.ActivationID, "branchId", ref.BranchID, "error", in.Error, "cause", in.Cause)
	now := rt.now().UTC()
	if f, ok := rt.store.(ActivationFailer); ok {
		err := f.FailActivation(ctx, ref.ActivationID, run.FailedInfo{ErrorDescription: desc, ErrorCode: "ENGINE_STEP_FAILED",
			ErrorReason: in.Error, StatusChangedDate: now})
		if err != nil && !errors.Is(err, errs.ErrNotFound) && !errors.Is(err, errs.ErrConflict) {
			return FailOutput{}, &FailError{Ref: ref, Err: err}
		}
		return FailOutput{ActivationFailed: err == nil}, nil
	}
	for attempt := 0; attempt < failAttempts; attempt++ {
		done, err := rt.closeBranch(ctx, ref, desc, now)
		if err == nil {
			return FailOutput{BranchClosed: done}, nil
		}
		if !errors.Is(err, errs.ErrConflict) {
			return FailOutput{}, &FailError{Ref: ref, Err: err}
		}
	}
	return FailOutput{}, &FailError{Ref: ref, Err: fmt.Errorf("branch kept changing over %d attempts", failAttempts)}
}

// closeBranch ends the branch with its current action FAILED; false when there is nothing to close.
func (rt *Runtime) closeBranch(ctx context.Context, ref run.BranchRef, desc string, now time.Time) (bool, error) {
	act, err := rt.store.GetActivation(ctx, ref.ActivationID)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if act.Status.Terminal() {
		return false, nil
	}
	br, err := rt.store.GetBranch(ctx, ref.ActivationID, ref.BranchID)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if br.State == run.BranchDone {
		return false, nil
	}
	next := *br
	next.State, next.ActionID, next.Await, next.DueAt, next.Version = run.BranchDone, "", nil, now, br.Version+1
	c := run.StepCommit{ActivationID: ref.ActivationID, Branch: next, Now: now}
	if br.ActionID != "" {
		l := run.ActionLog{ActivationID: ref.ActivationID, ActionID: br.ActionID}
		if prev, err := rt.store.GetActionLog(ctx, ref.ActivationID, br.ActionID); err == nil {
			l = *prev // keep what the action recorded before (its input, its async info)
		} else if !errors.Is(err, errs.ErrNotFound) {
			return false, err
		}
		if act.Automation != nil {
			if a := act.Automation.Configuration.Actions[br.ActionID]; a != nil {
				l.Type = a.Type
			}
		}
		l.Status = run.ActionFailed
		l.FailedInfo = &run.ActionFailedInfo{ErrorDescription: desc, ErrorCode: "ENGINE_STEP_FAILED", StatusChangedDate: now}
		c.ActionLogs = []run.ActionLog{l}
		c.FailedActions = 1
	}
	if _, err := rt.store.CommitStep(ctx, c); err != nil {
		return false, err
	}
	return true, nil
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
