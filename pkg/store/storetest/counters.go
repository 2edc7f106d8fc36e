package storetest

import (
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/run"
)

var counterTests = []test{
	{"Hit/Windows", testHit},
	{"Concurrency/HitAdmitsExactlyLimit", testHitConcurrent},
}

// testHit: a counter admits Limit hits per window and refuses the rest without counting them; a window
// past its expiry (by the caller's clock) starts from zero; a zero expiry never ends; keys are independent.
func testHit(t *testing.T, s Store) {
	hit := func(key string, limit int, expires time.Time, now time.Time) bool {
		t.Helper()
		ok, err := s.Hit(ctx(t), run.Counter{Key: key, Limit: limit, ExpiresAt: expires, Now: now})
		must(t, err)
		return ok
	}
	for _, tc := range []struct {
		name string
		key  string
		lim  int
		exp  int // seconds after t0; -1: never
		now  int
		want bool
	}{
		{"forever 1", "site|auto/trigger|", 2, -1, 0, true},
		{"forever 2", "site|auto/trigger|", 2, -1, 1, true},
		{"forever full", "site|auto/trigger|", 2, -1, 2, false},
		{"forever still full much later", "site|auto/trigger|", 2, -1, 1_000_000, false},
		{"other key", "site|auto/trigger|x", 2, -1, 2, true},
		{"window 1", "w", 1, 60, 0, true},
		{"window full", "w", 1, 60, 30, false},
		{"window full at its last instant", "w", 1, 60, 59, false},
		{"window over: next one", "w", 1, 120, 60, true},
		{"next one full", "w", 1, 120, 61, false},
		{"limit zero", "z", 0, 60, 0, false},
		{"limit zero refusal did not count", "z", 1, 60, 0, true},
		{"separators in keys", "a|b#c%23", 1, -1, 0, true},
		{"separators in keys full", "a|b#c%23", 1, -1, 0, false},
		{"similar key unaffected", "a|b#c#", 1, -1, 0, true},
	} {
		var exp time.Time
		if tc.exp >= 0 {
			exp = at(tc.exp)
		}
		if got := hit(tc.key, tc.lim, exp, at(tc.now)); got != tc.want {
			t.Errorf("%s: Hit = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// testHitConcurrent: eight simultaneous hits on a limit of three: exactly three pass.
func testHitConcurrent(t *testing.T, s Store) {
	allowed := make([]bool, workers)
	errList := parallel(func(i int) error {
		var err error
		allowed[i], err = s.Hit(ctx(t), run.Counter{Key: "race", Limit: 3, ExpiresAt: at(60), Now: at(1)})
		return err
	})
	n := 0
	for i, err := range errList {
		must(t, err)
		if allowed[i] {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d of %d concurrent hits passed a limit of 3", n, workers)
	}
}
