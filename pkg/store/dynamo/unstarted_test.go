package dynamo

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/run"
)

// unstartedFixture is a store on DynamoDB Local whose wall clock the test moves.
type unstartedFixture struct {
	t    *testing.T
	s    *Store
	wall time.Time
}

func newUnstartedFixture(t *testing.T) *unstartedFixture {
	f := &unstartedFixture{t: t, s: newLocalStore(t), wall: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.s.now = func() time.Time { return f.wall }
	return f
}

// at moves the store's wall clock to base+d.
func (f *unstartedFixture) at(d time.Duration) {
	f.wall = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(d)
}

// activation creates an INITIATED activation with READY root branches named in branches.
func (f *unstartedFixture) activation(id string, status run.Status, branches ...string) run.NewActivation {
	f.t.Helper()
	now := f.wall
	n := run.NewActivation{Activation: run.Activation{ID: id, SiteID: "site", AutomationID: "auto", Status: status,
		OpenBranches: len(branches), CreatedDate: now, UpdatedDate: now}}
	for _, b := range branches {
		n.Branches = append(n.Branches, run.Branch{ActivationID: id, ID: b, Version: 1, State: run.BranchReady, ActionID: b, DueAt: now})
	}
	must(f.t, f.s.CreateActivations(f.t.Context(), []run.NewActivation{n}))
	return n
}

// listed is what ListUnstartedBranches returns, as "activation/branch".
func (f *unstartedFixture) listed(olderThan time.Duration, limit int) []string {
	f.t.Helper()
	refs, err := f.s.ListUnstartedBranches(f.t.Context(), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(olderThan), limit)
	must(f.t, err)
	out := []string{}
	for _, r := range refs {
		out = append(out, r.ActivationID+"/"+r.BranchID)
	}
	return out
}

func (f *unstartedFixture) step(b run.Branch, state run.BranchState, forks ...string) run.Branch {
	f.t.Helper()
	next := b
	next.Version++
	next.State = state
	c := run.StepCommit{ActivationID: b.ActivationID, Branch: next, Now: f.wall}
	if b.Version == 1 {
		c.Started = &run.StartedInfo{StatusChangedDate: f.wall}
	}
	for _, id := range forks {
		c.NewBranches = append(c.NewBranches, run.Branch{ActivationID: b.ActivationID, ID: id, Version: 1,
			State: run.BranchReady, ActionID: id, DueAt: f.wall})
	}
	_, err := f.s.CommitStep(f.t.Context(), c)
	must(f.t, err)
	return next
}

// TestUnstartedMarks: a branch is marked unstarted when it is created (roots, forks, also behind an
// idempotency key) and the mark goes with its first step, its end, a cancellation and ClearUnstarted;
// marks are listed oldest first across shards, only once older than the bound.
func TestUnstartedMarks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(f *unstartedFixture) []string // what is listed at the end (bound: 1 h, limit 100)
		want []string
	}{
		{"roots are marked, in creation order", func(f *unstartedFixture) []string {
			f.at(2 * time.Second)
			f.activation("act-b", run.StatusInitiated, "b1")
			f.at(time.Second)
			f.activation("act-a", run.StatusInitiated, "a1", "a2")
			return f.listed(time.Hour, 100)
		}, []string{"act-a/a1", "act-a/a2", "act-b/b1"}},
		{"nothing inside the grace: only marks strictly older than the bound", func(f *unstartedFixture) []string {
			f.at(10 * time.Second)
			f.activation("act-a", run.StatusInitiated, "a1")
			f.at(20 * time.Second)
			f.activation("act-b", run.StatusInitiated, "b1")
			if got := f.listed(10*time.Second, 100); len(got) != 0 {
				t.Errorf("bound at the first mark's time listed %v, want nothing", got)
			}
			return f.listed(15*time.Second, 100)
		}, []string{"act-a/a1"}},
		{"limit keeps the oldest", func(f *unstartedFixture) []string {
			for i := range 5 {
				f.at(time.Duration(5-i) * time.Second)
				f.activation(fmt.Sprintf("act-%d", i), run.StatusInitiated, "x")
			}
			return f.listed(time.Hour, 2)
		}, []string{"act-4/x", "act-3/x"}},
		{"terminal activations and DONE branches are not marked", func(f *unstartedFixture) []string {
			f.activation("act-skipped", run.StatusSkipped, "s1")
			n := run.NewActivation{Activation: run.Activation{ID: "act-done", SiteID: "site", AutomationID: "auto",
				Status: run.StatusInitiated, CreatedDate: f.wall, UpdatedDate: f.wall},
				Branches: []run.Branch{{ActivationID: "act-done", ID: "d1", Version: 1, State: run.BranchDone, DueAt: f.wall}}}
			must(t, f.s.CreateActivations(t.Context(), []run.NewActivation{n}))
			return f.listed(time.Hour, 100)
		}, []string{}},
		{"CreateActivationsOnce marks its roots", func(f *unstartedFixture) []string {
			n := run.NewActivation{Activation: run.Activation{ID: "act-once", SiteID: "site", AutomationID: "auto",
				Status: run.StatusInitiated, OpenBranches: 1, CreatedDate: f.wall, UpdatedDate: f.wall},
				Branches: []run.Branch{{ActivationID: "act-once", ID: "o1", Version: 1, State: run.BranchReady, ActionID: "o1", DueAt: f.wall}}}
			_, fresh, err := f.s.CreateActivationsOnce(t.Context(), run.Once{Scope: "site/app/t", Key: "k1",
				ActivationIDs: []string{"act-once"}, CreatedDate: f.wall, ExpiresAt: f.wall.Add(time.Hour)}, []run.NewActivation{n})
			must(t, err)
			if !fresh {
				t.Fatal("CreateActivationsOnce: not fresh")
			}
			return f.listed(time.Hour, 100)
		}, []string{"act-once/o1"}},
		{"the first step clears its branch's mark and marks its forks", func(f *unstartedFixture) []string {
			n := f.activation("act-a", run.StatusInitiated, "a1", "a2")
			f.at(time.Second)
			f.step(n.Branches[0], run.BranchReady, "f1", "f2")
			return f.listed(time.Hour, 100)
		}, []string{"act-a/a2", "act-a/f1", "act-a/f2"}},
		{"a branch ending clears its mark", func(f *unstartedFixture) []string {
			n := f.activation("act-a", run.StatusInitiated, "a1", "a2")
			f.step(n.Branches[1], run.BranchDone)
			return f.listed(time.Hour, 100)
		}, []string{"act-a/a1"}},
		{"a cancellation clears the marks of the branches it ends", func(f *unstartedFixture) []string {
			f.activation("act-a", run.StatusInitiated, "a1", "a2")
			f.activation("act-b", run.StatusInitiated, "b1")
			refs, err := f.s.CancelActivations(t.Context(), run.Cancellation{SiteID: "site", ActivationID: "act-a",
				Reason: run.CancelEventCancelled, Now: f.wall})
			must(t, err)
			if len(refs) != 2 {
				t.Errorf("cancelled branches = %v, want 2", refs)
			}
			return f.listed(time.Hour, 100)
		}, []string{"act-b/b1"}},
		{"ClearUnstarted clears one mark, and ignores a missing branch", func(f *unstartedFixture) []string {
			f.activation("act-a", run.StatusInitiated, "a1", "a2")
			must(t, f.s.ClearUnstarted(t.Context(), run.BranchRef{ActivationID: "act-a", BranchID: "a1"}))
			must(t, f.s.ClearUnstarted(t.Context(), run.BranchRef{ActivationID: "act-a", BranchID: "a1"}))
			must(t, f.s.ClearUnstarted(t.Context(), run.BranchRef{ActivationID: "act-a", BranchID: "nope"}))
			pk, sk := branchKey("act-a", "nope")
			out, err := f.s.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(f.s.table), Key: keyAttrs(pk, sk)})
			must(t, err)
			if len(out.Item) != 0 {
				t.Errorf("ClearUnstarted of a missing branch created %v", out.Item)
			}
			if b, err := f.s.GetBranch(t.Context(), "act-a", "a1"); err != nil || b.State != run.BranchReady || b.Version != 1 {
				t.Errorf("branch after ClearUnstarted = %+v, %v; want it unchanged", b, err)
			}
			return f.listed(time.Hour, 100)
		}, []string{"act-a/a2"}},
		{"ids with key separators round-trip", func(f *unstartedFixture) []string {
			f.activation("act#1%2", run.StatusInitiated, "b#%23")
			return f.listed(time.Hour, 100)
		}, []string{"act#1%2/b#%23"}},
		{"many shards merge oldest first", func(f *unstartedFixture) []string {
			var want []string
			for i := range 40 {
				f.at(time.Duration(i) * time.Millisecond)
				id := fmt.Sprintf("act-%02d", i)
				f.activation(id, run.StatusInitiated, "x")
				want = append(want, id+"/x")
			}
			if got := f.listed(time.Hour, 40); !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}
			return f.listed(time.Hour, 3)
		}, []string{"act-00/x", "act-01/x", "act-02/x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newUnstartedFixture(t)
			if got := tc.run(f); !slices.Equal(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
		})
	}
}

// TestUnstartedShardsSpread: the shard hash spreads branches over every shard (a shard nobody lands in
// would be a sign of a broken hash, and a hot one of a skewed one).
func TestUnstartedShardsSpread(t *testing.T) {
	t.Parallel()
	counts := map[string]int{}
	const n = 16_000
	for i := range n {
		counts[unstartedPartition(fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")]++
	}
	if len(counts) != unstartedShards {
		t.Fatalf("branches landed in %d shards, want %d", len(counts), unstartedShards)
	}
	for shard, c := range counts {
		if c < n/unstartedShards/2 || c > n/unstartedShards*2 {
			t.Errorf("shard %s holds %d of %d branches: skewed", shard, c, n)
		}
	}
}

func TestParseUnstarted(t *testing.T) {
	t.Parallel()
	for _, sk := range []string{"", "123", "0000000000001#", "0000000000001#a", "0000000000001#a#b#c", "0000000000001#a#"} {
		if ref, err := parseUnstarted(sk); err == nil {
			t.Errorf("parseUnstarted(%q) = %+v, want an error", sk, ref)
		}
	}
}

// FuzzUnstartedKey: a mark's sort key is parsed back into exactly the ids it was built from, whatever
// they contain, and parsing arbitrary text never panics.
func FuzzUnstartedKey(f *testing.F) {
	f.Add("0b5e7d8c-1f1e-4c55-9d2e-6a1f2b3c4d5e", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", int64(1_767_225_600_000))
	f.Add("a#b", "%23", int64(0))
	f.Add("%", "#", int64(-5))
	f.Fuzz(func(t *testing.T, act, branch string, ms int64) {
		_, _ = parseUnstarted(act + "#" + branch) // arbitrary text: an error, never a panic
		if act == "" || branch == "" {
			return
		}
		s := &Store{now: func() time.Time { return time.UnixMilli(ms) }}
		it := item{}
		s.markUnstarted(it, &run.Branch{ActivationID: act, ID: branch, State: run.BranchReady})
		ref, err := parseUnstarted(getStr(it, AttrGSI5SK))
		if err != nil || ref.ActivationID != act || ref.BranchID != branch {
			t.Fatalf("mark of (%q, %q) parsed as %+v, %v", act, branch, ref, err)
		}
	})
}
