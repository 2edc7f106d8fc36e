package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// InstructionKind tells a runner what to do with a branch after a step.
type InstructionKind string

const (
	Continue InstructionKind = "CONTINUE" // the next action is ready: step again now
	Wait     InstructionKind = "WAIT"     // a delay: step again at Until
	Await    InstructionKind = "AWAIT"    // an async action: park until completion, or step at Until (deadline)
	Done     InstructionKind = "DONE"     // the branch has ended
)

// Instruction is the result of one step.
type Instruction struct {
	Kind  InstructionKind `json:"instruction"`
	Until time.Time       `json:"until,omitempty"`
}

// step is the working state of one Step call: the branch as it will be committed and what else changed.
type step struct {
	act      *run.Activation
	cur      run.Branch // as loaded
	next     run.Branch // as it will be committed
	now      time.Time
	forks    []run.Branch
	logs     []run.ActionLog
	failed   int
	warnings []run.Warning // added to the activation's warnings

	start map[string]any // the branch's payload before its first action (enriched), for startedInfo
}

// Step advances one branch by one action (or finishes its delay or async wait) and commits the result
// atomically. It is safe to call again for the same branch at any time: a branch that has nothing to do
// yet answers WAIT/AWAIT, an ended branch or a finished activation answers DONE, and a step that lost a
// race with another worker answers what the winner left.
func (e *Engine) Step(ctx context.Context, ref run.BranchRef) (Instruction, error) {
	act, err := e.store.GetActivation(ctx, ref.ActivationID)
	if errors.Is(err, errs.ErrNotFound) {
		return Instruction{Kind: Done}, nil
	}
	if err != nil {
		return Instruction{}, fmt.Errorf("load activation %s: %w", ref.ActivationID, err)
	}
	br, err := e.store.GetBranch(ctx, ref.ActivationID, ref.BranchID)
	if errors.Is(err, errs.ErrNotFound) {
		return Instruction{Kind: Done}, nil
	}
	if err != nil {
		return Instruction{}, fmt.Errorf("load branch %s/%s: %w", ref.ActivationID, ref.BranchID, err)
	}
	if act.Status.Terminal() || br.State == run.BranchDone {
		return Instruction{Kind: Done}, nil
	}
	s := &step{act: act, cur: *br, next: *br, now: e.now().UTC()}
	if act.Status == run.StatusInitiated {
		s.start = clonePayload(br.Payload) // enriched (reference §3.4: startedInfo's payload is "enriched and refreshed")
	}
	switch br.State {
	case run.BranchReady:
		if err := e.runAction(ctx, s); err != nil {
			return Instruction{}, err
		}
	case run.BranchWaiting:
		if s.now.Before(br.DueAt) {
			return instructionFor(br), nil
		}
		cancelled, err := e.refreshAfterDelay(ctx, s)
		if err != nil {
			return Instruction{}, err
		}
		if cancelled {
			return Instruction{Kind: Done}, nil
		}
		e.endDelay(s)
	case run.BranchAwaiting:
		if (br.Await == nil || br.Await.Completion == nil) && s.now.Before(br.DueAt) {
			return instructionFor(br), nil
		}
		e.endAsync(ctx, s)
	default:
		return Instruction{}, fmt.Errorf("branch %s/%s in unknown state %q", ref.ActivationID, ref.BranchID, br.State)
	}
	return e.commit(ctx, s)
}

func (e *Engine) commit(ctx context.Context, s *step) (Instruction, error) {
	s.next.Version = s.cur.Version + 1
	c := run.StepCommit{ActivationID: s.act.ID, Branch: s.next, NewBranches: s.forks, ActionLogs: s.logs,
		FailedActions: s.failed, Warnings: s.warnings, Now: s.now}
	if s.act.Status == run.StatusInitiated {
		p := s.start
		if p == nil && s.act.Infos.Initiated != nil {
			p = s.act.Infos.Initiated.Payload
		}
		c.Started = &run.StartedInfo{Payload: p, StatusChangedDate: s.now}
	}
	_, err := e.store.CommitStep(ctx, c)
	if errors.Is(err, errs.ErrConflict) {
		// Another worker (or a cancellation, or a completion) changed the branch first; follow it.
		br, gerr := e.store.GetBranch(ctx, s.act.ID, s.cur.ID)
		if gerr != nil {
			return Instruction{}, fmt.Errorf("reload branch after conflict: %w", gerr)
		}
		return instructionFor(br), nil
	}
	if err != nil {
		return Instruction{}, fmt.Errorf("commit step of %s/%s: %w", s.act.ID, s.cur.ID, err)
	}
	refs := make([]run.BranchRef, 0, len(s.forks))
	for _, f := range s.forks {
		refs = append(refs, run.BranchRef{ActivationID: f.ActivationID, BranchID: f.ID})
	}
	e.start(ctx, refs)
	return instructionFor(&s.next), nil
}

func instructionFor(b *run.Branch) Instruction {
	switch b.State {
	case run.BranchReady:
		return Instruction{Kind: Continue}
	case run.BranchWaiting:
		return Instruction{Kind: Wait, Until: b.DueAt}
	case run.BranchAwaiting:
		return Instruction{Kind: Await, Until: b.DueAt}
	}
	return Instruction{Kind: Done}
}

// runAction executes the branch's current action. Action-level failures are recorded in the run log and
// the flow goes on (Wix semantics); only infrastructure errors are returned, so that the step is retried.
func (e *Engine) runAction(ctx context.Context, s *step) error {
	cfg := s.act.Automation.Configuration
	a, ok := cfg.Actions[s.cur.ActionID]
	if !ok || a == nil {
		// The frozen revision always holds its own actions; a missing one means a corrupt record.
		s.next.State, s.next.ActionID = run.BranchDone, ""
		return nil
	}
	switch a.Type {
	case automation.TypeAppDefined:
		if e.skipped(s, a) {
			s.logs = append(s.logs, run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type,
				Status: run.ActionSkipped, SkippedInfo: &run.ActionSkippedInfo{StatusChangedDate: s.now}})
			s.advance(a.PostActionIDs()) // a skipped action's posts still run
			return nil
		}
		return e.runAppDefined(ctx, s, a)
	case automation.TypeCondition:
		if a.ConditionInfo != nil {
			e.runCondition(s, a)
			return nil
		}
	case automation.TypeDelay:
		if a.DelayInfo != nil {
			e.runDelay(s, a)
			return nil
		}
	case automation.TypeSetVariables:
		if a.SetVariablesInfo != nil {
			e.runSetVariables(s, a)
			return nil
		}
	case automation.TypeRateLimit:
		if a.RateLimitInfo != nil {
			return e.runRateLimit(ctx, s, a)
		}
	case automation.TypeOutput:
		if a.OutputInfo != nil {
			e.runOutput(s, a)
			return nil
		}
	}
	// An *Info missing for its type is rejected at save; an unknown type can only come from a newer writer.
	s.fail(a, fmt.Sprintf("action type %s is not supported by this version of Switchyard", a.Type), "UNSUPPORTED")
	s.advance(a.PostActionIDs())
	return nil
}

// advance moves the branch to its successors: the first continues this branch, each further one forks
// a new branch (named by its action id) with its own copy of the payload.
func (s *step) advance(posts []string) {
	cfg := s.act.Automation.Configuration
	var next []string
	seen := map[string]bool{}
	for _, p := range posts {
		if _, ok := cfg.Actions[p]; ok && !seen[p] {
			seen[p] = true
			next = append(next, p)
		}
	}
	s.next.Await = nil
	if len(next) == 0 {
		s.next.State, s.next.ActionID, s.next.DueAt = run.BranchDone, "", s.now
		return
	}
	s.next.State, s.next.ActionID, s.next.DueAt = run.BranchReady, next[0], s.now
	for _, p := range next[1:] {
		s.forks = append(s.forks, run.Branch{ActivationID: s.act.ID, ID: p, Version: 1, State: run.BranchReady,
			ActionID: p, Payload: clonePayload(s.next.Payload), DueAt: s.now})
	}
}

// fail records an action as FAILED.
func (s *step) fail(a *automation.Action, desc, code string) {
	if len(desc) > 1000 {
		desc = desc[:1000]
	}
	s.failed++
	s.logs = append(s.logs, run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type,
		Status: run.ActionFailed, FailedInfo: &run.ActionFailedInfo{ErrorDescription: desc, ErrorCode: code,
			StatusChangedDate: s.now}})
}

// endDelay ends a delay whose time has come.
func (e *Engine) endDelay(s *step) {
	a := s.act.Automation.Configuration.Actions[s.cur.ActionID]
	if a == nil {
		s.advance(nil)
		return
	}
	s.logs = append(s.logs, run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type, Status: run.ActionEnded,
		EndedInfo: &run.ActionEndedInfo{DelayActionInfo: &run.DelayPayload{Payload: s.next.Payload}, StatusChangedDate: s.now}})
	s.advance(a.PostActionIDs())
}
