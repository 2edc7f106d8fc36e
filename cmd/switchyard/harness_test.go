package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer safe to read while the server writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listenRe = regexp.MustCompile(`listening on (http://\S+)`)

// startServer runs `switchyard serve` in-process on a free port and returns its base URL; the server
// stops when the test ends.
func startServer(t testing.TB, dataDir string, env map[string]string) string {
	t.Helper()
	base, _ := startStoppableServer(t, dataDir, env)
	return base
}

// startStoppableServer also returns stop, which shuts the server down (as SIGTERM would) and waits.
func startStoppableServer(t testing.TB, dataDir string, env map[string]string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir}, getenv, stdout, stderr)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("server exited with error: %v\nstderr:\n%s", err, stderr.String())
				}
			case <-time.After(45 * time.Second):
				t.Errorf("server did not shut down")
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRe.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stop
		}
		select {
		case err := <-done:
			t.Fatalf("server exited early: %v\nstderr:\n%s", err, stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("server did not start; stderr:\n%s", stderr.String())
	return "", nil
}

// client calls the API with one key and site.
type client struct {
	t    testing.TB
	base string
	key  string
	site string
}

// call sends body as JSON and decodes the response into out; it returns the status code.
func (c client) call(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", c.key)
	}
	if c.site != "" {
		req.Header.Set("wix-site-id", c.site)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: status %d, body not JSON: %v: %s", method, path, resp.StatusCode, err, raw)
		}
	}
	return resp.StatusCode
}

// must calls and fails the test unless the answer is 200.
func (c client) must(method, path string, body any) map[string]any {
	c.t.Helper()
	var out map[string]any
	if code := c.call(method, path, body, &out); code != http.StatusOK {
		c.t.Fatalf("%s %s: status %d: %v", method, path, code, out)
	}
	return out
}

// waitStatus polls an activation log until its status is terminal.
func (c client) waitStatus(activationID string, timeout time.Duration) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	var last map[string]any
	for time.Now().Before(deadline) {
		last = c.must("GET", "/v2/activation-logs/"+activationID, nil)
		switch last["activationLog"].(map[string]any)["status"] {
		case "ENDED", "FAILED", "CANCELLED", "SKIPPED":
			return last["activationLog"].(map[string]any)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("activation %s did not finish within %s; last: %v", activationID, timeout, last)
	return nil
}

// dig walks nested JSON maps by dotted path.
func dig(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string { return fmt.Sprint(v) }
