package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

var cancelTests = []test{
	{"CancelActivations/ByEntityAndAutomation", testCancel},
	{"Concurrency/CancelRacesCommits", testCancelRacesCommits},
}

func refNames(refs []run.BranchRef, name map[string]string) []string {
	var out []string
	for _, r := range refs {
		out = append(out, name[r.ActivationID]+"/"+r.BranchID)
	}
	slices.Sort(out)
	return out
}

// testCancel: CancelEvent cancels the site's pending activations of (trigger, entity) — of any automation —
// and a deactivated automation's cancellation its pending ones: CANCELLED with cancelledInfo, openBranches
// 0, unfinished branches DONE at a new version (so an in-flight step cannot commit), the running branches
// returned. Ended activations, other entities, triggers and sites, and activations without an entity
// (for an entity cancel) are untouched; cancelling again finds nothing.
func testCancel(t *testing.T, s Store) {
	const autoX, autoY = "c0c0c0c0-0000-4000-8000-00000000000a", "c0c0c0c0-0000-4000-8000-00000000000b"
	mk := func(site, auto, trigger, entity string, branches ...string) run.NewActivation {
		n := newRun(branches...)
		a := &n.Activation
		a.SiteID, a.AutomationID, a.TriggerKey, a.ExternalEntityID = site, auto, trigger, entity
		return n
	}
	acts := map[string]run.NewActivation{
		"p1":       mk(siteA, autoX, "form_submitted", "e1", "b1", "b2"),
		"p2":       mk(siteA, autoY, "form_submitted", "e1", "b1", "b2"),
		"e2":       mk(siteA, autoX, "form_submitted", "e2", "b1"),
		"ended":    mk(siteA, autoX, "form_submitted", "e1", "b1"),
		"siteB":    mk(siteB, autoX, "form_submitted", "e1", "b1"),
		"noEntity": mk(siteA, autoX, "form_submitted", "", "b1"),
		"trigger":  mk(siteA, autoX, "other_event", "e1", "b1"),
		"app":      mk(siteA, autoX, "form_submitted", "e1", "b1"),
	}
	app := acts["app"]
	app.Activation.TriggerAppID = appB
	acts["app"] = app
	p1 := acts["p1"]
	p1.Branches[1].State, p1.Branches[1].DueAt = run.BranchWaiting, at(3600)
	name := map[string]string{}
	for k, n := range acts {
		create(t, s, n)
		name[n.Activation.ID] = k
	}
	id := func(k string) string { return acts[k].Activation.ID }
	// p2 has started and one of its branches ended; "ended" has ended.
	c := step(acts["p2"].Branches[0], run.BranchDone, at(1))
	c.Started = &run.StartedInfo{Payload: map[string]any{}, StatusChangedDate: at(1)}
	commit(t, s, c)
	if res := commit(t, s, step(acts["ended"].Branches[0], run.BranchDone, at(1))); !res.Ended {
		t.Fatalf("setup: activation did not end")
	}
	snap := func(k string) string {
		return snapshot(t, s, id(k), []string{"b1", "b2"}, nil)
	}
	untouched := map[string]string{}
	for k := range acts {
		untouched[k] = snap(k)
	}

	byEntity := run.Cancellation{SiteID: siteA, TriggerAppID: appA, TriggerKey: "form_submitted", ExternalEntityID: "e1",
		Reason: run.CancelEventCancelled, Initiator: &run.Initiator{AppID: appA}, Now: at(100)}
	steps := []struct {
		name      string
		c         run.Cancellation
		wantRefs  []string
		cancelled []string
	}{
		{"no entity matches nothing", run.Cancellation{SiteID: siteA, TriggerAppID: appA, TriggerKey: "form_submitted",
			Reason: run.CancelEventCancelled, Now: at(90)}, nil, nil},
		{"by entity", byEntity, []string{"p1/b1", "p1/b2", "p2/b2"}, []string{"p1", "p2"}},
		{"by entity again", byEntity, nil, nil},
		{"by automation", run.Cancellation{SiteID: siteA, AutomationID: autoX, Reason: run.CancelAutomationDeactivated,
			Initiator: &run.Initiator{UserID: "u1"}, Now: at(200)}, []string{"app/b1", "e2/b1", "noEntity/b1", "trigger/b1"},
			[]string{"e2", "noEntity", "trigger", "app"}},
	}
	for _, st := range steps {
		refs, err := s.CancelActivations(ctx(t), st.c)
		must(t, err)
		if got := refNames(refs, name); fmt.Sprint(got) != fmt.Sprint(st.wantRefs) {
			t.Errorf("%s: running branches = %v, want %v", st.name, got, st.wantRefs)
		}
		for _, k := range st.cancelled {
			before := acts[k]
			a := getActivation(t, s, id(k))
			want := before.Activation
			if k == "p2" {
				want.Status, want.Infos.Started = run.StatusStarted, c.Started
			}
			want.Status, want.OpenBranches, want.UpdatedDate = run.StatusCancelled, 0, st.c.Now
			want.Infos.Cancelled = &run.CancelledInfo{Reason: st.c.Reason, Initiator: st.c.Initiator, StatusChangedDate: st.c.Now}
			sameJSON(t, st.name+": cancelled activation "+k, a, &want)
			for _, b := range before.Branches {
				got := getBranch(t, s, id(k), b.ID)
				if k == "p2" && b.ID == "b1" {
					sameJSON(t, "a branch that had ended before the cancellation", got, &c.Branch)
					continue
				}
				wantB := b
				wantB.State, wantB.DueAt, wantB.Version = run.BranchDone, st.c.Now, 2
				sameJSON(t, st.name+": branch "+k+"/"+b.ID, got, &wantB)
			}
			untouched[k] = snap(k)
		}
		for k, before := range untouched {
			if after := snap(k); after != before {
				t.Errorf("%s changed %s:\nbefore %s\nafter  %s", st.name, k, before, after)
			}
		}
	}

	// A step that read p1/b1 before the cancellation can no longer commit.
	_, err := s.CommitStep(ctx(t), step(acts["p1"].Branches[0], run.BranchReady, at(101)))
	wantErr(t, "CommitStep of a branch read before the cancellation", err, errs.ErrConflict)
}

// testCancelRacesCommits: a cancellation while every branch of the activation commits a step: each
// commit lands or is refused with errs.ErrConflict, and afterwards the activation is CANCELLED with every
// branch DONE, each running branch returned once.
func testCancelRacesCommits(t *testing.T, s Store) {
	var ids []string
	for i := range workers - 1 {
		ids = append(ids, fmt.Sprintf("b%d", i))
	}
	n := newRun(ids...)
	n.Activation.ExternalEntityID = "entity-race"
	create(t, s, n)
	act := n.Activation.ID
	var refs []run.BranchRef
	errList := parallel(func(i int) error {
		if i == workers-1 {
			var err error
			refs, err = s.CancelActivations(ctx(t), run.Cancellation{SiteID: siteA, TriggerAppID: appA,
				TriggerKey: "form_submitted", ExternalEntityID: "entity-race", Reason: run.CancelEventCancelled, Now: at(50)})
			return err
		}
		c := step(n.Branches[i], run.BranchReady, at(10))
		c.ActionLogs = []run.ActionLog{actionLog(act, ids[i], run.ActionEnded, at(10))}
		c.NewBranches = []run.Branch{newBranch(act, "fork-"+ids[i])}
		_, err := s.CommitStep(ctx(t), c)
		if errors.Is(err, errs.ErrConflict) {
			return nil
		}
		return err
	})
	for i, err := range errList {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	a := getActivation(t, s, act)
	if a.Status != run.StatusCancelled || a.OpenBranches != 0 {
		t.Errorf("activation: status %s, open %d; want CANCELLED, 0", a.Status, a.OpenBranches)
	}
	seen := map[string]int{}
	for _, r := range refs {
		seen[r.BranchID]++
	}
	for _, id := range ids {
		if b := getBranch(t, s, act, id); b.State != run.BranchDone {
			t.Errorf("branch %s is %s after the cancellation", id, b.State)
		}
		if seen[id] != 1 {
			t.Errorf("branch %s returned %d times, want once", id, seen[id])
		}
		if fb, err := s.GetBranch(ctx(t), act, "fork-"+id); err == nil {
			// The commit landed before the cancellation: its fork was running too.
			if fb.State != run.BranchDone || seen["fork-"+id] != 1 {
				t.Errorf("fork of %s: state %s, returned %d times; want DONE, once", id, fb.State, seen["fork-"+id])
			}
		}
	}
}
