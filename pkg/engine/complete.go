package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// inFlightGrace bounds how long a completion waits for the invoking step to commit.
const inFlightGrace = 10 * time.Second

// Completion is ReportActionInvocationCompleted as received from an app.
type Completion struct {
	SiteID           string
	AppID            string
	Token            string
	Success          bool
	Result           map[string]any
	ErrorDescription string
}

// Complete records an async action's completion and resumes its branch. Only the app whose action was
// invoked, on the activation's site, may complete it; a token completes once — a repeat changes nothing
// and reports alreadyCompleted; a completion after the deadline is refused (the action has FAILED or is
// about to).
func (e *Engine) Complete(ctx context.Context, c Completion) (alreadyCompleted bool, err error) {
	notFound := errs.New(errs.NotFound, "INVOCATION_NOT_FOUND", "no pending action invocation has this token")
	ref, ok := ParseInvocationToken(c.Token)
	if !ok {
		return false, notFound
	}
	// A fast provider may report completion before the step that invoked it has committed the wait:
	// while the branch still stands READY on the invoked action, give that step time to finish.
	waitUntil := time.Now().Add(inFlightGrace)
	for attempt := 0; attempt < 5; attempt++ {
		act, err := e.store.GetActivation(ctx, ref.ActivationID)
		if errors.Is(err, errs.ErrNotFound) || (err == nil && act.SiteID != c.SiteID) {
			return false, notFound
		}
		if err != nil {
			return false, fmt.Errorf("load activation: %w", err)
		}
		br, err := e.store.GetBranch(ctx, ref.ActivationID, ref.BranchID)
		if errors.Is(err, errs.ErrNotFound) {
			return false, notFound
		}
		if err != nil {
			return false, fmt.Errorf("load branch: %w", err)
		}
		hash := hashToken(c.Token)
		if slices.Contains(br.CompletedTokens, hash) {
			return true, nil
		}
		if br.State == run.BranchReady && time.Now().Before(waitUntil) {
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(25 * time.Millisecond):
			}
			attempt--
			continue
		}
		if br.State != run.BranchAwaiting || br.Await == nil || !TokenMatches(c.Token, br.Await.TokenHash) {
			return false, notFound
		}
		a := act.Automation.Configuration.Actions[br.Await.ActionID]
		if a == nil || a.AppDefinedInfo == nil || a.AppDefinedInfo.AppID != c.AppID {
			return false, errs.New(errs.PermissionDenied, "NOT_ACTION_OWNER", "only the app whose action was invoked may complete it")
		}
		if act.Status.Terminal() {
			return false, errs.New(errs.FailedPrecondition, "ACTIVATION_FINISHED", "the activation is already %s", act.Status)
		}
		now := e.now().UTC()
		if now.After(br.Await.Deadline) {
			return false, errs.New(errs.FailedPrecondition, "INVOCATION_EXPIRED",
				"the invocation timed out at %s; the action is marked FAILED", br.Await.Deadline.Format(time.RFC3339))
		}
		next := *br
		aw := *br.Await
		aw.Completion = &run.Completion{Success: c.Success, Result: c.Result, ErrorDescription: c.ErrorDescription, ReceivedDate: now}
		next.Await = &aw
		next.CompletedTokens = append(slices.Clone(br.CompletedTokens), hash)
		next.DueAt = now
		next.Version = br.Version + 1
		if err := e.store.UpdateBranch(ctx, next); errors.Is(err, errs.ErrConflict) {
			continue // a step, a park or a concurrent completion got there first: look again
		} else if err != nil {
			return false, fmt.Errorf("record completion: %w", err)
		}
		e.resume(ctx, ref, aw.TaskToken)
		return false, nil
	}
	return false, fmt.Errorf("record completion of %s/%s: too much contention", ref.ActivationID, ref.BranchID)
}

// Park hands a waiting branch the task token of the execution parked on it (AWS runtime). It reports
// resumeNow when there is nothing to wait for — the completion already arrived, or the branch moved on —
// so the caller resumes the execution at once instead of leaving it parked until the timeout.
func (e *Engine) Park(ctx context.Context, ref run.BranchRef, taskToken string) (resumeNow bool, err error) {
	for attempt := 0; attempt < 5; attempt++ {
		br, err := e.store.GetBranch(ctx, ref.ActivationID, ref.BranchID)
		if errors.Is(err, errs.ErrNotFound) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("load branch: %w", err)
		}
		if br.State != run.BranchAwaiting || br.Await == nil || br.Await.Completion != nil {
			return true, nil
		}
		next := *br
		aw := *br.Await
		aw.TaskToken = taskToken
		next.Await = &aw
		next.Version = br.Version + 1
		if err := e.store.UpdateBranch(ctx, next); errors.Is(err, errs.ErrConflict) {
			continue
		} else if err != nil {
			return false, fmt.Errorf("park branch: %w", err)
		}
		return false, nil
	}
	return false, fmt.Errorf("park %s/%s: too much contention", ref.ActivationID, ref.BranchID)
}

func (e *Engine) resume(ctx context.Context, ref run.BranchRef, taskToken string) {
	r, ok := e.starter.(Resumer)
	if !ok {
		return
	}
	// The completion is durable; a failed wake-up is recovered when the branch's due time is polled.
	if err := r.Resume(ctx, ref, taskToken); err != nil {
		e.log.Warn("resuming branch failed", "activationId", ref.ActivationID, "branchId", ref.BranchID, "err", err)
	}
}
