package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"

	_ "modernc.org/sqlite"
)

// benchEnv is a running server with a site, an app, and a provider whose invoke latency is recorded.
type benchEnv struct {
	owner, app client
	data       string
	prov       *testprovider.Server
	db         *sql.DB
	latMu      sync.Mutex
	latencies  []time.Duration
	invokes    atomic.Int64
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	env := &benchEnv{data: b.TempDir()}
	record := func(c testprovider.Call) testprovider.Reply {
		env.invokes.Add(1)
		if p, ok := c.ActivationContext["payload"].(map[string]any); ok {
			if sent, err := strconv.ParseInt(fmt.Sprint(p["sentAt"]), 10, 64); err == nil && sent > 0 {
				env.latMu.Lock()
				env.latencies = append(env.latencies, time.Since(time.Unix(0, sent)))
				env.latMu.Unlock()
			}
		}
		return testprovider.Reply{Status: 200, Body: map[string]any{"result": map[string]any{"ok": true}}}
	}
	env.prov = testprovider.Start(b, map[string]testprovider.Handler{"lookup_coupon": record, "send_sms": record})
	base := startServer(b, env.data, map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	env.owner, env.app = setupSite(b, base, env.prov.URL)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(env.data, "switchyard.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	env.db = db
	return env
}

func (e *benchEnv) count(b *testing.B, status string) int {
	var n int
	if err := e.db.QueryRow(`SELECT count(*) FROM activations WHERE status = ?`, status).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// oneAction is an automation with a single immediate action.
func oneAction() map[string]any {
	a := twoActionAutomation("ACTIVE")
	cfg := a["automation"].(map[string]any)["configuration"].(map[string]any)
	acts := cfg["actions"].(map[string]any)
	delete(acts, actionSend)
	acts[actionLookup].(map[string]any)["appDefinedInfo"].(map[string]any)["postActionIds"] = []string{}
	return a
}

// bulkReport sends events 100 per call with conc concurrent callers; payload(i) builds event i.
func (e *benchEnv) bulkReport(b *testing.B, n, conc int, payload func(i int) map[string]any) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(100)) - 100
				if start >= n {
					return
				}
				var evs []any
				for i := start; i < min(start+100, n); i++ {
					evs = append(evs, map[string]any{"payload": payload(i)})
				}
				postJSON(b, e.app, "/automations/v1/events/bulk-report", map[string]any{"triggerKey": "form_submitted", "eventsInfo": evs})
			}
		}()
	}
	wg.Wait()
}

// postJSON posts without the test helpers' *testing.T (benchmarks run it from many goroutines).
func postJSON(b *testing.B, c client, path string, body any) {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", c.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Errorf("%s: %d", path, resp.StatusCode)
	}
}

func (e *benchEnv) waitEnded(b *testing.B, n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for e.count(b, "ENDED") < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d activations ENDED", e.count(b, "ENDED"), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func payloadN(i int) map[string]any {
	return map[string]any{"name": "n" + strconv.Itoa(i), "email": "u" + strconv.Itoa(i) + "@example.com"}
}

// BenchmarkSustainedActivations: report → one immediate invoke on a local provider → ENDED, as fast as
// the local runtime goes with durable SQLite. Prints activations/s.
func BenchmarkSustainedActivations(b *testing.B) {
	env := newBenchEnv(b)
	env.owner.must("POST", "/v2/automations", oneAction())
	n := max(b.N, 2000)
	b.ResetTimer()
	start := time.Now()
	env.bulkReport(b, n, 4, payloadN)
	env.waitEnded(b, n, 5*time.Minute)
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/el.Seconds(), "activations/s")
	fmt.Fprintf(os.Stderr, "sustained: %d activations report→invoke→ENDED in %s = %.0f activations/s\n", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
}

// BenchmarkReportToInvokeLatency: single reports at a fixed rate (env SWITCHYARD_BENCH_RATE, default
// 500/s — half the target sustained rate); prints p50/p99 of report sent → provider invoked.
func BenchmarkReportToInvokeLatency(b *testing.B) {
	env := newBenchEnv(b)
	env.owner.must("POST", "/v2/automations", oneAction())
	rate := 500
	if v, err := strconv.Atoi(os.Getenv("SWITCHYARD_BENCH_RATE")); err == nil && v > 0 {
		rate = v
	}
	n := max(b.N, 3*rate)
	interval := time.Second / time.Duration(rate)
	b.ResetTimer()
	var wg sync.WaitGroup
	tick := time.NewTicker(interval)
	for i := 0; i < n; i++ {
		<-tick.C
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := payloadN(i)
			p["sentAt"] = strconv.FormatInt(time.Now().UnixNano(), 10)
			postJSON(b, env.app, "/automations/v1/events/report", map[string]any{"triggerKey": "form_submitted", "payload": p})
		}(i)
	}
	tick.Stop()
	wg.Wait()
	env.waitEnded(b, n, 2*time.Minute)
	b.StopTimer()
	env.latMu.Lock()
	lat := append([]time.Duration(nil), env.latencies...)
	env.latMu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	fmt.Fprintf(os.Stderr, "latency at %d reports/s (%d reports): report→invoke p50 %s, p99 %s\n", rate, n, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
}

// BenchmarkParkedDelays parks SWITCHYARD_BENCH_PARKED (default 100,000) activations in a day-long delay,
// then runs 500 short delays due 5 s later among them; prints resident memory with everything parked
// and how late the short delays fired.
func BenchmarkParkedDelays(b *testing.B) {
	env := newBenchEnv(b)
	parked := 100000
	if v, err := strconv.Atoi(os.Getenv("SWITCHYARD_BENCH_PARKED")); err == nil && v > 0 {
		parked = v
	}
	delayed := delayedAutomation("ACTIVE")
	cfg := delayed["automation"].(map[string]any)["configuration"].(map[string]any)
	d := cfg["actions"].(map[string]any)[delayAction].(map[string]any)["delayInfo"].(map[string]any)
	d["offsetExpression"] = `{{var("delayMinutes")}}`
	d["offsetTimeUnit"] = "MINUTES"
	d["dueDateEpochExpression"] = `{{var("dueAt")}}`
	env.owner.must("POST", "/v2/automations", delayed)
	b.ResetTimer()
	start := time.Now()
	far := strconv.FormatInt(time.Now().Add(24*time.Hour).UnixMilli(), 10)
	env.bulkReport(b, parked, 4, func(i int) map[string]any {
		p := payloadN(i)
		p["dueAt"], p["delayMinutes"] = far, "0"
		return p
	})
	fmt.Fprintf(os.Stderr, "parked: %d activations reported in %s\n", parked, time.Since(start).Round(time.Millisecond))
	// wait until every one has taken its first step (the delay has STARTED)
	deadline := time.Now().Add(10 * time.Minute)
	for env.count(b, "STARTED") < parked && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	rss := residentMB()
	due := time.Now().Add(5 * time.Second)
	const short = 500
	fired := make([]time.Duration, 0, short)
	dueMs := strconv.FormatInt(due.UnixMilli(), 10)
	env.bulkReport(b, short, 2, func(i int) map[string]any {
		p := payloadN(parked + i)
		p["dueAt"], p["delayMinutes"] = dueMs, "0"
		return p
	})
	env.waitEnded(b, short, time.Minute)
	rows, err := env.db.Query(`SELECT doc FROM action_logs WHERE action_id = ?`, delayAction)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			b.Fatal(err)
		}
		var l struct {
			Status    string `json:"activationStatus"`
			EndedInfo *struct {
				StatusChangedDate time.Time `json:"statusChangedDate"`
			} `json:"endedInfo"`
		}
		if err := json.Unmarshal(doc, &l); err != nil {
			b.Fatal(err)
		}
		if l.Status == "ENDED" && l.EndedInfo != nil {
			fired = append(fired, l.EndedInfo.StatusChangedDate.Sub(due))
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	rows.Close()
	b.StopTimer()
	sort.Slice(fired, func(i, j int) bool { return fired[i] < fired[j] })
	if len(fired) == 0 {
		b.Fatal("no delay fired")
	}
	p50, max := fired[len(fired)/2], fired[len(fired)-1]
	b.ReportMetric(rss, "RSS-MB")
	b.ReportMetric(float64(max.Milliseconds()), "max-late-ms")
	fmt.Fprintf(os.Stderr, "parked delays: %d parked, RSS %.0f MB; %d delays due together fired late by p50 %s, max %s\n",
		parked, rss, len(fired), p50.Round(time.Millisecond), max.Round(time.Millisecond))
}

// residentMB reads this process's resident set size.
func residentMB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return -1
}

// timedPost posts body and returns how long the call took.
func timedPost(b *testing.B, c client, path string, body any) time.Duration {
	start := time.Now()
	postJSON(b, c, path, body)
	return time.Since(start)
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], ds[len(ds)*99/100]
}

// createMany creates n automations on trigger key "other_event" (so none matches form_submitted),
// alternately ACTIVE and INACTIVE, named "Auto 00000"….
func createMany(b *testing.B, owner client, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				status := "ACTIVE"
				if i%2 == 1 {
					status = "INACTIVE"
				}
				a := twoActionAutomation(status)
				a["automation"].(map[string]any)["name"] = fmt.Sprintf("Auto %05d", i)
				dig(a, "automation.configuration.trigger").(map[string]any)["triggerKey"] = "other_event"
				postJSON(b, owner, "/v2/automations", a)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkQueryAutomations10k: QueryAutomations first page (status + name prefix, sorted by name, 50) on a
// site with 10,000 automations; prints p50/p99.
func BenchmarkQueryAutomations10k(b *testing.B) {
	env := newBenchEnv(b)
	createMany(b, env.owner, 10000)
	q := map[string]any{"query": map[string]any{"filter": map[string]any{"$and": []any{
		map[string]any{"configuration.status": "ACTIVE"}, map[string]any{"name": map[string]any{"$startsWith": "Auto 0"}}}},
		"sort": []any{map[string]any{"fieldName": "name", "order": "ASC"}}, "cursorPaging": map[string]any{"limit": 50}}}
	b.ResetTimer()
	var ds []time.Duration
	for i := 0; i < max(b.N, 200); i++ {
		ds = append(ds, timedPost(b, env.owner, "/v2/automations/query", q))
	}
	b.StopTimer()
	p50, p99 := percentiles(ds)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	fmt.Fprintf(os.Stderr, "query first page on 10,000 automations: p50 %s, p99 %s (%d queries)\n", p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), len(ds))
}

// BenchmarkReportEventIndexed: ReportEvent latency on a site with 10,000 automations on another trigger
// versus an empty site: matching goes through the trigger index, so the ratio stays near 1.
func BenchmarkReportEventIndexed(b *testing.B) {
	measure := func(env *benchEnv) time.Duration {
		var ds []time.Duration
		for i := 0; i < 500; i++ {
			ds = append(ds, timedPost(b, env.app, "/automations/v1/events/report", map[string]any{"triggerKey": "form_submitted", "payload": payloadN(i)}))
		}
		p50, _ := percentiles(ds)
		return p50
	}
	empty := newBenchEnv(b)
	full := newBenchEnv(b)
	createMany(b, full.owner, 10000)
	b.ResetTimer()
	e, f := measure(empty), measure(full)
	b.StopTimer()
	b.ReportMetric(float64(f)/float64(e), "ratio")
	fmt.Fprintf(os.Stderr, "report event p50: empty site %s, 10,000 non-matching automations %s (ratio %.2f)\n", e.Round(10*time.Microsecond), f.Round(10*time.Microsecond), float64(f)/float64(e))
}
