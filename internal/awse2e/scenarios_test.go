package awse2e_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/internal/scenarios"
)

// awsDriver runs internal/scenarios on the AWS path: a world per scenario (DynamoDB Local store, the
// real handlers behind the local Lambda server), one aws-local-stepfunctions execution per started
// branch, SendTaskSuccess for async completions, StopExecution for cancellations.
type awsDriver struct {
	mu     sync.Mutex
	worlds map[*testing.T]*world
}

func (d *awsDriver) Setup(t *testing.T, providerURL string) http.Handler {
	t.Helper()
	w := newWorld(t, worldOptions{external: providerURL})
	d.mu.Lock()
	d.worlds[t] = w
	d.mu.Unlock()
	t.Cleanup(func() {
		d.mu.Lock()
		delete(d.worlds, t)
		d.mu.Unlock()
	})
	return w.rt.HTTPHandler()
}

// Settle runs the executions the reports started (and the forks they start) to their end.
func (d *awsDriver) Settle(t *testing.T, owner awse2e.Client, ids []string) {
	t.Helper()
	d.mu.Lock()
	w := d.worlds[t]
	d.mu.Unlock()
	for _, e := range w.runAll(runOptions{}) {
		if e.res.Status != "SUCCEEDED" && e.res.Status != "ABORTED" {
			t.Errorf("execution %s: %s %s %s; states %v", e.name, e.res.Status, e.res.Error, e.res.Cause, e.States())
		}
	}
	scenarios.WaitTerminal(t, owner, ids, 10*time.Second)
}

// TestScenariosAWS runs the shared scenario suite on the AWS path; its golden files are the local
// runtime's (internal/scenarios.TestScenariosLocal).
func TestScenariosAWS(t *testing.T) {
	t.Parallel()
	scenarios.RunAll(t, &awsDriver{worlds: map[*testing.T]*world{}})
}
