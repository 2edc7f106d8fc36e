package scenarios

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/runner/local"
	"github.com/switchyard-dev/switchyard/pkg/schema"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

// LocalDriver is the local runtime as `switchyard serve` wires it (cmd/switchyard/serve.go): the API
// over a fresh SQLite store, the engine and the local runner running in a goroutine, served over real
// HTTP by httptest.
type LocalDriver struct{}

// Setup implements Driver.
func (LocalDriver) Setup(t *testing.T, _ string) http.Handler {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "switchyard.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	schemas := schema.NewCache(0)
	invoker := provider.NewClient(provider.Options{Guard: &provider.AddressGuard{AllowLoopback: true}, UserAgent: "Switchyard/scenarios"})
	eng := engine.New(engine.Config{Store: store, Invoker: invoker, Schemas: schemas, Logger: log})
	runner := local.New(store, local.Options{Logger: log})
	eng.SetStarter(runner)
	srv := httptest.NewServer(api.NewServer(api.Config{Store: store, Engine: eng,
		AdminKeyHash: access.Hash(awse2e.AdminKey), Schemas: schemas, Logger: log, Providers: invoker}))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(runCtx, eng) }()
	t.Cleanup(func() {
		srv.Close()
		stop()
		if err := <-done; err != nil {
			t.Errorf("local runner: %v", err)
		}
		store.Close()
	})
	return forward(srv.URL)
}

// Settle implements Driver: the runner works on its own; wait for the activations to end.
func (LocalDriver) Settle(t *testing.T, owner awse2e.Client, ids []string) {
	t.Helper()
	WaitTerminal(t, owner, ids, 30*time.Second)
}

// forward is a handler that sends every request over HTTP to base (awse2e.Client calls a handler).
func forward(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
}

// testWriter sends the runtime's logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
