package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/appsecret"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/outbound"
	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// targetRecorder answers every invoke and keeps the targets it was given.
type targetRecorder struct {
	mu      sync.Mutex
	targets []provider.Target
}

func (r *targetRecorder) Invoke(_ context.Context, t provider.Target, _ provider.InvokeRequest) (*provider.InvokeResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.targets = append(r.targets, t)
	return &provider.InvokeResponse{Result: map[string]any{}}, nil
}

// TestInvokeIsSigned: the engine signs every invoke with the app's active secrets through the target
// builder, and a secret it cannot open fails the action (SIGNING_FAILED) without calling the provider.
func TestInvokeIsSigned(t *testing.T) {
	key := func(b byte) *platformkeys.Box {
		k := make([]byte, 32)
		k[0] = b
		bx, err := platformkeys.NewBox(k)
		must(t, err)
		return bx
	}
	for _, tc := range []struct {
		name      string
		builderBx *platformkeys.Box
		wantCalls int
		wantLog   run.ActionStatus
	}{
		{"secret opens", key(1), 1, run.ActionEnded},
		{"platform key changed", key(2), 0, run.ActionFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			secret, rec, err := appsecret.New(key(1), 0, nil).Issue(app)
			must(t, err)
			must(t, h.store.PutSigningSecrets(ctx, rec, 0))
			inv := &targetRecorder{}
			h.eng = engine.New(engine.Config{Store: h.store, Invoker: inv, Now: h.clock.Now,
				Targets: outbound.New(outbound.Config{Store: h.store, Secrets: appsecret.New(tc.builderBx, 0, nil)})})
			act := h.report([]string{a1}, map[string]*automation.Action{a1: appAction(a1, nil, a2), a2: appAction(a2, nil)}, map[string]any{})
			h.drain(act)
			logs := h.logs(act)
			if l := logs[a1]; l.Status != tc.wantLog {
				t.Fatalf("first action = %+v, want %s", l, tc.wantLog)
			}
			if tc.wantLog == run.ActionFailed {
				// Both actions are the app's: both fail, the flow still walks on and the activation ends.
				for _, id := range []string{a1, a2} {
					if l := logs[id]; l.FailedInfo == nil || l.FailedInfo.ErrorCode != "SIGNING_FAILED" || !strings.Contains(l.FailedInfo.ErrorDescription, "does not open") {
						t.Fatalf("action %s failed info = %+v", id, l.FailedInfo)
					}
				}
				if h.status(act) != run.StatusEnded || len(inv.targets) != 0 {
					t.Fatalf("activation %s, %d invokes; want ENDED and no provider call", h.status(act), len(inv.targets))
				}
				return
			}
			if len(inv.targets) != 2 {
				t.Fatalf("invokes = %d", len(inv.targets))
			}
			for _, tg := range inv.targets {
				if len(tg.Secrets) != 1 || string(tg.Secrets[0]) != secret || !strings.HasPrefix(tg.IdempotencyKey, act+":") {
					t.Fatalf("target = %+v, want the app's secret", tg)
				}
			}
		})
	}
}
