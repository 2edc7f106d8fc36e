package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

var listTests = []test{
	{"ListActivations/Paging", testListActivations},
	{"UpdateBranch/VersionGuard", testUpdateBranch},
}

// testListActivations: a site's activations (of one automation) created in [From, To), newest first and
// by descending id within one instant, in pages of Limit with a cursor while more remain; a listed
// activation is what GetActivation returns (its current status, not the one it was created with).
func testListActivations(t *testing.T, s Store) {
	const autoX, autoY = "c0c0c0c0-0000-4000-8000-00000000000a", "c0c0c0c0-0000-4000-8000-00000000000b"
	mk := func(n int, site, auto string, sec int) run.NewActivation {
		r := newRun("root")
		id := fmt.Sprintf("a0a0a0a0-0000-4000-8000-%012d", n)
		r.Activation.ID, r.Activation.SiteID, r.Activation.AutomationID = id, site, auto
		r.Activation.CreatedDate, r.Activation.UpdatedDate = at(sec), at(sec)
		r.Branches[0].ActivationID = id
		return r
	}
	acts := map[string]run.NewActivation{
		"A1": mk(1, siteA, autoX, 10), "A2": mk(2, siteA, autoX, 20), "A3": mk(3, siteA, autoY, 20),
		"A4": mk(4, siteA, autoX, 30), "A5": mk(5, siteA, autoY, 40),
		"B6": mk(6, siteB, autoX, 30), // another site
		"A7": mk(7, siteA, autoX, 9),  // before From
		"A8": mk(8, siteA, autoX, 60), // at To: excluded
	}
	for _, n := range acts {
		create(t, s, n)
	}
	// A4 moves on after creation: the list must show its current state.
	c := step(acts["A4"].Branches[0], run.BranchReady, at(45))
	c.Started = &run.StartedInfo{Payload: map[string]any{"email": "a@example.com"}, StatusChangedDate: at(45)}
	commit(t, s, c)

	name := map[string]string{}
	for k, n := range acts {
		name[n.Activation.ID] = k
	}
	for _, tc := range []struct {
		name  string
		auto  string
		limit int
		want  [][]string // pages
	}{
		{"site, pages of 2", "", 2, [][]string{{"A5", "A4"}, {"A3", "A2"}, {"A1"}}},
		{"site, one exact page", "", 5, [][]string{{"A5", "A4", "A3", "A2", "A1"}}},
		{"site, one large page", "", 50, [][]string{{"A5", "A4", "A3", "A2", "A1"}}},
		{"automation, pages of 2", autoX, 2, [][]string{{"A4", "A2"}, {"A1"}}},
		{"automation, pages of 1", autoY, 1, [][]string{{"A5"}, {"A3"}}},
		{"automation of another site", "c0c0c0c0-0000-4000-8000-00000000000c", 10, [][]string{{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := run.ActivationQuery{SiteID: siteA, AutomationID: tc.auto, From: at(10), To: at(60), Limit: tc.limit}
			for i, want := range tc.want {
				list, next, err := s.ListActivations(ctx(t), q)
				must(t, err)
				var got []string
				for _, a := range list {
					got = append(got, name[a.ID])
					sameJSON(t, "listed "+name[a.ID], &a, getActivation(t, s, a.ID))
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("page %d = %v, want %v", i, got, want)
				}
				if last := i == len(tc.want)-1; (next == "") != last {
					t.Fatalf("page %d: cursor %q, want one only before the last page", i, next)
				}
				q.Cursor = next
			}
		})
	}

	t.Run("window", func(t *testing.T) {
		for _, tc := range []struct {
			from, to int
			want     []string
		}{
			{20, 21, []string{"A3", "A2"}},
			{21, 30, nil},
			{30, 30, nil},
			{0, 100, []string{"A8", "A5", "A4", "A3", "A2", "A1", "A7"}},
		} {
			list, next, err := s.ListActivations(ctx(t), run.ActivationQuery{SiteID: siteA, From: at(tc.from), To: at(tc.to), Limit: 10})
			must(t, err)
			var got []string
			for _, a := range list {
				got = append(got, name[a.ID])
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || next != "" {
				t.Errorf("[%d, %d): %v, cursor %q; want %v and none", tc.from, tc.to, got, next, tc.want)
			}
		}
	})

	t.Run("bad cursor", func(t *testing.T) {
		for _, cur := range []string{"not base64!", "bm8tYmFy", "eHx5"} { // garbage, "no-bar", "x|y"
			_, _, err := s.ListActivations(ctx(t), run.ActivationQuery{SiteID: siteA, From: at(0), To: at(100), Limit: 10, Cursor: cur})
			if errs.KindOf(err) != errs.Invalid {
				t.Errorf("cursor %q: err = %v, want a validation error (400)", cur, err)
			}
		}
	})
}

// testUpdateBranch: UpdateBranch writes a branch only over version-1; otherwise (stale, ahead, no such
// branch) it is errs.ErrConflict and the stored branch is unchanged.
func testUpdateBranch(t *testing.T, s Store) {
	n := newRun("b1")
	n.Branches[0].State = run.BranchAwaiting
	create(t, s, n)
	act := n.Activation.ID

	next := n.Branches[0]
	next.Version = 2
	next.Await = &run.Await{ActionID: "b1", TokenHash: "h", Deadline: at(600),
		Completion: &run.Completion{Success: true, Result: map[string]any{"ok": true}, ReceivedDate: at(5)}}
	next.CompletedTokens = []string{"h"}
	next.DueAt = at(5)
	must(t, s.UpdateBranch(ctx(t), next))
	sameJSON(t, "updated branch", getBranch(t, s, act, "b1"), &next)

	for _, tc := range []struct {
		name string
		b    run.Branch
	}{
		{"stale", next},
		{"ahead", func() run.Branch { b := next; b.Version = 4; return b }()},
		{"no such branch", func() run.Branch { b := next; b.ID = "ghost"; b.Version = 2; return b }()},
		{"no such activation", func() run.Branch { b := next; b.ActivationID = "nope"; return b }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.b
			b.Payload = map[string]any{"changed": true}
			wantErr(t, "UpdateBranch", s.UpdateBranch(ctx(t), b), errs.ErrConflict)
			sameJSON(t, "branch after a refused update", getBranch(t, s, act, "b1"), &next)
			if _, err := s.GetBranch(ctx(t), act, "ghost"); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("a refused update created a branch: %v", err)
			}
		})
	}
}
