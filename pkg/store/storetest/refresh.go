package storetest

import (
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/run"
)

// refreshTests cover what refresh-payload needs from a store: an activation's warnings, and cancelling
// one activation by id.
var refreshTests = []test{
	{"CommitStep/Warnings", testCommitWarnings},
	{"CancelActivations/ByActivation", testCancelByActivation},
}

// testCommitWarnings: warnings of successive commits accumulate on the activation in order, at most
// run.MaxWarnings of them, and survive the activation ending; a commit without warnings keeps them.
func testCommitWarnings(t *testing.T, s Store) {
	n := newRun("b1")
	create(t, s, n)
	id := n.Activation.ID
	warn := func(i int) run.Warning {
		return run.Warning{WarningDate: at(i), ErrorDescription: fmt.Sprintf("refresh %d failed", i), ErrorCode: "HTTP_503",
			Reason: run.WarningRefreshPayloadFailed}
	}
	br := getBranch(t, s, id, "b1")
	var want []run.Warning
	commit := func(ws []run.Warning, state run.BranchState) {
		t.Helper()
		next := *br
		next.Version, next.State = br.Version+1, state
		_, err := s.CommitStep(ctx(t), run.StepCommit{ActivationID: id, Branch: next, Warnings: ws, Now: at(len(want))})
		must(t, err)
		br = &next
	}
	commit([]run.Warning{warn(1)}, run.BranchWaiting)
	want = append(want, warn(1))
	sameJSON(t, "after one", getActivation(t, s, id).Warnings, want)

	commit(nil, run.BranchWaiting)
	sameJSON(t, "a commit without warnings keeps them", getActivation(t, s, id).Warnings, want)

	var many []run.Warning
	for i := 2; i <= 20; i++ {
		many = append(many, warn(i))
	}
	commit(many, run.BranchDone)
	want = append(want, many[:run.MaxWarnings-1]...)
	a := getActivation(t, s, id)
	if a.Status != run.StatusEnded {
		t.Errorf("status %s, want ENDED", a.Status)
	}
	sameJSON(t, "capped at MaxWarnings, first kept", a.Warnings, want)

	other := newRun("b1")
	create(t, s, other)
	if ws := getActivation(t, s, other.Activation.ID).Warnings; len(ws) != 0 {
		t.Errorf("another activation has warnings %v", ws)
	}
}

// testCancelByActivation: cancelling one activation by id (refresh-payload's cancelActivation) cancels
// it — CANCELLED_BY_REFRESH_PAYLOAD, its unfinished branches DONE and returned — and nothing else; not on
// another site, and not once it is terminal.
func testCancelByActivation(t *testing.T, s Store) {
	target, sibling, ended := newRun("b1", "b2"), newRun("b1"), newRun("b1")
	create(t, s, target, sibling, ended)
	_, err := s.CommitStep(ctx(t), step(ended.Branches[0], run.BranchDone, at(1)))
	must(t, err)
	tid := target.Activation.ID
	by := func(site, id string) run.Cancellation {
		return run.Cancellation{SiteID: site, ActivationID: id, Reason: run.CancelByRefreshPayload, Now: at(5)}
	}

	refs, err := s.CancelActivations(ctx(t), by(siteB, tid))
	must(t, err)
	if len(refs) != 0 || getActivation(t, s, tid).Status.Terminal() {
		t.Fatalf("another site's cancel touched it: refs %v", refs)
	}
	refs, err = s.CancelActivations(ctx(t), by(siteA, ended.Activation.ID))
	must(t, err)
	if len(refs) != 0 || getActivation(t, s, ended.Activation.ID).Status != run.StatusEnded {
		t.Fatalf("an ended activation was cancelled: refs %v", refs)
	}

	refs, err = s.CancelActivations(ctx(t), by(siteA, tid))
	must(t, err)
	if got := refNames(refs, map[string]string{tid: "target"}); fmt.Sprint(got) != "[target/b1 target/b2]" {
		t.Errorf("returned branches %v", got)
	}
	a := getActivation(t, s, tid)
	if a.Status != run.StatusCancelled || a.Infos.Cancelled == nil || a.Infos.Cancelled.Reason != run.CancelByRefreshPayload {
		t.Errorf("target: status %s, cancelledInfo %+v", a.Status, a.Infos.Cancelled)
	}
	for _, b := range []string{"b1", "b2"} {
		if br := getBranch(t, s, tid, b); br.State != run.BranchDone || br.Version != 2 {
			t.Errorf("branch %s: %s v%d, want DONE v2", b, br.State, br.Version)
		}
	}
	if st := getActivation(t, s, sibling.Activation.ID).Status; st.Terminal() {
		t.Errorf("sibling activation is %s", st)
	}
	refs, err = s.CancelActivations(ctx(t), by(siteA, tid))
	must(t, err)
	if len(refs) != 0 {
		t.Errorf("cancelling again returned %v", refs)
	}
}
