package scenarios

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/provider"
)

var update = flag.Bool("update", false, "rewrite internal/scenarios/testdata/*.golden.json from this run")

// Driver is one runtime under test.
type Driver interface {
	// Setup deploys a fresh runtime whose actions are served by the provider at providerURL and returns
	// its REST API (admin key awse2e.AdminKey). Everything it starts stops when the test ends.
	Setup(t *testing.T, providerURL string) http.Handler
	// Settle drives the runtime until every activation in ids has reached a terminal status.
	Settle(t *testing.T, owner awse2e.Client, ids []string)
}

// Run plays sc on a fresh deployment of d and returns the normalized summary of its run logs.
func Run(t *testing.T, d Driver, sc Scenario) Summary {
	t.Helper()
	p := &behaviours{t: t}
	var opts []testprovider.Option
	if sc.Refresh != nil {
		opts = append(opts, testprovider.On(provider.PathRefreshPayload, awse2e.Trigger, refreshHandler(*sc.Refresh)))
	}
	prov := testprovider.Start(t, p.handlers(sc.Provider), opts...)
	h := d.Setup(t, prov.URL)
	owner, app := awse2e.SetupSite(t, h, prov.URL)
	if sc.Refresh != nil {
		awse2e.DeclareTriggerMethods(t, h, "refreshPayload")
	}
	p.mu.Lock()
	p.app, p.owner = app, owner
	p.mu.Unlock()
	for _, a := range sc.Automations {
		owner.Must("POST", "/v2/automations", a)
	}
	var ids []string
	for _, ev := range sc.Events {
		payload := map[string]any{}
		for k, v := range ev.Payload {
			payload[k] = v
		}
		if ev.DueIn > 0 {
			payload["dueAt"] = strconv.FormatInt(time.Now().Add(ev.DueIn).UnixMilli(), 10)
		}
		ids = append(ids, app.Report(payload, ev.ExternalEntityID)...)
	}
	if sc.Cancel != nil {
		p.background(func() { p.cancelWhenStarted(ids, *sc.Cancel) })
	}
	d.Settle(t, owner, ids)
	p.wg.Wait()
	return summarize(t, owner, ids, sc.Parallel)
}

// RunAll runs every scenario of the suite on d, in parallel, and compares each summary to its golden
// file (rewritten with -update).
func RunAll(t *testing.T, d Driver) {
	for _, sc := range All {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			CheckGolden(t, sc.Name, Run(t, d, sc))
		})
	}
}

// GoldenPath is testdata/<name>.golden.json in this package's directory, wherever the test runs from.
func GoldenPath(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", name+".golden.json")
}

// CheckGolden compares got with the scenario's golden file, or rewrites it under -update.
func CheckGolden(t *testing.T, name string, got Summary) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := GoldenPath(name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != string(b) {
		t.Errorf("run logs differ from %s\n--- got:\n%s\n--- want:\n%s", path, b, want)
	}
}

// WaitTerminal polls the activation logs until every activation in ids is terminal.
func WaitTerminal(t *testing.T, owner awse2e.Client, ids []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, id := range ids {
		for {
			st, _ := owner.ActivationLog(id)["status"].(string)
			if terminal(st) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("activation %s still %s after %s; action logs: %v", id, st, timeout, owner.ActionLogs(id))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func terminal(status string) bool {
	switch status {
	case "ENDED", "CANCELLED", "FAILED", "SKIPPED":
		return true
	}
	return false
}

// refreshHandler answers refresh-payload with the payload it was sent, r.Set's fields replaced, or
// with a cancellation.
func refreshHandler(r Refresh) testprovider.Handler {
	return func(c testprovider.Call) testprovider.Reply {
		if r.Cancel {
			return testprovider.Reply{Status: 200, Body: map[string]any{"cancelActivation": true}}
		}
		payload, _ := c.Request["payload"].(map[string]any)
		out := map[string]any{}
		for k, v := range payload {
			out[k] = v
		}
		for k, v := range r.Set {
			out[k] = v
		}
		return testprovider.Reply{Status: 200, Body: map[string]any{"payload": out}}
	}
}

// behaviours turns Behaviors into test provider handlers; the asynchronous completions and the
// CancelEvent run in goroutines that Run waits for.
type behaviours struct {
	t          *testing.T
	mu         sync.Mutex
	app, owner awse2e.Client
	wg         sync.WaitGroup
}

func (p *behaviours) clients() (app, owner awse2e.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.app, p.owner
}

func (p *behaviours) background(f func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

func (p *behaviours) handlers(bs map[string]Behavior) map[string]testprovider.Handler {
	hs := map[string]testprovider.Handler{}
	for key, b := range bs {
		switch b.Kind {
		case Immediate:
			hs[key] = testprovider.Result(b.Result)
		case HTTPError:
			hs[key] = func(testprovider.Call) testprovider.Reply {
				return testprovider.Reply{Status: b.Status, Body: map[string]any{"message": "provider refused " + key}}
			}
		case AsyncComplete:
			hs[key] = func(c testprovider.Call) testprovider.Reply {
				token, _ := c.ActivationContext["invocationToken"].(string)
				actID, _ := c.ActivationContext["activationId"].(string)
				actionID, _ := c.ActivationContext["actionId"].(string)
				p.background(func() { p.complete(actID, actionID, token, b.Result) })
				return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{},
					"invokeTimeoutType": "TIMEOUT_LENGTH", "timeoutLengthOptions": map[string]any{"timeoutInMinutes": 5}}}
			}
		case AsyncTimeout:
			hs[key] = func(testprovider.Call) testprovider.Reply {
				// The deadline is set when the provider answers: computed earlier, a slow start could put it in the past.
				return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{},
					"invokeTimeoutType":  "TIMEOUT_DATE",
					"timeoutDateOptions": map[string]any{"timeoutDate": time.Now().Add(b.TimeoutAfter).UTC().Format(time.RFC3339Nano)}}}
			}
		default:
			p.t.Fatalf("unknown provider behaviour %q for %s", b.Kind, key)
		}
	}
	return hs
}

// waitAction polls until action actionID of activation id has status want; false on timeout.
func (p *behaviours) waitAction(owner awse2e.Client, id, actionID, want string) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range owner.ActionLogs(id) {
			if l["id"] == actionID && l["activationStatus"] == want {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Errorf("action %s of activation %s never became %s", actionID, id, want)
	return false
}

// complete reports the async action's completion once the runtime recorded it as INVOKED_ASYNC.
func (p *behaviours) complete(id, actionID, token string, result map[string]any) {
	app, owner := p.clients()
	if !p.waitAction(owner, id, actionID, "INVOKED_ASYNC") {
		return
	}
	var out map[string]any
	body := map[string]any{"invocationToken": token, "status": "SUCCESS", "successInfo": map[string]any{"result": result}}
	if code := app.Call("POST", "/automations_runtime/v1/report-action-invocation-completed", body, &out); code != http.StatusOK {
		p.t.Errorf("completion: status %d: %v", code, out)
	}
}

func (p *behaviours) cancelWhenStarted(ids []string, c Cancel) {
	app, owner := p.clients()
	for _, id := range ids {
		if !p.waitAction(owner, id, c.WhenStarted, "STARTED") {
			return
		}
	}
	var out map[string]any
	body := map[string]any{"triggerKey": awse2e.Trigger, "externalEntityId": c.ExternalEntityID}
	if code := app.Call("POST", "/automations/v1/events/cancel", body, &out); code != http.StatusOK {
		p.t.Errorf("cancel: status %d: %v", code, out)
	}
}
