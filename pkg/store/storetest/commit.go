package storetest

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

var commitTests = []test{
	{"CommitStep/FirstStepStarts", testCommitStarts},
	{"CommitStep/VersionGuard", testCommitVersionGuard},
	{"CommitStep/UnknownActivation", testCommitUnknownActivation},
	{"CommitStep/Forks", testCommitForks},
	{"CommitStep/EndsWhenLastBranchEnds", testCommitEnds},
	{"CommitStep/EndsWithoutFailedActions", testCommitEndsClean},
	{"CommitStep/TerminalActivation", testCommitTerminal},
	{"ActionLogs/FirstWriteOrder", testActionLogOrder},
	{"ActionLogs/ManyInWriteOrder", testActionLogManyOrder},
}

func commit(t *testing.T, s Store, c run.StepCommit) run.CommitResult {
	t.Helper()
	res, err := s.CommitStep(ctx(t), c)
	if err != nil {
		t.Fatalf("CommitStep %s v%d: %v", c.Branch.ID, c.Branch.Version, err)
	}
	return res
}

// testCommitStarts: the first step moves INITIATED → STARTED with its startedInfo; a later step that also
// carries Started (two branches that both saw INITIATED) changes neither. The branch, the action log and
// updatedDate are written; the rest of the activation is untouched.
func testCommitStarts(t *testing.T, s Store) {
	n := newRun("b1", "b2")
	create(t, s, n)
	act := n.Activation.ID

	c := step(n.Branches[0], run.BranchReady, at(10))
	c.Branch.ActionID = "next"
	c.ActionLogs = []run.ActionLog{actionLog(act, "b1", run.ActionEnded, at(10))}
	c.Started = &run.StartedInfo{Payload: map[string]any{"email": "a@example.com"}, StatusChangedDate: at(10)}
	if res := commit(t, s, c); res.Ended {
		t.Errorf("first step: Ended = true with a branch still open")
	}
	want := n.Activation
	want.Status, want.UpdatedDate, want.Infos.Started = run.StatusStarted, at(10), c.Started
	sameJSON(t, "activation after the first step", getActivation(t, s, act), &want)
	sameJSON(t, "branch after the first step", getBranch(t, s, act, "b1"), &c.Branch)
	sameJSON(t, "untouched branch", getBranch(t, s, act, "b2"), &n.Branches[1])
	l, err := s.GetActionLog(ctx(t), act, "b1")
	must(t, err)
	sameJSON(t, "action log", l, &c.ActionLogs[0])

	c2 := step(n.Branches[1], run.BranchWaiting, at(20))
	c2.Started = &run.StartedInfo{Payload: map[string]any{"other": true}, StatusChangedDate: at(20)}
	commit(t, s, c2)
	want.UpdatedDate = at(20)
	sameJSON(t, "activation after a second Started", getActivation(t, s, act), &want)
}

// testCommitVersionGuard: a commit whose branch is not at Version-1 in the store (stale, ahead, or no such
// branch) is errs.ErrConflict and writes nothing — no branch, fork, log, counter or status.
func testCommitVersionGuard(t *testing.T, s Store) {
	n := newRun("b1")
	create(t, s, n)
	act := n.Activation.ID
	commit(t, s, step(n.Branches[0], run.BranchReady, at(1))) // b1 is now at version 2
	cur := getBranch(t, s, act, "b1")

	for _, tc := range []struct {
		name   string
		branch run.Branch
	}{
		{"stale", n.Branches[0]}, // commits version 2 again
		{"ahead", func() run.Branch { b := *cur; b.Version++; return b }()},
		{"no such branch", newBranch(act, "ghost")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, s, act, []string{"b1", "ghost", "fork"}, []string{"b1"})
			c := step(tc.branch, run.BranchDone, at(5))
			c.NewBranches = []run.Branch{newBranch(act, "fork")}
			c.ActionLogs = []run.ActionLog{actionLog(act, "b1", run.ActionFailed, at(5))}
			c.Started = &run.StartedInfo{StatusChangedDate: at(5)}
			c.FailedActions = 1
			_, err := s.CommitStep(ctx(t), c)
			wantErr(t, "CommitStep", err, errs.ErrConflict)
			if after := snapshot(t, s, act, []string{"b1", "ghost", "fork"}, []string{"b1"}); after != before {
				t.Errorf("a refused commit changed the store:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func testCommitUnknownActivation(t *testing.T, s Store) {
	n := newRun("b1")
	create(t, s, n)
	for _, withLogs := range []bool{false, true} {
		t.Run(fmt.Sprintf("logs=%v", withLogs), func(t *testing.T) {
			id := uuid.NewString()
			c := step(newBranch(id, "b1"), run.BranchDone, at(1))
			if withLogs {
				c.ActionLogs = []run.ActionLog{actionLog(id, "b1", run.ActionEnded, at(1))}
			}
			_, err := s.CommitStep(ctx(t), c)
			wantErr(t, "CommitStep on an unknown activation", err, errs.ErrNotFound)
			if _, err := s.GetActionLog(ctx(t), id, "b1"); err == nil {
				t.Errorf("the refused commit wrote its action log")
			}
		})
	}
}

// testCommitForks: forked branches are inserted and counted; a fork whose id exists, or repeats within the
// commit, is errs.ErrConflict and writes nothing.
func testCommitForks(t *testing.T, s Store) {
	n := newRun("b1")
	create(t, s, n)
	act := n.Activation.ID

	c := step(n.Branches[0], run.BranchReady, at(1))
	c.NewBranches = []run.Branch{newBranch(act, "f1"), newBranch(act, "f2")}
	commit(t, s, c)
	if got := getActivation(t, s, act).OpenBranches; got != 3 {
		t.Errorf("openBranches after forking two = %d, want 3", got)
	}
	for _, f := range c.NewBranches {
		sameJSON(t, "fork "+f.ID, getBranch(t, s, act, f.ID), &f)
	}
	f1 := getBranch(t, s, act, "f1")
	if res := commit(t, s, step(*f1, run.BranchDone, at(2))); res.Ended {
		t.Errorf("ending one of three branches ended the activation")
	}
	if got := getActivation(t, s, act).OpenBranches; got != 2 {
		t.Errorf("openBranches after one fork ended = %d, want 2", got)
	}

	b1 := getBranch(t, s, act, "b1")
	for _, tc := range []struct {
		name  string
		forks []string
	}{
		{"fork exists", []string{"f3", "f2"}},
		{"fork of an ended branch", []string{"f1"}},
		{"fork twice", []string{"f3", "f3"}},
		{"fork named like its parent", []string{"b1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, s, act, []string{"b1", "f1", "f2", "f3"}, []string{"x"})
			c := step(*b1, run.BranchReady, at(3))
			for _, id := range tc.forks {
				c.NewBranches = append(c.NewBranches, newBranch(act, id))
			}
			c.ActionLogs = []run.ActionLog{actionLog(act, "x", run.ActionEnded, at(3))}
			_, err := s.CommitStep(ctx(t), c)
			wantErr(t, "CommitStep", err, errs.ErrConflict)
			if after := snapshot(t, s, act, []string{"b1", "f1", "f2", "f3"}, []string{"x"}); after != before {
				t.Errorf("a refused commit changed the store:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// testCommitEnds: when the last open branch ends, the activation is ENDED with endedInfo (withFailedActions
// from every step's failures) and that commit reports Ended.
func testCommitEnds(t *testing.T, s Store) {
	n := newRun("b1", "b2")
	create(t, s, n)
	act := n.Activation.ID

	c1 := step(n.Branches[0], run.BranchDone, at(1))
	c1.Started = &run.StartedInfo{Payload: map[string]any{}, StatusChangedDate: at(1)}
	c1.ActionLogs = []run.ActionLog{actionLog(act, "b1", run.ActionFailed, at(1))}
	c1.FailedActions = 1
	if res := commit(t, s, c1); res.Ended {
		t.Errorf("ending one of two branches ended the activation")
	}
	a := getActivation(t, s, act)
	if a.Status != run.StatusStarted || a.OpenBranches != 1 || a.FailedActions != 1 || a.Infos.Ended != nil {
		t.Errorf("after one of two branches ended: status %s, open %d, failed %d, ended %+v; want STARTED, 1, 1, none",
			a.Status, a.OpenBranches, a.FailedActions, a.Infos.Ended)
	}

	c2 := step(n.Branches[1], run.BranchDone, at(7))
	c2.ActionLogs = []run.ActionLog{actionLog(act, "b2", run.ActionEnded, at(7))}
	if res := commit(t, s, c2); !res.Ended {
		t.Errorf("ending the last branch: CommitResult.Ended = false")
	}
	want := n.Activation
	want.Status, want.OpenBranches, want.FailedActions, want.UpdatedDate = run.StatusEnded, 0, 1, at(7)
	want.Infos.Started = c1.Started
	want.Infos.Ended = &run.EndedInfo{WithFailedActions: true, StatusChangedDate: at(7)}
	sameJSON(t, "ended activation", getActivation(t, s, act), &want)
}

func testCommitEndsClean(t *testing.T, s Store) {
	n := newRun("b1")
	create(t, s, n)
	act := n.Activation.ID
	c := step(n.Branches[0], run.BranchDone, at(4))
	c.Started = &run.StartedInfo{Payload: map[string]any{"email": "a@example.com"}, StatusChangedDate: at(4)}
	c.ActionLogs = []run.ActionLog{actionLog(act, "b1", run.ActionEnded, at(4))}
	if res := commit(t, s, c); !res.Ended {
		t.Errorf("ending the only branch: CommitResult.Ended = false")
	}
	a := getActivation(t, s, act)
	sameJSON(t, "endedInfo", a.Infos.Ended, &run.EndedInfo{WithFailedActions: false, StatusChangedDate: at(4)})
	if a.Status != run.StatusEnded || a.OpenBranches != 0 || a.FailedActions != 0 {
		t.Errorf("status %s, open %d, failed %d; want ENDED, 0, 0", a.Status, a.OpenBranches, a.FailedActions)
	}
	sameJSON(t, "startedInfo of a one-step run", a.Infos.Started, c.Started)
}

// testCommitTerminal: no commit changes a terminal activation, even one whose branch version matches.
func testCommitTerminal(t *testing.T, s Store) {
	cancelled := newRun("b1")
	cancelled.Activation.Status = run.StatusCancelled
	cancelled.Activation.Infos.Cancelled = &run.CancelledInfo{Reason: "entity deleted", StatusChangedDate: t0}
	create(t, s, cancelled)

	// An activation that ends while one of its branches is still at a committable version (its count says
	// one branch, it has two).
	ended := newRun("b1", "b2")
	ended.Activation.OpenBranches = 1
	create(t, s, ended)
	if res := commit(t, s, step(ended.Branches[0], run.BranchDone, at(1))); !res.Ended {
		t.Fatalf("setup: the activation did not end")
	}

	for _, tc := range []struct {
		name string
		n    run.NewActivation
		b    run.Branch
	}{
		{"CANCELLED", cancelled, cancelled.Branches[0]},
		{"ENDED", ended, ended.Branches[1]},
		{"ENDED, its ended branch", ended, *getBranch(t, s, ended.Activation.ID, "b1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			act := tc.n.Activation.ID
			before := snapshot(t, s, act, []string{"b1", "b2", "fork"}, []string{"x"})
			c := step(tc.b, run.BranchDone, at(9))
			c.NewBranches = []run.Branch{newBranch(act, "fork")}
			c.ActionLogs = []run.ActionLog{actionLog(act, "x", run.ActionEnded, at(9))}
			c.FailedActions = 1
			_, err := s.CommitStep(ctx(t), c)
			wantErr(t, "CommitStep on a terminal activation", err, errs.ErrConflict)
			if after := snapshot(t, s, act, []string{"b1", "b2", "fork"}, []string{"x"}); after != before {
				t.Errorf("a refused commit changed the store:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// testActionLogOrder: ListActionLogs lists logs in the order actions were first written, across branches
// and commits; an update replaces a log's content but keeps its position, also when one commit writes the
// same action twice.
func testActionLogOrder(t *testing.T, s Store) {
	n := newRun("b1", "b2")
	create(t, s, n)
	act := n.Activation.ID
	b1, b2 := n.Branches[0], n.Branches[1]

	c := step(b1, run.BranchAwaiting, at(1))
	c.ActionLogs = []run.ActionLog{actionLog(act, "zeta", run.ActionStarted, at(1))}
	commit(t, s, c)
	b1 = c.Branch

	c = step(b2, run.BranchReady, at(2))
	c.ActionLogs = []run.ActionLog{actionLog(act, "beta", run.ActionEnded, at(2)), actionLog(act, "alpha", run.ActionSkipped, at(2))}
	commit(t, s, c)
	b2 = c.Branch

	zetaEnded := actionLog(act, "zeta", run.ActionEnded, at(3))
	c = step(b1, run.BranchDone, at(3))
	c.ActionLogs = []run.ActionLog{zetaEnded}
	commit(t, s, c)

	gammaEnded := actionLog(act, "gamma", run.ActionEnded, at(4))
	c = step(b2, run.BranchDone, at(4))
	c.ActionLogs = []run.ActionLog{actionLog(act, "gamma", run.ActionStarted, at(4)), gammaEnded,
		actionLog(act, "beta", run.ActionFailed, at(4))}
	commit(t, s, c)

	logs, err := s.ListActionLogs(ctx(t), act)
	must(t, err)
	var got []string
	for _, l := range logs {
		got = append(got, fmt.Sprintf("%s:%s", l.ActionID, l.Status))
	}
	want := []string{"zeta:ENDED", "beta:FAILED", "alpha:SKIPPED", "gamma:ENDED"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListActionLogs = %v, want %v", got, want)
	}
	if len(logs) == 4 {
		sameJSON(t, "updated log", logs[0], &zetaEnded)
		sameJSON(t, "log written twice in one commit", logs[3], &gammaEnded)
	}
	l, err := s.GetActionLog(ctx(t), act, "zeta")
	must(t, err)
	sameJSON(t, "GetActionLog of an updated log", l, &zetaEnded)
}

// testActionLogManyOrder: a long run, one log per step, ids in reverse alphabetical order (so a store that
// sorts by id fails), every log updated once later.
func testActionLogManyOrder(t *testing.T, s Store) {
	n := newRun("b1")
	create(t, s, n)
	act := n.Activation.ID
	b := n.Branches[0]
	const steps = 30
	var want []string
	for i := range steps {
		id := fmt.Sprintf("action-%02d", steps-i)
		want = append(want, id)
		c := step(b, run.BranchReady, at(i))
		c.ActionLogs = []run.ActionLog{actionLog(act, id, run.ActionStarted, at(i))}
		if i > 0 {
			c.ActionLogs = append(c.ActionLogs, actionLog(act, want[i-1], run.ActionEnded, at(i)))
		}
		commit(t, s, c)
		b = c.Branch
	}
	logs, err := s.ListActionLogs(ctx(t), act)
	must(t, err)
	var got []string
	for _, l := range logs {
		got = append(got, l.ActionID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListActionLogs order:\n got %v\nwant %v", got, want)
	}
}
