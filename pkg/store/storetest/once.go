package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

var onceTests = []test{
	{"CreateActivationsOnce/Idempotent", testOnce},
	{"CreateActivationsOnce/ConflictRecordsNothing", testOnceConflict},
	{"Concurrency/OnceDuplicatesStartOnce", testOnceConcurrent},
}

const scopeA = siteA + "/" + appA + "/form_submitted"

// newOnce is the idempotency record engine.Report makes for news, created at `at`, valid for an hour.
func newOnce(scope, key string, at time.Time, news ...run.NewActivation) run.Once {
	o := run.Once{Scope: scope, Key: key, CreatedDate: at, ExpiresAt: at.Add(time.Hour), ActivationIDs: []string{}}
	for _, n := range news {
		o.ActivationIDs = append(o.ActivationIDs, n.Activation.ID)
	}
	return o
}

func once(t *testing.T, s Store, o run.Once, news ...run.NewActivation) ([]string, bool) {
	t.Helper()
	ids, fresh, err := s.CreateActivationsOnce(ctx(t), o, news)
	if err != nil {
		t.Fatalf("CreateActivationsOnce(%s): %v", o.Key, err)
	}
	return ids, fresh
}

func exists(t *testing.T, s Store, n run.NewActivation) bool {
	t.Helper()
	_, err := s.GetActivation(ctx(t), n.Activation.ID)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// testOnce: the first call with a key creates its activations; a repeat while the key lives returns the
// first call's ids and writes nothing; keys are per scope; an expired key (by the caller's clock) is
// taken afresh.
func testOnce(t *testing.T, s Store) {
	type call struct {
		name      string
		scope     string
		key       string
		at        time.Time
		news      []run.NewActivation
		wantFresh bool
		wantIDsOf string // the call whose activations the ids must be
	}
	many := make([]run.NewActivation, 40)
	for i := range many {
		many[i] = newRun("r1", "r2", "r3")
	}
	calls := []call{
		{"first", scopeA, "k", at(0), []run.NewActivation{newRun("root"), newRun("a", "b")}, true, "first"},
		{"repeat", scopeA, "k", at(60), []run.NewActivation{newRun("root")}, false, "first"},
		{"repeat just before expiry", scopeA, "k", at(3599), []run.NewActivation{newRun("root")}, false, "first"},
		{"other key", scopeA, "k2", at(60), []run.NewActivation{newRun("root")}, true, "other key"},
		{"other scope", siteB + "/" + appA + "/form_submitted", "k", at(60), []run.NewActivation{newRun("root")}, true, "other scope"},
		{"expired", scopeA, "k", at(3600), []run.NewActivation{newRun("root")}, true, "expired"},
		{"repeat of the renewed key", scopeA, "k", at(3601), []run.NewActivation{newRun("root")}, false, "expired"},
		{"no automation matched", scopeA, "none", at(0), nil, true, "no automation matched"},
		{"repeat of no automation", scopeA, "none", at(1), []run.NewActivation{newRun("root")}, false, "no automation matched"},
		{"key with separators", scopeA, "a/b#c%23", at(0), []run.NewActivation{newRun("root")}, true, "key with separators"},
		{"many activations", scopeA, "many", at(0), many, true, "many activations"},
		{"repeat of many", scopeA, "many", at(1), []run.NewActivation{newRun("root")}, false, "many activations"},
	}
	idsOf := map[string][]string{}
	for _, c := range calls {
		o := newOnce(c.scope, c.key, c.at, c.news...)
		if c.wantFresh {
			idsOf[c.name] = o.ActivationIDs
		}
		ids, fresh := once(t, s, o, c.news...)
		if fresh != c.wantFresh {
			t.Errorf("%s: fresh = %v, want %v", c.name, fresh, c.wantFresh)
		}
		if want := idsOf[c.wantIDsOf]; !slices.Equal(ids, want) {
			t.Errorf("%s: ids = %v, want %v", c.name, ids, want)
		}
		for _, n := range c.news {
			if got := exists(t, s, n); got != c.wantFresh {
				t.Errorf("%s: activation %s exists = %v, want %v", c.name, n.Activation.ID, got, c.wantFresh)
			}
			if c.wantFresh {
				for _, b := range n.Branches {
					sameJSON(t, c.name+": branch", getBranch(t, s, b.ActivationID, b.ID), &b)
				}
			}
		}
	}
}

// testOnceConflict: when the activations cannot be created, the key is not recorded either, so a retry
// of the event with fresh activations goes through.
func testOnceConflict(t *testing.T, s Store) {
	existing := newRun("root")
	create(t, s, existing)
	many := make([]run.NewActivation, 0, 41)
	for range 40 {
		many = append(many, newRun("r1", "r2"))
	}
	for _, tc := range []struct {
		name string
		news []run.NewActivation
	}{
		{"small", []run.NewActivation{newRun("root"), dupOf(existing)}},
		{"large", append(many, dupOf(existing))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.CreateActivationsOnce(ctx(t), newOnce(scopeA, tc.name, at(0), tc.news...), tc.news)
			wantErr(t, "CreateActivationsOnce with a taken activation id", err, errs.ErrConflict)
			for _, n := range tc.news[:len(tc.news)-1] {
				if exists(t, s, n) {
					t.Errorf("activation %s of the failed call exists", n.Activation.ID)
				}
			}
			retry := newRun("root")
			ids, fresh := once(t, s, newOnce(scopeA, tc.name, at(1), retry), retry)
			if !fresh || !slices.Equal(ids, []string{retry.Activation.ID}) || !exists(t, s, retry) {
				t.Errorf("retry after the failed call: ids %v, fresh %v; want the retry's own, fresh", ids, fresh)
			}
		})
	}
}

// testOnceConcurrent: eight duplicates of one event at once start exactly one set of activations, and
// every caller gets that set's ids.
func testOnceConcurrent(t *testing.T, s Store) {
	news := make([][]run.NewActivation, workers)
	for i := range news {
		news[i] = []run.NewActivation{newRun("root"), newRun("a", "b")}
	}
	ids := make([][]string, workers)
	fresh := make([]bool, workers)
	errList := parallel(func(i int) error {
		var err error
		ids[i], fresh[i], err = s.CreateActivationsOnce(ctx(t), newOnce(scopeA, "race", at(0), news[i]...), news[i])
		return err
	})
	winner := -1
	for i, err := range errList {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
		if fresh[i] {
			if winner >= 0 {
				t.Errorf("callers %d and %d both created activations", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no caller created activations")
	}
	want := newOnce(scopeA, "race", at(0), news[winner]...).ActivationIDs
	for i := range workers {
		if !slices.Equal(ids[i], want) {
			t.Errorf("caller %d got ids %v, want the winner's %v", i, ids[i], want)
		}
		for _, n := range news[i] {
			if got := exists(t, s, n); got != (i == winner) {
				t.Errorf("caller %d's activation exists = %v", i, got)
			}
		}
	}
}
