package awsrt

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/run"
)

// Sweep defaults; see Config.SweepGrace and Config.SweepLimit.
const (
	DefaultSweepGrace = 2 * time.Minute
	DefaultSweepLimit = 200
	// sweepReserve is how much of the invocation's time must remain to start another branch: one
	// StartExecution with the SDK's retries under throttling, plus clearing the mark.
	sweepReserve = 10 * time.Second
	// sweepMaxFailures stops a run early: failing starts mean Step Functions is throttling or down, and
	// hammering it helps nobody. The next scheduled run goes on from the same (oldest) marks.
	sweepMaxFailures = 3
)

func sweepFromEnv(getenv func(string) string, c *Config) error {
	if v := strings.TrimSpace(getenv("SWEEP_GRACE")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("SWEEP_GRACE must be a non-negative duration, got %q", v)
		}
		c.SweepGrace = d
	}
	if v := strings.TrimSpace(getenv("SWEEP_LIMIT")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fmt.Errorf("SWEEP_LIMIT must be 1..1000, got %q", v)
		}
		c.SweepLimit = n
	}
	return nil
}

// UnstartedBranches is the store side of the sweep (the DynamoDB store implements it): branches created
// but not yet run by any execution, and clearing that mark once an execution exists.
type UnstartedBranches interface {
	ListUnstartedBranches(ctx context.Context, olderThan time.Time, limit int) ([]run.BranchRef, error)
	ClearUnstarted(ctx context.Context, ref run.BranchRef) error
}

// SweepInput is the scheduled event; the sweep needs nothing from it.
type SweepInput struct{}

// SweepOutput says what one sweep did (for logs and tests).
type SweepOutput struct {
	Listed  int `json:"listed"`  // marked branches older than the grace period
	Started int `json:"started"` // whose execution was started now or found to exist already
	Failed  int `json:"failed"`  // whose StartExecution failed (left marked for the next run)
	// ContactReports is how many contact_updated reports left in the contacts outbox were made.
	ContactReports int `json:"contactReports"`
}

// SweepError: some branches could not be started. Returned so the function's Errors metric shows it;
// the marks stay, and the next scheduled run tries again.
type SweepError struct {
	Out SweepOutput
	Err error
}

func (e *SweepError) Error() string {
	if e.Out.Failed == 0 {
		return fmt.Sprintf("sweep: %v", e.Err)
	}
	return fmt.Sprintf("sweep: %d of %d unstarted branches not started: %v", e.Out.Failed, e.Out.Listed, e.Err)
}
func (e *SweepError) Unwrap() error { return e.Err }

// SweepHandler is engine-sweep, run on a schedule. It closes the gap between writing a branch and
// starting its execution: a StartExecution that failed for good (throttling beyond the SDK's retries, an
// outage, a Lambda timed out between the store write and the call) would leave the activation hanging
// INITIATED or STARTED forever. It lists branches still marked unstarted after the grace period, oldest
// first, at most SweepLimit, and starts each through the runner — idempotent by execution name, so a
// branch whose execution exists already (running, or its first step not committed yet) is not run twice
// — then clears the mark so a branch is swept at most once per successful start.
func (rt *Runtime) SweepHandler(ctx context.Context, _ SweepInput) (SweepOutput, error) {
	var out SweepOutput
	store, ok := rt.store.(UnstartedBranches)
	if !ok {
		return out, &SweepError{Err: errors.New("the store does not track unstarted branches")}
	}
	if rt.starter == nil {
		return out, &SweepError{Err: errors.New("no runner configured to start executions")}
	}
	olderThan := rt.now().Add(-rt.cfg.SweepGrace)
	limit := rt.cfg.SweepLimit
	if limit <= 0 {
		limit = DefaultSweepLimit
	}
	refs, err := store.ListUnstartedBranches(ctx, olderThan, limit)
	if err != nil {
		return out, &SweepError{Err: fmt.Errorf("listing unstarted branches: %w", err)}
	}
	out.Listed = len(refs)
	var failures []error
	for _, ref := range refs {
		if len(failures) >= sweepMaxFailures || !rt.timeFor(ctx, sweepReserve) {
			break
		}
		if err := rt.starter.Start(ctx, []run.BranchRef{ref}); err != nil {
			out.Failed++
			failures = append(failures, err)
			rt.log.Error("sweep: starting an unstarted branch failed", "activationId", ref.ActivationID, "branchId", ref.BranchID, "err", err)
			continue
		}
		out.Started++
		rt.log.Info("sweep: started unstarted branch", "activationId", ref.ActivationID, "branchId", ref.BranchID)
		if err := store.ClearUnstarted(ctx, ref); err != nil {
			// The execution exists; the mark only makes a later run start it again, which is harmless.
			rt.log.Warn("sweep: clearing the unstarted mark failed", "activationId", ref.ActivationID, "branchId", ref.BranchID, "err", err)
		}
	}
	if out.Listed > 0 || len(failures) > 0 {
		rt.log.Info("sweep done", "listed", out.Listed, "started", out.Started, "failed", out.Failed,
			"olderThan", olderThan.UTC().Format(time.RFC3339))
	}
	// The contacts outbox: contact_updated reports whose first attempt failed (or whose Lambda died after
	// the contact's write). A failed drain is logged and retried by the next run.
	if rt.timeFor(ctx, sweepReserve) {
		n, err := rt.DrainContacts(ctx)
		out.ContactReports = n
		if err != nil {
			rt.log.Error("sweep: draining the contacts outbox failed", "reported", n, "err", err)
			failures = append(failures, fmt.Errorf("contacts outbox: %w", err))
		} else if n > 0 {
			rt.log.Info("sweep: reported contact_updated events from the outbox", "reported", n)
		}
	}
	if len(failures) > 0 {
		return out, &SweepError{Out: out, Err: errors.Join(failures...)}
	}
	return out, nil
}

// timeFor reports whether the invocation has at least reserve of its time left.
func (rt *Runtime) timeFor(ctx context.Context, reserve time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > reserve
}
