package awsrt_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/awsrt"
)

// The sweep's settings: defaults, overrides and refusals. (The sweep itself runs end to end, with the
// real sfn runner and DynamoDB Local, in internal/awse2e.)
func TestSweepConfig(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantGrace time.Duration
		wantLimit int
		wantErr   string
	}{
		{"defaults", map[string]string{}, 2 * time.Minute, 200, ""},
		{"overrides", map[string]string{"SWEEP_GRACE": "90s", "SWEEP_LIMIT": "1000"}, 90 * time.Second, 1000, ""},
		{"zero grace", map[string]string{"SWEEP_GRACE": "0s"}, 0, 200, ""},
		{"negative grace", map[string]string{"SWEEP_GRACE": "-1m"}, 0, 0, "SWEEP_GRACE"},
		{"grace without unit", map[string]string{"SWEEP_GRACE": "120"}, 0, 0, "SWEEP_GRACE"},
		{"limit zero", map[string]string{"SWEEP_LIMIT": "0"}, 0, 0, "SWEEP_LIMIT"},
		{"limit too large", map[string]string{"SWEEP_LIMIT": "1001"}, 0, 0, "SWEEP_LIMIT"},
		{"limit not a number", map[string]string{"SWEEP_LIMIT": "many"}, 0, 0, "SWEEP_LIMIT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"TABLE_NAME": "t"}
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := awsrt.ConfigFromEnv(func(k string) string { return env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || c.SweepGrace != tc.wantGrace || c.SweepLimit != tc.wantLimit {
				t.Fatalf("ConfigFromEnv = grace %v, limit %d, %v; want %v, %d", c.SweepGrace, c.SweepLimit, err, tc.wantGrace, tc.wantLimit)
			}
		})
	}
}
