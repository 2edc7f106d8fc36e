package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

var concurrencyTests = []test{
	{"Concurrency/SameBranchOneWinner", testConcurrentSameBranch},
	{"Concurrency/AllBranchesEndOnce", testConcurrentBranches},
	{"Concurrency/AutomationUpdateOneWinner", testConcurrentAutomationUpdates},
	{"Concurrency/DeleteAutomationWhileUpdating", testDeleteWhileUpdating},
	{"Concurrency/DeleteAutomationOnce", testConcurrentDeletes},
}

const workers = 8

// parallel runs fn(i) for i in [0, workers) at the same moment and returns their errors.
func parallel(fn func(i int) error) []error {
	errList := make([]error, workers)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(workers)
	done.Add(workers)
	for i := range workers {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errList[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errList
}

// testConcurrentSameBranch: eight workers commit the same step of one branch, each with its own fork, log
// and failure count; exactly one wins, the others get errs.ErrConflict, and only the winner's writes exist.
func testConcurrentSameBranch(t *testing.T, s Store) {
	n := newRun("b1")
	create(t, s, n)
	act := n.Activation.ID
	commits := make([]run.StepCommit, workers)
	for i := range commits {
		c := step(n.Branches[0], run.BranchReady, at(1))
		c.Branch.Payload = map[string]any{"worker": float64(i)}
		c.NewBranches = []run.Branch{newBranch(act, fmt.Sprintf("fork-%d", i))}
		c.ActionLogs = []run.ActionLog{actionLog(act, "b1", run.ActionEnded, at(1))}
		c.ActionLogs[0].EndedInfo.AppDefinedActionInfo.Output = map[string]any{"worker": float64(i)}
		c.FailedActions = 1
		c.Started = &run.StartedInfo{Payload: map[string]any{"worker": float64(i)}, StatusChangedDate: at(1)}
		commits[i] = c
	}
	errList := parallel(func(i int) error {
		_, err := s.CommitStep(ctx(t), commits[i])
		return err
	})
	winner := -1
	for i, err := range errList {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("workers %d and %d both committed version 2", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, errs.ErrConflict):
			t.Errorf("worker %d: err = %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no worker committed: %v", errList)
	}
	w := commits[winner]
	sameJSON(t, "branch", getBranch(t, s, act, "b1"), &w.Branch)
	l, err := s.GetActionLog(ctx(t), act, "b1")
	must(t, err)
	sameJSON(t, "action log", l, &w.ActionLogs[0])
	a := getActivation(t, s, act)
	if a.OpenBranches != 2 || a.FailedActions != 1 || a.Status != run.StatusStarted {
		t.Errorf("activation: open %d, failed %d, status %s; want 2, 1, STARTED (one commit's worth)", a.OpenBranches, a.FailedActions, a.Status)
	}
	sameJSON(t, "startedInfo", a.Infos.Started, w.Started)
	for i := range workers {
		_, err := s.GetBranch(ctx(t), act, fmt.Sprintf("fork-%d", i))
		if i == winner && err != nil {
			t.Errorf("the winner's fork: %v", err)
		}
		if i != winner && !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("a loser's fork fork-%d: err = %v, want not found", i, err)
		}
	}
	logs, err := s.ListActionLogs(ctx(t), act)
	must(t, err)
	if len(logs) != 1 {
		t.Errorf("%d action logs, want 1", len(logs))
	}
}

// testConcurrentBranches: eight branches of one activation end at the same moment, each with a log and
// some with a failure. Every commit succeeds (they touch different branches), the counters add up, the
// activation ends exactly once, and every log is listed once.
func testConcurrentBranches(t *testing.T, s Store) {
	var ids []string
	for i := range workers {
		ids = append(ids, fmt.Sprintf("b%d", i))
	}
	n := newRun(ids...)
	create(t, s, n)
	act := n.Activation.ID
	results := make([]run.CommitResult, workers)
	errList := parallel(func(i int) error {
		c := step(n.Branches[i], run.BranchDone, at(5))
		c.ActionLogs = []run.ActionLog{actionLog(act, ids[i], run.ActionEnded, at(5))}
		c.FailedActions = i % 2
		c.Started = &run.StartedInfo{StatusChangedDate: at(5)}
		var err error
		results[i], err = s.CommitStep(ctx(t), c)
		return err
	})
	ended := 0
	for i, err := range errList {
		if err != nil {
			t.Errorf("branch %d: %v", i, err)
		}
		if results[i].Ended {
			ended++
		}
	}
	if ended != 1 {
		t.Errorf("%d commits reported Ended, want exactly 1", ended)
	}
	a := getActivation(t, s, act)
	if a.Status != run.StatusEnded || a.OpenBranches != 0 || a.FailedActions != workers/2 ||
		a.Infos.Ended == nil || !a.Infos.Ended.WithFailedActions || !a.Infos.Ended.StatusChangedDate.Equal(at(5)) {
		t.Errorf("activation: status %s, open %d, failed %d, ended %+v; want ENDED, 0, %d, withFailedActions at %v",
			a.Status, a.OpenBranches, a.FailedActions, a.Infos.Ended, workers/2, at(5))
	}
	logs, err := s.ListActionLogs(ctx(t), act)
	must(t, err)
	seen := map[string]int{}
	for _, l := range logs {
		seen[l.ActionID]++
	}
	if len(logs) != workers || len(seen) != workers {
		t.Errorf("action logs: %d listed, %d distinct; want %d of each", len(logs), len(seen), workers)
	}
}
