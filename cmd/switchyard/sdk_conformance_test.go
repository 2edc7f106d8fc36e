//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
)

// TestWixSDKConformance drives the server with the real @wix/sdk + @wix/automations client modules
// (pinned in infra/conformance) through infra/conformance/sdk-client.mjs, and asserts on what the SDK
// handed back to its caller: renamed keys, revisions, typed errors, cursor paging through the query
// builder, idempotent event reports. Needs Node >= 20 and npm (first run: `npm ci` in infra/conformance);
// without them the test skips locally and fails when CI is set.
func TestWixSDKConformance(t *testing.T) {
	dir := ensureConformanceModules(t)
	node, _ := exec.LookPath("node")

	prov := testprovider.Start(t, map[string]testprovider.Handler{
		"lookup_coupon": testprovider.Result(map[string]any{"code": "WELCOME10"}),
	})
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "sdk-client.mjs"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"BASE="+base, "API_KEY="+owner.key, "SITE_ID="+testSite,
		"APP_KEY="+strings.TrimPrefix(app.key, "Bearer "), "APP_ID="+testApp,
		"TRIGGER_KEY=form_submitted", "ACTION_KEY=lookup_coupon")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("node sdk-client.mjs: %v after %v\nstdout:\n%s\nstderr:\n%s", err, time.Since(start), stdout.String(), stderr.String())
	}
	t.Logf("sdk-client.mjs ran in %v", time.Since(start).Round(time.Millisecond))

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sdk-client output (one line per step):\n%s", stdout.String())
		}
	})
	steps := parseSDKSteps(t, stdout.String())

	// createAutomation: the SDK hands back the automation with `_id` (renamed from the wire's `id`, also
	// inside the action map), revision "1" as a string, and _createdDate as the wire's string.
	creates := steps.all("createAutomation")
	if len(creates) != 7 {
		t.Fatalf("createAutomation steps = %d, want 7", len(creates))
	}
	ids := map[string]string{} // name → id
	for _, s := range creates {
		a := s.ok(t)
		id := str(a["_id"])
		if !isGUID(id) || a["id"] != nil || a["revision"] != "1" || a["name"] != s.Extra["name"] {
			t.Fatalf("createAutomation %v handed back %v, want _id (no id), revision \"1\", the name", s.Extra["name"], a)
		}
		if d, ok := a["_createdDate"].(string); !ok || d == "" || a["createdDate"] != nil {
			t.Fatalf("createAutomation: _createdDate = %#v (createdDate %#v), want a string under _createdDate", a["_createdDate"], a["createdDate"])
		}
		root := dig(a, "configuration.rootActionIds").([]any)[0].(string)
		act, _ := dig(a, "configuration.actions").(map[string]any)[root].(map[string]any)
		if act == nil || act["_id"] != root || act["id"] != nil {
			t.Fatalf("createAutomation: action %s = %v, want its _id renamed back", root, act)
		}
		ids[str(a["name"])] = id
	}
	idA := ids["Conf A"]

	// getAutomation hands back the same automation.
	got := steps.one(t, "getAutomation").ok(t)
	if got["_id"] != idA || got["revision"] != "1" || got["name"] != "Conf A" || dig(got, "configuration.status") != "ACTIVE" {
		t.Fatalf("getAutomation = %v", got)
	}

	// Handing the fetched automation straight back fails inside the SDK (string _createdDate meets
	// toISOString); whatever it does, it must not be the server's doing: either it resolves or nothing was sent.
	if rt := steps.one(t, "updateAutomation.roundTripDates"); !rt.OK && len(rt.Requests) != 0 {
		t.Fatalf("updateAutomation with the fetched object reached the server and failed: %v\nrequests: %v", rt.Error, rt.Requests)
	}

	// updateAutomation with the current revision: revision "2", new name; with the stale one: a thrown
	// 409 whose details carry the application error code.
	upd := steps.one(t, "updateAutomation").ok(t)
	if upd["_id"] != idA || upd["revision"] != "2" || upd["name"] != "Conf A renamed" || upd["_updatedDate"] == nil {
		t.Fatalf("updateAutomation = %v, want _id, revision \"2\", the new name, _updatedDate", upd)
	}
	stale := steps.one(t, "updateAutomationStale").failed(t)
	if stale.status() != 409 || stale.appCode() != "REVISION_MISMATCH" {
		t.Fatalf("stale updateAutomation threw %v, want status 409 with applicationError REVISION_MISMATCH", stale)
	}

	// queryAutomations: eq + startsWith + descending + limit(2), then next() while hasNext(): every ACTIVE
	// "Conf…" automation exactly once, in descending name order, in pages of at most 2.
	pages := []map[string]any{steps.one(t, "queryAutomations.find").ok(t)}
	for _, s := range steps.all("queryAutomations.next") {
		pages = append(pages, s.ok(t))
	}
	var names, seenIDs []string
	for i, p := range pages {
		pn := p["names"].([]any)
		if len(pn) == 0 || len(pn) > 2 {
			t.Fatalf("page %d has %d items, want 1..2: %v", i+1, len(pn), p)
		}
		for j, n := range pn {
			names = append(names, n.(string))
			id := str(p["ids"].([]any)[j])
			if !isGUID(id) || p["rawIdKeys"].([]any)[j] != "_id" {
				t.Fatalf("page %d item %d: _id %q, id keys %v", i+1, j, id, p["rawIdKeys"])
			}
			seenIDs = append(seenIDs, id)
		}
		last := i == len(pages)-1
		if p["hasNext"] != !last {
			t.Fatalf("page %d: hasNext() = %v, want %v", i+1, p["hasNext"], !last)
		}
	}
	wantNames := []string{"Conf E", "Conf D", "Conf C", "Conf B", "Conf A renamed"}
	if strings.Join(names, "|") != strings.Join(wantNames, "|") {
		t.Fatalf("query visited %q over %d pages, want %q", names, len(pages), wantNames)
	}
	wantIDs := []string{ids["Conf E"], ids["Conf D"], ids["Conf C"], ids["Conf B"], idA}
	if strings.Join(seenIDs, "|") != strings.Join(wantIDs, "|") {
		t.Fatalf("query visited ids %v, want %v", seenIDs, wantIDs)
	}
	if len(pages) != 3 {
		t.Fatalf("query took %d pages, want 3", len(pages))
	}

	// validateAutomation: a valid automation → valid true; {name: ""} → thrown INVALID_ARGUMENT naming
	// automation.name. validateAutomationById → valid true.
	if v := steps.one(t, "validateAutomation.valid").ok(t); v["valid"] != true {
		t.Fatalf("validateAutomation(valid) = %v, want valid true", v)
	}
	inv := steps.one(t, "validateAutomation.emptyName").failed(t)
	if inv.status() != 400 || !strings.Contains(str(inv["message"]), "INVALID_ARGUMENT") || !strings.Contains(str(inv["message"]), "automation.name") {
		t.Fatalf("validateAutomation({name:''}) threw %v, want 400 INVALID_ARGUMENT mentioning automation.name", inv)
	}
	if !strings.Contains(str(dig(map[string]any(inv), "details.validationError.fieldViolations")), "field:automation.name") {
		t.Fatalf("validateAutomation({name:''}): details = %v, want a fieldViolation on automation.name", inv["details"])
	}
	if v := steps.one(t, "validateAutomationById").ok(t); v["valid"] != true {
		t.Fatalf("validateAutomationById = %v, want valid true", v)
	}

	// getAutomationActionSchema: an object schema; getActionsQuotaInfo: resolves (empty list today).
	if sch := steps.one(t, "getAutomationActionSchema").ok(t); dig(sch, "schema.type") != "object" {
		t.Fatalf("getAutomationActionSchema = %v, want {schema:{type:object,…}}", sch)
	}
	if q := steps.one(t, "getActionsQuotaInfo").ok(t); q["actionProviderQuotaInfo"] == nil {
		t.Fatalf("getActionsQuotaInfo = %v, want actionProviderQuotaInfo (a list)", q)
	} else if _, ok := q["actionProviderQuotaInfo"].([]any); !ok {
		t.Fatalf("getActionsQuotaInfo = %v, want actionProviderQuotaInfo as a list", q)
	}

	// Unknown id: thrown 404 with AUTOMATION_NOT_FOUND.
	nf := steps.one(t, "getAutomation.unknown").failed(t)
	if nf.status() != 404 || nf.appCode() != "AUTOMATION_NOT_FOUND" {
		t.Fatalf("getAutomation(unknown) threw %v, want 404 AUTOMATION_NOT_FOUND", nf)
	}

	// reportEvent twice with one idempotency key: the same activations (one per ACTIVE automation on the
	// trigger: Conf A–E and Other).
	r1 := steps.one(t, "reportEvent.first").ok(t)
	r2 := steps.one(t, "reportEvent.again").ok(t)
	a1, a2 := strs(r1["activationIds"]), strs(r2["activationIds"])
	if len(a1) != 6 || strings.Join(a1, ",") != strings.Join(a2, ",") {
		t.Fatalf("reportEvent activationIds first %v, again %v: want the same 6", a1, a2)
	}
	br := steps.one(t, "bulkReportEvent").ok(t)
	if res, _ := br["results"].([]any); len(res) != 2 || dig(br, "bulkActionMetadata.totalSuccesses") != float64(2) {
		t.Fatalf("bulkReportEvent = %v, want 2 successful results", br)
	}
	for _, r := range br["results"].([]any) {
		if dig(r, "itemMetadata.success") != true || len(strs(dig(r, "activationIds"))) != 6 {
			t.Fatalf("bulkReportEvent result %v, want success with 6 activations", r)
		}
	}
	if s := steps.one(t, "cancelEvent"); !s.OK {
		t.Fatalf("cancelEvent threw %v", s.Error)
	}
	// Copy and drafts: the copy is unsaved (no _id), get-or-create is idempotent, publish applies the draft.
	idD := ids["Conf D"]
	if cp := steps.one(t, "copyAutomation").ok(t); dig(cp, "automation._id") != nil || dig(cp, "automation.name") != "Conf D" {
		t.Fatalf("copyAutomation = %v", cp)
	}
	dr := steps.one(t, "getOrCreateDraftAutomation").ok(t)
	draftID := str(dig(dr, "automation._id"))
	if !isGUID(draftID) || draftID == idD || dig(dr, "automation.draftInfo.originalAutomationId") != idD {
		t.Fatalf("getOrCreateDraftAutomation = %v", dr)
	}
	if again := steps.one(t, "getOrCreateDraftAutomation.again").ok(t); dig(again, "automation._id") != draftID {
		t.Fatalf("second getOrCreateDraftAutomation = %v", again)
	}
	if up := steps.one(t, "updateDraftAutomation").ok(t); dig(up, "automation.name") != "Conf D drafted" {
		t.Fatalf("updateDraftAutomation = %v", up)
	}
	qd := steps.one(t, "queryAutomationsWithDrafts").ok(t)
	if list, _ := qd["automations"].([]any); len(list) != 1 || fmt.Sprint(dig(qd, "originalAutomationIdToDrafts."+idD+".draftAutomationIds")) != "["+draftID+"]" {
		t.Fatalf("queryAutomationsWithDrafts = %v", qd)
	}
	if pub := steps.one(t, "publishDraftAutomation").ok(t); dig(pub, "automation._id") != idD || dig(pub, "automation.name") != "Conf D drafted" {
		t.Fatalf("publishDraftAutomation = %v", pub)
	}
	if nd := steps.one(t, "createDraftAutomation").ok(t); !isGUID(str(dig(nd, "automation._id"))) {
		t.Fatalf("createDraftAutomation = %v", nd)
	}
	if del := steps.one(t, "deleteDraftAutomation"); !del.OK {
		t.Fatalf("deleteDraftAutomation failed: %v", del.Error)
	}

	// Preinstalled: the app's component appears on the site (origin and preinstalledInfo as the SDK hands
	// them back), a new version replaces it, an older one is a 409, a site owner may not create one, and
	// deletion removes it from the site.
	pre := steps.one(t, "createPreinstalledAutomation").ok(t)
	preID := str(dig(pre, "automation._id"))
	if !isGUID(preID) || dig(pre, "automation.origin") != "PREINSTALLED" || dig(pre, "automation.preinstalledInfo.componentVersion") != float64(1) {
		t.Fatalf("createPreinstalledAutomation = %v", pre)
	}
	if g := steps.one(t, "getAutomation.preinstalled").ok(t); dig(g, "_id") != preID || dig(g, "name") != "Pre A" {
		t.Fatalf("site's getAutomation of the preinstalled automation = %v", g)
	}
	if up := steps.one(t, "updatePreinstalledAutomation").ok(t); dig(up, "automation.name") != "Pre A v2" || dig(up, "automation.revision") != "2" {
		t.Fatalf("updatePreinstalledAutomation = %v", up)
	}
	steps.one(t, "updatePreinstalledAutomation.older").wantError(t, 409, "COMPONENT_VERSION_OUTDATED")
	if q := steps.one(t, "queryPreinstalledAutomationsForApp").ok(t); fmt.Sprint(dig(q, "automations")) == "[]" {
		t.Fatalf("queryPreinstalledAutomationsForApp = %v", q)
	}
	steps.one(t, "createPreinstalledAutomation.byOwner").wantError(t, 403, "APP_REQUIRED")
	if del := steps.one(t, "deletePreinstalledAutomation"); !del.OK {
		t.Fatalf("deletePreinstalledAutomation failed: %v", del.Error)
	}
	steps.one(t, "getAutomation.preinstalledDeleted").wantError(t, 404, "AUTOMATION_NOT_FOUND")

	bc := steps.one(t, "bulkCancelEvent").ok(t)
	if res, _ := bc["results"].([]any); len(res) != 1 || dig(res[0], "itemMetadata.success") != true {
		t.Fatalf("bulkCancelEvent = %v, want one successful result", bc)
	}

	// bulkDeleteAutomations: two existing ids succeed, an unknown one fails in its own item; the deleted
	// ones are gone. deleteAutomation resolves, then getAutomation throws 404.
	bd := steps.one(t, "bulkDeleteAutomations").ok(t)
	res, _ := bd["results"].([]any)
	if len(res) != 3 {
		t.Fatalf("bulkDeleteAutomations = %v, want 3 results", bd)
	}
	for i, r := range res {
		want := i < 2
		if dig(r, "itemMetadata.success") != want || dig(r, "itemMetadata.originalIndex") != float64(i) {
			t.Fatalf("bulkDeleteAutomations result %d = %v, want success %v at originalIndex %d", i, r, want, i)
		}
	}
	if dig(bd, "bulkActionMetadata.totalSuccesses") != float64(2) || dig(bd, "bulkActionMetadata.totalFailures") != float64(1) {
		t.Fatalf("bulkDeleteAutomations metadata = %v", bd["bulkActionMetadata"])
	}
	if e := steps.one(t, "getAutomation.bulkDeleted").failed(t); e.status() != 404 || e.appCode() != "AUTOMATION_NOT_FOUND" {
		t.Fatalf("get after bulk delete threw %v", e)
	}
	if s := steps.one(t, "deleteAutomation"); !s.OK {
		t.Fatalf("deleteAutomation threw %v", s.Error)
	}
	if e := steps.one(t, "getAutomation.deleted").failed(t); e.status() != 404 || e.appCode() != "AUTOMATION_NOT_FOUND" {
		t.Fatalf("get after delete threw %v", e)
	}
	steps.one(t, "done")
}

// sdkStep is one JSON line printed by sdk-client.mjs.
type sdkStep struct {
	Step     string         `json:"step"`
	OK       bool           `json:"ok"`
	Result   any            `json:"result"`
	Error    sdkError       `json:"error"`
	Requests []any          `json:"requests"`
	Extra    map[string]any `json:"-"`
	raw      string
}

// sdkError is what the SDK threw: status, code, message, details (applicationError / validationError).
type sdkError map[string]any

func (e sdkError) status() int {
	if f, ok := e["status"].(float64); ok {
		return int(f)
	}
	return 0
}

func (e sdkError) appCode() string {
	return str(dig(map[string]any(e), "details.applicationError.code"))
}

func (s sdkStep) ok(t *testing.T) map[string]any {
	t.Helper()
	if !s.OK {
		t.Fatalf("step %s: the SDK threw %v\nrequests: %v", s.Step, s.Error, s.Requests)
	}
	m, _ := s.Result.(map[string]any)
	if m == nil {
		t.Fatalf("step %s: the SDK handed back %v, want an object", s.Step, s.Result)
	}
	return m
}

func (s sdkStep) failed(t *testing.T) sdkError {
	t.Helper()
	if s.OK {
		t.Fatalf("step %s: resolved with %v, want a thrown error", s.Step, s.Result)
	}
	return s.Error
}

type sdkSteps []sdkStep

func (ss sdkSteps) all(name string) []sdkStep {
	var out []sdkStep
	for _, s := range ss {
		if s.Step == name {
			out = append(out, s)
		}
	}
	return out
}

func (ss sdkSteps) one(t *testing.T, name string) sdkStep {
	t.Helper()
	all := ss.all(name)
	if len(all) != 1 {
		t.Fatalf("step %s printed %d times, want once", name, len(all))
	}
	return all[0]
}

func parseSDKSteps(t *testing.T, out string) sdkSteps {
	t.Helper()
	var steps sdkSteps
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var s sdkStep
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("sdk-client printed a non-JSON line %q: %v", line, err)
		}
		var all map[string]any
		_ = json.Unmarshal([]byte(line), &all)
		for _, k := range []string{"step", "ok", "result", "error", "requests"} {
			delete(all, k)
		}
		s.Extra, s.raw = all, line
		if s.Step == "abort" {
			t.Fatalf("sdk-client aborted: %s\nfull output:\n%s", line, out)
		}
		steps = append(steps, s)
	}
	if len(steps) == 0 || steps[len(steps)-1].Step != "done" {
		t.Fatalf("sdk-client did not finish; output:\n%s", out)
	}
	return steps
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, str(x))
	}
	sort.Strings(out)
	return out
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// ensureConformanceModules returns the absolute infra/conformance directory with its node_modules
// matching package.json, running `npm ci` there under an exclusive flock (infra/conformance/.npm-ci.lock)
// when they are missing or stale — the same scheme as awslocal.EnsureNodeModules for infra/. A missing
// node/npm skips the test locally and fails it when CI is set; a failing `npm ci` always fails it.
func ensureConformanceModules(t *testing.T) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("sdk conformance: "+format+" (CI is set, so this fails instead of skipping)", args...)
		}
		t.Skipf("sdk conformance: "+format, args...)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "infra", "conformance"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "package-lock.json", "sdk-client.mjs"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("infra/conformance/%s is missing: %v", f, err)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("Node.js (>= 20) is not on PATH: install it (Debian: apt-get install -y nodejs npm)")
	}
	v, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("node --version: %v", err)
	}
	if major, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(strings.TrimSpace(string(v)), "v"), ".", 2)[0]); major < 20 {
		unavailable("Node.js %s is too old: @wix/sdk needs Node >= 20", strings.TrimSpace(string(v)))
	}

	lock, err := os.OpenFile(filepath.Join(dir, ".npm-ci.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("lock infra/conformance/.npm-ci.lock: %v", err)
	}
	defer lock.Close()
	for {
		if err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		t.Fatalf("flock infra/conformance/.npm-ci.lock: %v", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	if conformanceModulesInstalled(dir) == nil {
		return dir
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable("npm is not on PATH and infra/conformance/node_modules is missing or stale: install npm")
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s failed after %v: %v\n%s", dir, time.Since(start).Round(time.Millisecond), err, out)
	}
	if err := conformanceModulesInstalled(dir); err != nil {
		t.Fatalf("after npm ci in %s: %v", dir, err)
	}
	t.Logf("npm ci in infra/conformance took %v", time.Since(start).Round(time.Millisecond))
	return dir
}

// conformanceModulesInstalled checks that each dependency package.json pins is installed at that version.
func conformanceModulesInstalled(dir string) error {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return fmt.Errorf("infra/conformance/package.json: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		return err
	}
	for name, want := range pkg.Dependencies {
		var got struct {
			Version string `json:"version"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json"))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &got); err != nil {
			return err
		}
		if got.Version != want {
			return fmt.Errorf("%s is %s, package.json pins %s", name, got.Version, want)
		}
	}
	return nil
}

// wantError fails unless the step threw with this HTTP status and applicationError code.
func (s sdkStep) wantError(t *testing.T, status int, code string) {
	t.Helper()
	if e := s.failed(t); e.status() != status || e.appCode() != code {
		t.Fatalf("%s threw %v, want %d %s", s.Step, e, status, code)
	}
}
