package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

var activationTests = []test{
	{"Runs/NotFound", testRunsNotFound},
	{"CreateActivations/RoundTrip", testCreateActivations},
	{"CreateActivations/DuplicateWritesNothing", testCreateActivationsAtomic},
}

// newRun returns an INITIATED activation of siteA with one READY branch per id, as engine.Report makes it.
func newRun(branches ...string) run.NewActivation {
	id := uuid.NewString()
	a := newAutomation(uuid.NewString(), appA, "form_submitted")
	payload := map[string]any{"email": "a@example.com", "n": 1.0, "tags": []any{"x", "y"}}
	n := run.NewActivation{Activation: run.Activation{ID: id, SiteID: siteA, AutomationID: a.ID,
		AutomationRevision: a.Revision, Automation: a, TriggerAppID: appA, TriggerKey: "form_submitted",
		ExternalEntityID: "entity-1", RequestID: "req-1", Source: run.Source{Kind: run.SourceTriggerEvent},
		Status: run.StatusInitiated, OpenBranches: len(branches), CreatedDate: t0, UpdatedDate: t0,
		Infos: run.ActivationInfos{Initiated: &run.InitiatedInfo{Target: "IMMEDIATE", Payload: payload,
			ExternalEntityID: "entity-1", RequestID: "req-1", StatusChangedDate: t0}}}}
	for _, b := range branches {
		n.Branches = append(n.Branches, newBranch(id, b))
	}
	return n
}

// dupOf returns another activation with n's id (and a branch "other").
func dupOf(n run.NewActivation) run.NewActivation {
	d := newRun("other")
	d.Activation.ID = n.Activation.ID
	for i := range d.Branches {
		d.Branches[i].ActivationID = n.Activation.ID
	}
	return d
}

func newBranch(activationID, id string) run.Branch {
	return run.Branch{ActivationID: activationID, ID: id, Version: 1, State: run.BranchReady, ActionID: id,
		Payload: map[string]any{"email": "a@example.com"}, DueAt: t0}
}

// step returns the commit that moves branch b to its next version in the given state.
func step(b run.Branch, state run.BranchState, now time.Time) run.StepCommit {
	next := b
	next.Version++
	next.State, next.DueAt = state, now
	next.Payload = map[string]any{"email": "a@example.com", "step": float64(next.Version)}
	if state == run.BranchDone {
		next.ActionID = ""
	}
	return run.StepCommit{ActivationID: b.ActivationID, Branch: next, Now: now}
}

func actionLog(activationID, actionID string, st run.ActionStatus, now time.Time) run.ActionLog {
	l := run.ActionLog{ActivationID: activationID, ActionID: actionID, Type: "APP_DEFINED", Status: st}
	switch st {
	case run.ActionEnded:
		l.EndedInfo = &run.ActionEndedInfo{AppDefinedActionInfo: &run.AppDefinedOutput{Output: map[string]any{"ok": true}}, StatusChangedDate: now}
	case run.ActionFailed:
		l.FailedInfo = &run.ActionFailedInfo{ErrorDescription: "provider said no", ErrorCode: "HTTP_500", StatusChangedDate: now}
	default:
		l.StartedInfo = &run.ActionStartedInfo{AppDefinedActionInfo: &run.AppDefinedInput{Input: map[string]any{"to": "a@example.com"}}, StatusChangedDate: now}
	}
	return l
}

func create(t *testing.T, s Store, news ...run.NewActivation) {
	t.Helper()
	must(t, s.CreateActivations(ctx(t), news))
}

func getActivation(t *testing.T, s Store, id string) *run.Activation {
	t.Helper()
	a, err := s.GetActivation(ctx(t), id)
	must(t, err)
	return a
}

func getBranch(t *testing.T, s Store, act, id string) *run.Branch {
	t.Helper()
	b, err := s.GetBranch(ctx(t), act, id)
	must(t, err)
	return b
}

// snapshot renders everything a commit could change about an activation, to check that a refused commit
// wrote nothing: the activation, the named branches (or their absence) and the action logs (and named
// ones' absence).
func snapshot(t *testing.T, s Store, act string, branches []string, logs []string) string {
	t.Helper()
	var b strings.Builder
	show := func(what string, v any, err error) {
		if errors.Is(err, errs.ErrNotFound) {
			fmt.Fprintf(&b, "%s: absent\n", what)
			return
		}
		must(t, err)
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s: %s\n", what, j)
	}
	a, err := s.GetActivation(ctx(t), act)
	show("activation", a, err)
	for _, id := range branches {
		br, err := s.GetBranch(ctx(t), act, id)
		show("branch "+id, br, err)
	}
	list, err := s.ListActionLogs(ctx(t), act)
	show("logs", list, err)
	for _, id := range logs {
		l, err := s.GetActionLog(ctx(t), act, id)
		show("log "+id, l, err)
	}
	return b.String()
}

func testRunsNotFound(t *testing.T, s Store) {
	n := newRun("root")
	create(t, s, n)
	act := n.Activation.ID
	for _, tc := range []struct {
		name string
		get  func() error
	}{
		{"GetActivation", func() error { _, err := s.GetActivation(ctx(t), uuid.NewString()); return err }},
		{"GetBranch/otherBranch", func() error { _, err := s.GetBranch(ctx(t), act, "other"); return err }},
		{"GetBranch/otherActivation", func() error { _, err := s.GetBranch(ctx(t), uuid.NewString(), "root"); return err }},
		{"GetActionLog", func() error { _, err := s.GetActionLog(ctx(t), act, "root"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.get(), errs.ErrNotFound) })
	}
	t.Run("ListActionLogs", func(t *testing.T) {
		for _, id := range []string{act, uuid.NewString()} {
			logs, err := s.ListActionLogs(ctx(t), id)
			must(t, err)
			// Not nil: the API serves the slice as activationActionLogs, which must be [] and not null.
			if logs == nil || len(logs) != 0 {
				t.Errorf("ListActionLogs(%s) = %#v, want an empty, non-nil slice", id, logs)
			}
		}
	})
}

func testCreateActivations(t *testing.T, s Store) {
	must(t, s.CreateActivations(ctx(t), nil))
	one, three := newRun("root"), newRun("r1", "r2", "r3")
	three.Branches[1].State, three.Branches[1].DueAt = run.BranchWaiting, at(3600)
	create(t, s, one, three)
	for _, n := range []run.NewActivation{one, three} {
		sameJSON(t, "GetActivation", getActivation(t, s, n.Activation.ID), &n.Activation)
		for _, b := range n.Branches {
			sameJSON(t, "GetBranch "+b.ID, getBranch(t, s, b.ActivationID, b.ID), &b)
		}
	}
}

// testCreateActivationsAtomic: a CreateActivations that fails on a duplicate writes nothing at all, even
// when the batch is larger than one DynamoDB transaction can hold.
func testCreateActivationsAtomic(t *testing.T, s Store) {
	existing := newRun("root")
	create(t, s, existing)
	dupBranches := newRun("r1", "r2")
	dupBranches.Branches[1].ID = "r1"
	twice := newRun("root")
	many := make([]run.NewActivation, 0, 46)
	for range 45 {
		many = append(many, newRun("r1", "r2", "r3"))
	}
	for _, tc := range []struct {
		name  string
		batch []run.NewActivation
	}{
		{"existing id last", []run.NewActivation{newRun("root"), newRun("a", "b"), dupOf(existing)}},
		{"existing id first", []run.NewActivation{dupOf(existing), newRun("root")}},
		{"same id twice", []run.NewActivation{twice, newRun("x"), dupOf(twice)}},
		{"same branch twice", []run.NewActivation{newRun("root"), dupBranches}},
		{"large batch", append(many, dupOf(existing))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "CreateActivations", s.CreateActivations(ctx(t), tc.batch), errs.ErrConflict)
			for i, n := range tc.batch {
				if n.Activation.ID == existing.Activation.ID {
					continue
				}
				if _, err := s.GetActivation(ctx(t), n.Activation.ID); !errors.Is(err, errs.ErrNotFound) {
					t.Errorf("activation %d of the failed batch: err = %v, want not found", i, err)
				}
				for _, b := range n.Branches {
					if _, err := s.GetBranch(ctx(t), b.ActivationID, b.ID); !errors.Is(err, errs.ErrNotFound) {
						t.Errorf("branch %s of activation %d of the failed batch: err = %v, want not found", b.ID, i, err)
					}
				}
			}
			sameJSON(t, "the existing activation", getActivation(t, s, existing.Activation.ID), &existing.Activation)
			sameJSON(t, "the existing branch", getBranch(t, s, existing.Activation.ID, "root"), &existing.Branches[0])
			if _, err := s.GetBranch(ctx(t), existing.Activation.ID, "other"); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("the duplicate's branch was written under the existing activation: err = %v", err)
			}
		})
	}
}
