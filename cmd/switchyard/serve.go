package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/contactreport"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/runner/local"
	"github.com/switchyard-dev/switchyard/pkg/schema"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
	"github.com/switchyard-dev/switchyard/pkg/webhook"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	started := time.Now()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr(getenv, "SWITCHYARD_ADDR", "127.0.0.1:8080"), "listen address (env SWITCHYARD_ADDR)")
	dataDir := fs.String("data", envOr(getenv, "SWITCHYARD_DATA", "./switchyard-data"), "data directory (env SWITCHYARD_DATA)")
	logLevel := fs.String("log-level", envOr(getenv, "SWITCHYARD_LOG_LEVEL", "info"), "debug, info, warn or error (env SWITCHYARD_LOG_LEVEL)")
	allowed := fs.String("allowed-networks", getenv("SWITCHYARD_ALLOWED_NETWORKS"),
		"CIDRs, IPs, IP:port or host:port that providers and webhooks may reach besides public addresses and loopback (env SWITCHYARD_ALLOWED_NETWORKS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	allowList, err := provider.ParseAllowList(*allowed)
	if err != nil {
		return fmt.Errorf("--allowed-networks: %w", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	unlock, err := lockDataDir(*dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	store, err := sqlite.Open(ctx, filepath.Join(*dataDir, "switchyard.db"))
	if err != nil {
		return err
	}
	defer store.Close()

	adminHash, err := adminKeyHash(ctx, store, getenv("SWITCHYARD_ADMIN_KEY"), stdout)
	if err != nil {
		return err
	}

	if wrote, err := systemapp.Register(ctx, store); err != nil {
		return err
	} else if len(wrote) > 0 {
		log.Info("system app registered", "wrote", wrote)
	}

	schemas := schema.NewCache(0)
	// Providers are registered by the operator, and a local install talks to local providers: loopback is
	// allowed; private, link-local and metadata addresses only through the allow-list.
	base := &provider.AddressGuard{AllowLoopback: true}
	if strings.EqualFold(getenv("SWITCHYARD_ALLOW_PRIVATE_PROVIDERS"), "true") {
		base.AllowPrivate = true
	}
	guard := base.With(allowList)
	// Webhook URLs come from any site user's automation, not from the operator: loopback (this server's
	// own API, local databases) only when the allow-list names it.
	webhookGuard := (&provider.AddressGuard{}).With(allowList)
	// The provider client makes every service-plugin call; the system app's actions run in-process.
	providers := provider.NewClient(provider.Options{Guard: guard, UserAgent: "Switchyard/" + version})
	invoker := systemapp.WithActions(providers, webhook.New(webhook.Options{Guard: webhookGuard, UserAgent: "Switchyard-Webhook/" + version}))
	signing, targets, err := localSigning(*dataDir, store, getenv("SWITCHYARD_JWT_ISSUER"))
	if err != nil {
		return err
	}
	eng := engine.New(engine.Config{Store: store, Invoker: invoker, Targets: targets, Refresher: providers, Schemas: schemas, Logger: log, Contacts: store})
	runner := local.New(store, local.Options{Logger: log})
	eng.SetStarter(runner)

	handler := api.NewServer(api.Config{Store: store, Engine: eng, AdminKeyHash: adminHash, Schemas: schemas, Signing: signing, Logger: log,
		Providers: providers, Targets: targets})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	runCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- runner.Run(runCtx, eng) }()
	// The contact_updated outbox: one pass now (reports a crash left pending), then every interval.
	drainDone := make(chan struct{})
	go func() {
		defer close(drainDone)
		(&contactreport.Outbox{Store: store, Engine: eng, Log: log}).Run(runCtx, contactreport.DefaultInterval)
	}()
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "switchyard listening on http://%s\n", ln.Addr())
	log.Info("switchyard ready", "addr", ln.Addr().String(), "data", *dataDir, "startup", time.Since(started).Round(time.Millisecond))

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-serveDone:
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	stopRunner()
	<-drainDone
	if err := <-runnerDone; err != nil {
		log.Warn("runner stopped with error", "err", err)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	log.Info("stopped")
	return nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

const adminKeySetting = "admin_key_hash"

// adminKeyHash returns the hash of the admin key: from SWITCHYARD_ADMIN_KEY when set, else the stored one,
// else a new key generated now, stored hashed and printed this once.
func adminKeyHash(ctx context.Context, store *sqlite.Store, fromEnv string, stdout io.Writer) (string, error) {
	if fromEnv != "" {
		h := access.Hash(fromEnv)
		stored, err := store.GetSetting(ctx, adminKeySetting)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return "", err
		}
		if subtle.ConstantTimeCompare([]byte(stored), []byte(h)) != 1 {
			if err := store.PutSetting(ctx, adminKeySetting, h); err != nil {
				return "", err
			}
		}
		return h, nil
	}
	stored, err := store.GetSetting(ctx, adminKeySetting)
	if err == nil {
		return stored, nil
	}
	if !errors.Is(err, errs.ErrNotFound) {
		return "", err
	}
	secret, err := access.NewSecret()
	if err != nil {
		return "", err
	}
	h := access.Hash(secret)
	if err := store.PutSetting(ctx, adminKeySetting, h); err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "generated admin key (shown once, stored hashed): %s\n", secret)
	return h, nil
}

// lockDataDir makes sure one process at a time owns the data directory, which is what lets the runner
// drop stale leases at start-up.
func lockDataDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "switchyard.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s is in use by another switchyard process", dir)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
