// Command smsprovider is an example action provider for Switchyard built on the Go kit
// (pkg/provider/kit): a send-sms action with a monthly quota and asynchronous delivery receipts. See
// package sms for what it does and the README ("An SMS provider in Go") for how to run it next to
// `make run`.
//
// Environment:
//
//	SMS_ADDR             listen address (default 127.0.0.1:9100); mount point /automations
//	SWITCHYARD_URL       the platform (default http://127.0.0.1:8080)
//	SMS_APP_KEY          an API key of the app on the site (POST /v1/api-keys with the app's id): required
//	SMS_SIGNING_SECRETS  the app's signing secret(s), comma-separated (the new and the old one while rotating)
//	SMS_APP_ID           the app's id: needed to accept WIX_JWT calls (the platform's public key is fetched
//	                     from SWITCHYARD_URL/v1/platform/public-key at start)
//	SMS_MONTHLY_QUOTA    messages per account and month (default 100)
//	SMS_AUTO_DELIVER     simulate the carrier: deliver each message after this long (e.g. 2s); unset, a
//	                     receipt arrives only with POST /receipts {"messageId","status":"DELIVERED"|"FAILED","reason"}
package main

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard-dev/switchyard/examples/smsprovider/sms"
	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/provider/kit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "smsprovider:", err)
		os.Exit(1)
	}
}

// config is the provider's settings.
type config struct {
	platformURL string
	appID       string
	appKey      string
	secrets     []string
	quota       int
	autoDeliver time.Duration
}

func configFromEnv(getenv func(string) string) (config, string, error) {
	c := config{platformURL: getenv("SWITCHYARD_URL"), appID: getenv("SMS_APP_ID"), appKey: getenv("SMS_APP_KEY"), quota: 100}
	if c.platformURL == "" {
		c.platformURL = "http://127.0.0.1:8080"
	}
	addr := getenv("SMS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:9100"
	}
	for _, s := range strings.Split(getenv("SMS_SIGNING_SECRETS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.secrets = append(c.secrets, s)
		}
	}
	if c.appKey == "" {
		return c, "", errors.New("SMS_APP_KEY is required: delivery receipts complete actions with it")
	}
	if len(c.secrets) == 0 && c.appID == "" {
		return c, "", errors.New("set SMS_SIGNING_SECRETS (SWITCHYARD format) or SMS_APP_ID (WIX_JWT format), or both")
	}
	if v := getenv("SMS_MONTHLY_QUOTA"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, "", fmt.Errorf("SMS_MONTHLY_QUOTA must be a number >= 0, got %q", v)
		}
		c.quota = n
	}
	if v := getenv("SMS_AUTO_DELIVER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, "", fmt.Errorf("SMS_AUTO_DELIVER must be a duration, got %q", v)
		}
		c.autoDeliver = d
	}
	return c, addr, nil
}

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, addr, err := configFromEnv(getenv)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serve(ctx, ln, cfg, stdout)
}

// serve runs the provider on ln until ctx ends.
func serve(ctx context.Context, ln net.Listener, cfg config, stdout io.Writer) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	platform := kit.NewClient(cfg.platformURL, cfg.appKey, kit.ClientOptions{})
	p := sms.New(cfg.quota, platform, nil)
	kc := kit.Config{AppID: cfg.appID, Secrets: cfg.secrets, Logger: log,
		Invoke: p.Invoke, QuotaInfo: p.QuotaInfo, ValidateConfiguration: p.ValidateConfiguration}
	if cfg.appID != "" {
		pub, err := fetchPublicKey(ctx, cfg.platformURL, cfg.appKey)
		if err != nil {
			return err
		}
		kc.PublicKey = pub
	}
	if cfg.autoDeliver > 0 {
		invoke := kc.Invoke
		kc.Invoke = func(ctx context.Context, call kit.Call, req *provider.InvokeRequest) (*provider.InvokeResponse, error) {
			resp, err := invoke(ctx, call, req)
			if err == nil {
				id, _ := resp.Result["messageId"].(string)
				time.AfterFunc(cfg.autoDeliver, func() {
					if err := p.Receipt(context.Background(), id, true, ""); err != nil {
						log.Warn("delivery receipt not accepted", "message", id, "err", err)
					}
				})
			}
			return resp, err
		}
	}
	plugin, err := kit.NewHandler(kc)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: routes(p, plugin), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "smsprovider listening on http://%s (providerBaseUri http://%s/automations)\n", ln.Addr(), ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Shutdown waits for requests in flight, but also treats a connection a client opened and never
		// used as busy for its first 5 s; whatever is left when the grace ends is closed.
		if err := srv.Shutdown(shut); errors.Is(err, context.DeadlineExceeded) {
			return srv.Close()
		} else if err != nil {
			return err
		}
		return nil
	case err := <-done:
		return err
	}
}

// routes: the service plugin under /automations, the carrier's receipts and a message list.
func routes(p *sms.Provider, plugin http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/automations/", plugin)
	mux.HandleFunc("POST /receipts", func(w http.ResponseWriter, r *http.Request) {
		var rc struct {
			MessageID string `json:"messageId"`
			Status    string `json:"status"`
			Reason    string `json:"reason"`
		}
		if err := json.NewDecoder(r.Body).Decode(&rc); err != nil || (rc.Status != "DELIVERED" && rc.Status != "FAILED") {
			http.Error(w, `{"message":"want {messageId, status: DELIVERED|FAILED, reason?}"}`, http.StatusBadRequest)
			return
		}
		if err := p.Receipt(r.Context(), rc.MessageID, rc.Status == "DELIVERED", rc.Reason); err != nil {
			status := http.StatusBadGateway
			var ke *kit.Error
			if errors.As(err, &ke) {
				status = ke.Status
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"message": err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	})
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"messages": p.Messages()})
	})
	return mux
}

func fetchPublicKey(ctx context.Context, base, apiKey string) (*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/v1/platform/public-key", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the platform's public key: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		PublicKey string `json:"publicKey"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the platform's public key: HTTP %d", resp.StatusCode)
	}
	return platformkeys.ParsePublicKey(out.PublicKey)
}
