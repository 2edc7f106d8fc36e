package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
)

// buildBinary compiles switchyard once for the crash test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchyard")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary starts the built server as a child process and returns it with its base URL.
func startBinary(t *testing.T, bin, dataDir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "SWITCHYARD_ADMIN_KEY="+testAdminKey)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listenRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return cmd, base
	case <-time.After(15 * time.Second):
		t.Fatal("binary did not report its address")
	}
	return nil, ""
}

// TestCrashRecovery kills the server with SIGKILL while activations are mid-flight, restarts it on the
// same data directory and checks that every activation still completes with every action ENDED.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a binary")
	}
	slow := func(c testprovider.Call) testprovider.Reply {
		time.Sleep(40 * time.Millisecond)
		return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{"code": "C-" + c.ActionKey}}}
	}
	prov := testprovider.Start(t, map[string]testprovider.Handler{"lookup_coupon": slow, "send_sms": slow})
	bin := buildBinary(t)
	data := t.TempDir()
	cmd, base := startBinary(t, bin, data)
	owner, app := setupSite(t, base, prov.URL)
	owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))

	const events = 40
	var ids []string
	for i := 0; i < events; i++ {
		rep := app.must("POST", "/automations/v1/events/report", map[string]any{"triggerKey": "form_submitted",
			"payload": map[string]any{"name": fmt.Sprintf("n%d", i), "email": fmt.Sprintf("u%d@example.com", i)}})
		ids = append(ids, rep["activationIds"].([]any)[0].(string))
	}
	// Kill once the first wave of invokes has been answered and the second is under way: some steps
	// committed, some in flight, some not started.
	deadline := time.Now().Add(20 * time.Second)
	for len(prov.Calls()) < events+events/4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	before := len(prov.Calls())
	if before >= 2*events {
		t.Fatalf("every invoke finished before the kill (%d calls); the test proves nothing", before)
	}

	_, base = startBinary(t, bin, data)
	owner.base = base
	for _, id := range ids {
		log := owner.waitStatus(id, 30*time.Second)
		if log["status"] != "ENDED" || dig(log, "endedInfo.withFailedActions") != false {
			t.Fatalf("activation %s = %v, want ENDED without failures", id, log)
		}
		logs := owner.must("GET", "/v2/activation-action-logs?activationId="+id, nil)["activationActionLogs"].([]any)
		if len(logs) != 2 {
			t.Fatalf("activation %s has %d action logs, want 2", id, len(logs))
		}
		for _, l := range logs {
			if l.(map[string]any)["activationStatus"] != "ENDED" {
				t.Fatalf("activation %s action %v", id, l)
			}
		}
	}
	// Every invoke of one action of one activation carries one idempotency key, repeats included.
	keys := map[string]int{}
	for _, c := range prov.Calls() {
		k := c.Header.Get("Idempotency-Key")
		if !strings.Contains(k, ":") {
			t.Fatalf("invoke without an idempotency key: %v", c.Header)
		}
		keys[k]++
	}
	if len(keys) != 2*events {
		t.Fatalf("distinct (activation, action) invokes = %d, want %d", len(keys), 2*events)
	}
	t.Logf("calls before kill: %d, after restart: %d, repeated invokes: %d", before, len(prov.Calls())-before, len(prov.Calls())-2*events)
}
