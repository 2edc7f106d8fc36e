package awsrt

import (
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/engine"
)

func TestStepOutput(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	rt := &Runtime{now: func() time.Time { return now }}
	tests := []struct {
		name string
		in   engine.Instruction
		want StepOutput
	}{
		{"continue", engine.Instruction{Kind: engine.Continue}, StepOutput{Instruction: engine.Continue}},
		{"done", engine.Instruction{Kind: engine.Done}, StepOutput{Instruction: engine.Done}},
		{"wait rounds up to the second", engine.Instruction{Kind: engine.Wait, Until: now.Add(1500 * time.Millisecond)},
			StepOutput{Instruction: engine.Wait, Until: "2026-11-23T12:00:02Z"}},
		{"wait on a whole second stays", engine.Instruction{Kind: engine.Wait, Until: now.Add(2 * time.Second)},
			StepOutput{Instruction: engine.Wait, Until: "2026-11-23T12:00:02Z"}},
		{"wait in another zone is written in UTC", engine.Instruction{Kind: engine.Wait, Until: now.Add(time.Hour).In(time.FixedZone("X", 3600))},
			StepOutput{Instruction: engine.Wait, Until: "2026-11-23T13:00:00Z"}},
		{"await", engine.Instruction{Kind: engine.Await, Until: now.Add(5*time.Minute + 100*time.Millisecond)},
			StepOutput{Instruction: engine.Await, Until: "2026-11-23T12:05:01Z", TimeoutSeconds: 301}},
		{"await past its deadline still waits 1 s (0 is refused by Step Functions)", engine.Instruction{Kind: engine.Await, Until: now.Add(-time.Minute)},
			StepOutput{Instruction: engine.Await, Until: "2026-11-23T11:59:00Z", TimeoutSeconds: 1}},
		{"await beyond the Task timeout limit is capped", engine.Instruction{Kind: engine.Await, Until: now.AddDate(5, 0, 0)},
			StepOutput{Instruction: engine.Await, Until: "2031-11-23T12:00:00Z", TimeoutSeconds: maxTaskTimeout}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rt.stepOutput(tc.in); got != tc.want {
				t.Fatalf("stepOutput = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{{"abc", 5, "abc"}, {"abcdef", 3, "abc"}, {"aé", 2, "a"}, {"éé", 3, "é"}} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
