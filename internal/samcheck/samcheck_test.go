package samcheck_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/switchyard-dev/switchyard/internal/samcheck"
	"github.com/switchyard-dev/switchyard/pkg/awsrt"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/store/dynamo"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

const root = "../.."

var loadTemplate = sync.OnceValues(func() (*samcheck.Template, error) { return samcheck.Load(root) })

func tmpl(t *testing.T) *samcheck.Template {
	t.Helper()
	tp, err := loadTemplate()
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tp
}

// stateMachineName is the fixed name every reference to the state machine is built from (see the
// comment in template.yaml: a !Ref from engine-step would be a dependency cycle).
const stateMachineName = "${AWS::StackName}-activation"

// kebab is the function directory of a logical id: EngineStepFunction → engine-step.
func kebab(logicalID string) string {
	s := strings.TrimSuffix(logicalID, "Function")
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func effective(tp *samcheck.Template, fn, prop string) any {
	if v, ok := tp.RawProperties(fn)[prop]; ok {
		return v
	}
	return tp.GlobalFunction()[prop]
}

func TestFunctionsRuntimeAndCode(t *testing.T) {
	tp := tmpl(t)
	fns := tp.CF.GetAllServerlessFunctionResources()
	if len(fns) == 0 {
		t.Fatal("no functions in template.yaml")
	}
	for _, name := range tp.FunctionNames() {
		fn := fns[name]
		t.Run(name, func(t *testing.T) {
			if rt := effective(tp, name, "Runtime"); rt != "provided.al2023" {
				t.Errorf("Runtime = %v, want provided.al2023", rt)
			}
			if arch := effective(tp, name, "Architectures"); !slices.Equal(toStrings(arch), []string{"arm64"}) {
				t.Errorf("Architectures = %v, want [arm64]", arch)
			}
			if h := effective(tp, name, "Handler"); h != "bootstrap" {
				t.Errorf("Handler = %v, want bootstrap", h)
			}
			if bm := fn.AWSCloudFormationMetadata["BuildMethod"]; bm != "go1.x" {
				t.Errorf("Metadata.BuildMethod = %v, want go1.x", bm)
			}
			want := "functions/" + kebab(name) + "/"
			if fn.CodeUri == nil || fn.CodeUri.String == nil || *fn.CodeUri.String != want {
				t.Fatalf("CodeUri = %v, want %s (named after the logical id)", fn.CodeUri, want)
			}
			if _, err := os.Stat(filepath.Join(root, want, "main.go")); err != nil {
				t.Errorf("CodeUri %s has no main.go: %v", want, err)
			}
			if to, ok := effective(tp, name, "Timeout").(float64); !ok || to < 1 || to > 900 {
				t.Errorf("Timeout = %v", effective(tp, name, "Timeout"))
			}
		})
	}
}

func TestEveryFunctionDirectoryIsDeployed(t *testing.T) {
	tp := tmpl(t)
	deployed := map[string]bool{}
	for _, name := range tp.FunctionNames() {
		deployed[kebab(name)] = true
	}
	dirs, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no functions/*/main.go: %v", err)
	}
	for _, d := range dirs {
		if name := filepath.Base(filepath.Dir(d)); !deployed[name] {
			t.Errorf("functions/%s is not deployed by template.yaml", name)
		}
	}
}

// TestFunctionsBuild cross-compiles every CodeUri exactly as build/lambdas.mk does, in one `go build`
// so the packages share one compilation of their dependencies, and checks the binaries are arm64 ELF.
func TestFunctionsBuild(t *testing.T) {
	tp := tmpl(t)
	var pkgs []string
	for _, name := range tp.FunctionNames() {
		pkgs = append(pkgs, "./functions/"+kebab(name))
	}
	out := t.TempDir()
	start := time.Now()
	cmd := exec.Command("go", append([]string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", pkgs, err, b)
	}
	t.Logf("built %d functions for linux/arm64 in %v", len(pkgs), time.Since(start).Round(time.Millisecond))
	for _, p := range pkgs {
		f, err := elf.Open(filepath.Join(out, filepath.Base(p)))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if f.Machine != elf.EM_AARCH64 {
			t.Errorf("%s is built for %v, want EM_AARCH64", p, f.Machine)
		}
		f.Close()
	}
}

func TestStateMachine(t *testing.T) {
	tp := tmpl(t)
	sms := tp.CF.GetAllServerlessStateMachineResources()
	if len(sms) != 1 {
		t.Fatalf("state machines = %d, want 1", len(sms))
	}
	for logical, sm := range sms {
		if sm.Type == nil || *sm.Type != "STANDARD" {
			t.Errorf("%s Type = %v, want STANDARD", logical, sm.Type)
		}
		if sm.Name == nil || *sm.Name != stateMachineName {
			t.Errorf("%s Name = %v, want %s", logical, sm.Name, stateMachineName)
		}
		if sm.DefinitionUri == nil || sm.DefinitionUri.String == nil {
			t.Fatalf("%s has no DefinitionUri file", logical)
		}
		def, err := os.ReadFile(filepath.Join(root, *sm.DefinitionUri.String))
		if err != nil {
			t.Fatalf("DefinitionUri: %v", err)
		}
		if !json.Valid(def) {
			t.Fatalf("%s is not JSON", *sm.DefinitionUri.String)
		}
		used := map[string]bool{}
		for _, m := range regexp.MustCompile(`\$\{([^}]+)\}`).FindAllStringSubmatch(string(def), -1) {
			used[m[1]] = true
		}
		invoked := map[string]bool{}
		for key, val := range sm.DefinitionSubstitutions {
			if !used[key] {
				t.Errorf("DefinitionSubstitutions key %s is not used by %s", key, *sm.DefinitionUri.String)
			}
			target, attr, ok := strings.Cut(strings.TrimPrefix(val, samcheck.GetAttPrefix), ".")
			if !strings.HasPrefix(val, samcheck.GetAttPrefix) || !ok || attr != "Arn" || tp.ResourceType(target) != "AWS::Serverless::Function" {
				t.Errorf("DefinitionSubstitutions %s = %s, want !GetAtt <a function of this template>.Arn", key, val)
			}
			invoked[target] = true
		}
		for key := range used {
			if _, ok := sm.DefinitionSubstitutions[key]; !ok {
				t.Errorf("%s uses ${%s}, which DefinitionSubstitutions does not set", *sm.DefinitionUri.String, key)
			}
		}
		// The state machine's role may invoke exactly the functions its definition names.
		allowed := map[string]bool{}
		for _, p := range policyEntries(tp, logical) {
			if p.Template == "" {
				t.Errorf("%s: unexpected inline statement %v", logical, p.Statement)
				continue
			}
			if p.Template != "LambdaInvokePolicy" {
				t.Errorf("%s: unexpected policy template %s", logical, p.Template)
				continue
			}
			allowed[strings.TrimPrefix(fmt.Sprint(p.Args["FunctionName"]), samcheck.RefPrefix)] = true
		}
		if !mapsEqual(allowed, invoked) {
			t.Errorf("%s may invoke %v, its definition invokes %v", logical, keys(allowed), keys(invoked))
		}
	}
	arn := "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:" + stateMachineName
	env, _ := tp.GlobalFunction()["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	if vars["STATE_MACHINE_ARN"] != arn {
		t.Errorf("Globals STATE_MACHINE_ARN = %v, want %s", vars["STATE_MACHINE_ARN"], arn)
	}
}

func TestReferencesAreDefined(t *testing.T) {
	tp := tmpl(t)
	for name := range tp.Refs {
		if !tp.Defined(name) {
			t.Errorf("Ref/Sub names %q, which the template does not define", name)
		}
	}
	attrs := map[string][]string{
		"AWS::Serverless::Function":     {"Arn"},
		"AWS::DynamoDB::Table":          {"Arn", "StreamArn"},
		"AWS::Serverless::StateMachine": {"Arn", "Name"},
	}
	for ref := range tp.Attrs {
		res, attr, _ := strings.Cut(ref, ".")
		if !slices.Contains(attrs[tp.ResourceType(res)], attr) {
			t.Errorf("GetAtt %s: no resource %s with attribute %s", ref, res, attr)
		}
	}
}

// access is what a function may do, read off its policies.
type access struct {
	Dynamo       string // "crud" or "read"
	UpdateItem   bool   // an extra dynamodb:UpdateItem on the table (reads that may finish an activation)
	Start        bool   // states:StartExecution on the state machine
	Stop         bool   // states:StopExecution on its executions
	SendTask     bool   // states:SendTaskSuccess
	SendTaskFail bool   // states:SendTaskFailure
	Keys         string // platform-key SSM parameters it may read: "", "secret", "jwt" or "secret+jwt"
}

// wantAccess is least privilege per function: exactly what its handler calls. GETs only read (plus the
// one UpdateItem GetActivation may make); what starts activations or forks may start executions; what
// cancels may stop them; what completes async actions or parks may send task success.
var wantAccess = map[string]access{
	"create-app":                             {Dynamo: "crud", Keys: "secret"},
	"create-trigger":                         {Dynamo: "crud"},
	"create-action":                          {Dynamo: "crud"},
	"create-installation":                    {Dynamo: "crud"},
	"create-api-key":                         {Dynamo: "crud"},
	"create-automation":                      {Dynamo: "crud", Keys: "secret+jwt"},
	"get-automation":                         {Dynamo: "read"},
	"create-preinstalled-automation":         {Dynamo: "crud"},
	"update-preinstalled-automation":         {Dynamo: "crud"},
	"delete-preinstalled-automation":         {Dynamo: "crud"},
	"query-preinstalled-automations-for-app": {Dynamo: "read"},
	"update-automation":                      {Dynamo: "crud", Stop: true, Keys: "secret+jwt"},
	"delete-automation":                      {Dynamo: "crud", Stop: true},
	"bulk-delete-automations":                {Dynamo: "crud", Stop: true},
	"query-automations":                      {Dynamo: "read"},
	"get-automation-revision":                {Dynamo: "read"},
	"validate-automation":                    {Dynamo: "read", Keys: "secret+jwt"},
	"validate-automation-by-id":              {Dynamo: "read", Keys: "secret+jwt"},
	"get-automation-action-schema":           {Dynamo: "read"},
	"get-actions-quota-info":                 {Dynamo: "read", Keys: "secret+jwt"},
	"copy-automation":                        {Dynamo: "read"},
	"create-draft-automation":                {Dynamo: "crud"},
	"get-or-create-draft-automation":         {Dynamo: "crud"},
	"update-draft-automation":                {Dynamo: "crud"},
	"delete-draft-automation":                {Dynamo: "crud"},
	"publish-draft-automation":               {Dynamo: "crud", Stop: true},
	"query-automations-with-drafts":          {Dynamo: "read"},
	"report-event":                           {Dynamo: "crud", Start: true},
	"bulk-report-event":                      {Dynamo: "crud", Start: true},
	"cancel-event":                           {Dynamo: "crud", Stop: true},
	"bulk-cancel-event":                      {Dynamo: "crud", Stop: true},
	"test-automation":                        {Dynamo: "crud", Start: true},
	"rerun-activation":                       {Dynamo: "crud", Start: true},
	"report-action-invocation-completed":     {Dynamo: "crud", SendTask: true},
	"list-activation-logs":                   {Dynamo: "read"},
	"get-activation-log":                     {Dynamo: "read", UpdateItem: true},
	"list-activation-action-logs":            {Dynamo: "read", UpdateItem: true},
	"engine-step":                            {Dynamo: "crud", Start: true, Stop: true, Keys: "secret+jwt"},
	"engine-park":                            {Dynamo: "crud", SendTask: true},
	"engine-fail":                            {Dynamo: "crud"},
	"engine-sweep":                           {Dynamo: "crud", Start: true},
	"list-apps":                              {Dynamo: "read"},
	"get-app":                                {Dynamo: "read"},
	"query-triggers":                         {Dynamo: "read"},
	"query-actions":                          {Dynamo: "read"},
	"create-contact":                         {Dynamo: "crud"},
	"get-contact":                            {Dynamo: "read"},
	"update-contact":                         {Dynamo: "crud", Start: true},
	"delete-contact":                         {Dynamo: "crud"},
	"query-contacts":                         {Dynamo: "read"},
	"piggy-list-automations":                 {Dynamo: "read"},
	"piggy-create-automation-run":            {Dynamo: "crud", Start: true},
	"rotate-app-signing-secret":              {Dynamo: "crud", Keys: "secret"},
	"get-platform-public-key":                {Dynamo: "read", Keys: "jwt"},
}

func TestLeastPrivilege(t *testing.T) {
	tp := tmpl(t)
	smARN := "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
	for _, name := range tp.FunctionNames() {
		t.Run(name, func(t *testing.T) {
			want, ok := wantAccess[kebab(name)]
			if !ok {
				t.Fatalf("no expected access for %s: add it to wantAccess", kebab(name))
			}
			var got access
			for _, p := range policyEntries(tp, name) {
				switch p.Template {
				case "DynamoDBCrudPolicy", "DynamoDBReadPolicy":
					if p.Args["TableName"] != samcheck.RefPrefix+"Table" {
						t.Errorf("%s on %v, want !Ref Table", p.Template, p.Args["TableName"])
					}
					if got.Dynamo != "" {
						t.Errorf("two DynamoDB policy templates")
					}
					got.Dynamo = map[string]string{"DynamoDBCrudPolicy": "crud", "DynamoDBReadPolicy": "read"}[p.Template]
				case "StepFunctionsExecutionPolicy":
					if p.Args["StateMachineName"] != stateMachineName {
						t.Errorf("StepFunctionsExecutionPolicy on %v, want %s", p.Args["StateMachineName"], stateMachineName)
					}
					got.Start = true
				case "SSMParameterReadPolicy":
					checkKeyParameter(t, tp, name, p.Args, &got)
				case "":
					checkStatement(t, tp, p.Statement, smARN, &got)
				default:
					t.Errorf("unexpected policy template %s", p.Template)
				}
			}
			// A key parameter's name without the right to read it would fail every cold start.
			env, _ := tp.RawProperties(name)["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			for _, kp := range keyParameters {
				if vars[kp.env] != nil && !strings.Contains(got.Keys, kp.kind) {
					t.Errorf("%s is set but the function may not read that parameter", kp.env)
				}
			}
			if got != want {
				t.Errorf("access = %+v, want %+v", got, want)
			}
		})
	}
}

// keyParameters maps the template parameters naming the platform keys to the environment variable a
// function reads the name from.
var keyParameters = map[string]struct{ kind, env string }{
	"PlatformSecretKeyParameter": {"secret", "PLATFORM_SECRET_KEY_PARAMETER"},
	"PlatformJwtKeyParameter":    {"jwt", "PLATFORM_JWT_KEY_PARAMETER"},
}

// checkKeyParameter: a function may read a platform-key parameter only through SSMParameterReadPolicy
// on that template parameter, and is told its name in the matching environment variable.
func checkKeyParameter(t *testing.T, tp *samcheck.Template, fn string, args map[string]any, got *access) {
	t.Helper()
	ref, _ := args["ParameterName"].(string)
	kp, ok := keyParameters[strings.TrimPrefix(ref, samcheck.RefPrefix)]
	if !ok || !strings.HasPrefix(ref, samcheck.RefPrefix) {
		t.Errorf("SSMParameterReadPolicy on %v: only !Ref PlatformSecretKeyParameter / PlatformJwtKeyParameter are expected", args["ParameterName"])
		return
	}
	env, _ := tp.RawProperties(fn)["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	if v := fmt.Sprint(vars[kp.env]); !strings.Contains(v, strings.TrimPrefix(ref, samcheck.RefPrefix)) {
		t.Errorf("%s may read %s but its %s is %q", fn, ref, kp.env, v)
	}
	if got.Keys == "" {
		got.Keys = kp.kind
	} else {
		got.Keys += "+" + kp.kind
	}
}

func checkStatement(t *testing.T, tp *samcheck.Template, st map[string]any, smARN string, got *access) {
	t.Helper()
	if st["Effect"] != "Allow" {
		t.Errorf("statement %v: only Allow statements are expected", st)
	}
	actions := toStrings(st["Action"])
	for _, res := range toStrings(st["Resource"]) {
		switch {
		case res == "*":
			for _, a := range actions {
				// Task-token calls carry their authorisation in the token: IAM has no resource for them.
				if !strings.HasPrefix(a, "states:SendTask") {
					t.Errorf("%s on Resource \"*\": only states:SendTask* may name every resource", a)
				}
			}
		case strings.HasPrefix(res, samcheck.GetAttPrefix), strings.HasPrefix(res, samcheck.RefPrefix):
			target, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(res, samcheck.GetAttPrefix), samcheck.RefPrefix), ".")
			if !tp.Defined(target) {
				t.Errorf("statement names %s, not a resource of this template", res)
			}
		case res == smARN+"execution:"+stateMachineName+":*":
		default:
			t.Errorf("statement resource %q is neither a resource of this template nor the state machine's executions", res)
		}
	}
	for _, a := range actions {
		switch a {
		case "dynamodb:UpdateItem":
			got.UpdateItem = true
		case "states:StopExecution":
			got.Stop = true
		case "states:SendTaskSuccess":
			got.SendTask = true
		case "states:SendTaskFailure":
			got.SendTaskFail = true
		default:
			t.Errorf("unexpected action %s", a)
		}
	}
}

// policyEntry is one item of a Policies list: a SAM policy template with its arguments, or one statement
// of an inline policy document.
type policyEntry struct {
	Template  string
	Args      map[string]any
	Statement map[string]any
}

func policyEntries(tp *samcheck.Template, logicalID string) []policyEntry {
	var out []policyEntry
	list, _ := tp.RawProperties(logicalID)["Policies"].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		if sts, ok := m["Statement"].([]any); ok {
			for _, s := range sts {
				st, _ := s.(map[string]any)
				out = append(out, policyEntry{Statement: st})
			}
			continue
		}
		for name, args := range m {
			a, _ := args.(map[string]any)
			out = append(out, policyEntry{Template: name, Args: a})
		}
	}
	return out
}

// apiEvent is one HttpApi event of a function.
type apiEvent struct {
	Function, Method, Path string
}

func apiEvents(t *testing.T, tp *samcheck.Template) []apiEvent {
	var out []apiEvent
	for _, name := range tp.FunctionNames() {
		evs, _ := tp.RawProperties(name)["Events"].(map[string]any)
		for evName, e := range evs {
			ev, _ := e.(map[string]any)
			props, _ := ev["Properties"].(map[string]any)
			if scheduleTypes[fmt.Sprint(ev["Type"])] {
				continue // TestSchedules checks them
			}
			if ev["Type"] != "HttpApi" {
				t.Errorf("%s event %s has type %v; only HttpApi events are expected", name, evName, ev["Type"])
				continue
			}
			if props["ApiId"] != samcheck.RefPrefix+"HttpApi" || props["PayloadFormatVersion"] != "2.0" {
				t.Errorf("%s event %s: ApiId %v, PayloadFormatVersion %v; want !Ref HttpApi and \"2.0\"", name, evName, props["ApiId"], props["PayloadFormatVersion"])
			}
			out = append(out, apiEvent{Function: name, Method: fmt.Sprint(props["Method"]), Path: fmt.Sprint(props["Path"])})
		}
	}
	return out
}

// TestRoutesMatchAPI: every route of pkg/api has exactly one function, and no function serves a route
// the API does not have. /healthz stays off the API Gateway: it is the local binary's probe.
func TestRoutesMatchAPI(t *testing.T) {
	tp := tmpl(t)
	routes, err := samcheck.APIRoutes(filepath.Join(root, "pkg", "api", "routes.go"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, r := range routes {
		if r != "GET /healthz" {
			want[r] = true
		}
	}
	got := map[string]string{}
	for _, e := range apiEvents(t, tp) {
		r := e.Method + " " + e.Path
		if prev, dup := got[r]; dup {
			t.Errorf("%s is routed to both %s and %s", r, prev, e.Function)
		}
		got[r] = e.Function
		if !want[r] {
			t.Errorf("%s routes %s, which pkg/api does not serve", e.Function, r)
		}
	}
	for r := range want {
		if _, ok := got[r]; !ok {
			t.Errorf("pkg/api serves %s, but no function in template.yaml is routed to it", r)
		}
	}
	if len(want) < 10 {
		t.Fatalf("read only %d routes from routes.go: %v", len(want), routes)
	}
}

// TestTableMatchesStore compares the template's table with the one pkg/store/dynamo creates.
func TestTableMatchesStore(t *testing.T) {
	tp := tmpl(t)
	tables := tp.CF.GetAllDynamoDBTableResources()
	if len(tables) != 1 {
		t.Fatalf("tables = %d, want 1", len(tables))
	}
	want := dynamo.TableInput("x")
	for name, tb := range tables {
		if tb.BillingMode == nil || *tb.BillingMode != string(want.BillingMode) {
			t.Errorf("%s BillingMode = %v, want %s", name, tb.BillingMode, want.BillingMode)
		}
		gotAttrs, wantAttrs := map[string]string{}, map[string]string{}
		for _, a := range tb.AttributeDefinitions {
			gotAttrs[a.AttributeName] = a.AttributeType
		}
		for _, a := range want.AttributeDefinitions {
			wantAttrs[aws.ToString(a.AttributeName)] = string(a.AttributeType)
		}
		if !mapsEqual(gotAttrs, wantAttrs) {
			t.Errorf("%s attributes = %v, store wants %v", name, gotAttrs, wantAttrs)
		}
		var gotKeys, wantKeys []string
		for _, k := range tb.KeySchema {
			gotKeys = append(gotKeys, k.AttributeName+" "+k.KeyType)
		}
		for _, k := range want.KeySchema {
			wantKeys = append(wantKeys, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		if !slices.Equal(gotKeys, wantKeys) {
			t.Errorf("%s key schema = %v, store wants %v", name, gotKeys, wantKeys)
		}
		gotIdx, wantIdx := map[string]string{}, map[string]string{}
		for _, g := range tb.GlobalSecondaryIndexes {
			var ks []string
			for _, k := range g.KeySchema {
				ks = append(ks, k.AttributeName+" "+k.KeyType)
			}
			proj := ""
			if g.Projection != nil && g.Projection.ProjectionType != nil {
				proj = *g.Projection.ProjectionType
			}
			gotIdx[g.IndexName] = strings.Join(ks, ",") + " " + proj
		}
		for _, g := range want.GlobalSecondaryIndexes {
			var ks []string
			for _, k := range g.KeySchema {
				ks = append(ks, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
			}
			wantIdx[aws.ToString(g.IndexName)] = strings.Join(ks, ",") + " " + string(g.Projection.ProjectionType)
		}
		if !mapsEqual(gotIdx, wantIdx) {
			t.Errorf("%s indexes = %v, store wants %v", name, gotIdx, wantIdx)
		}
		if ttl := tb.TimeToLiveSpecification; ttl == nil || ttl.AttributeName == nil || *ttl.AttributeName != dynamo.AttrExpiresAt || !ttl.Enabled {
			t.Errorf("%s TTL = %+v, want enabled on %s", name, ttl, dynamo.AttrExpiresAt)
		}
		if p := tb.PointInTimeRecoverySpecification; p == nil || p.PointInTimeRecoveryEnabled == nil || !*p.PointInTimeRecoveryEnabled {
			t.Errorf("%s: point-in-time recovery is not enabled", name)
		}
	}
}

// resumer records engine-park's wake-ups instead of calling Step Functions.
type resumer struct {
	mu    sync.Mutex
	woken []string
}

func (r *resumer) Start(context.Context, []run.BranchRef) error { return nil }
func (r *resumer) Resume(_ context.Context, _ run.BranchRef, token string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.woken = append(r.woken, token)
	return nil
}

// TestSampleEvents: every function has events/<name>.json for `sam local invoke`, in the exact shape of
// its event source, and it reaches the function's handler through the production (de)serialisation.
func TestSampleEvents(t *testing.T) {
	tp := tmpl(t)
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	res := &resumer{}
	rt, err := awsrt.New(awsrt.Config{TableName: "unused", StepsPerInvocation: 1},
		awsrt.Deps{Store: store, Starter: res, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string][]apiEvent{}
	for _, e := range apiEvents(t, tp) {
		routes[e.Function] = append(routes[e.Function], e)
	}
	for _, name := range tp.FunctionNames() {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(root, "events", kebab(name)+".json"))
			if err != nil {
				t.Fatalf("sample event: %v", err)
			}
			if evs := routes[name]; len(evs) > 0 {
				var ev events.APIGatewayV2HTTPRequest
				strictDecode(t, raw, &ev)
				matched := false
				for _, e := range evs {
					matched = matched || (ev.RouteKey == e.Method+" "+e.Path && ev.RequestContext.HTTP.Method == e.Method &&
						pathMatches(e.Path, ev.RawPath) && ev.RequestContext.RouteKey == ev.RouteKey)
				}
				if !matched {
					t.Fatalf("event %s %s (routeKey %q) matches none of the function's routes %v", ev.RequestContext.HTTP.Method, ev.RawPath, ev.RouteKey, evs)
				}
				out := invoke(t, rt.APIHandler, raw)
				var resp events.APIGatewayV2HTTPResponse
				strictDecode(t, out, &resp)
				// The sample keys are placeholders: the request must reach the route and be refused there.
				if resp.StatusCode != 401 || !json.Valid([]byte(resp.Body)) || !strings.Contains(resp.Body, `"message"`) {
					t.Fatalf("response = %d %s, want 401 in the Wix error shape (route found, placeholder key refused)", resp.StatusCode, resp.Body)
				}
				return
			}
			switch kebab(name) {
			case "engine-step":
				var in awsrt.StepInput
				strictDecode(t, raw, &in)
				if out := invoke(t, rt.StepHandler, raw); !bytes.Equal(out, []byte(`{"instruction":"DONE"}`)) {
					t.Fatalf("engine-step on an unknown activation = %s, want DONE", out)
				}
			case "engine-park":
				var in awsrt.ParkInput
				strictDecode(t, raw, &in)
				if out := invoke(t, rt.ParkHandler, raw); !bytes.Contains(out, []byte(`"woken":true`)) {
					t.Fatalf("engine-park on an unknown branch = %s, want woken", out)
				}
			case "engine-fail":
				var in awsrt.FailInput
				strictDecode(t, raw, &in)
				invoke(t, rt.FailHandler, raw)
			case "engine-sweep":
				var in awsrt.SweepInput
				strictDecode(t, raw, &in)
				// The event reaches the handler, which refuses this store: only DynamoDB tracks unstarted
				// branches (SQLite's runner needs no sweep).
				_, err := lambda.NewHandler(rt.SweepHandler).Invoke(context.Background(), raw)
				if err == nil || !strings.Contains(err.Error(), "does not track unstarted branches") {
					t.Fatalf("engine-sweep on SQLite: err = %v, want the store refused", err)
				}
			default:
				t.Fatalf("%s has no API route and is not an engine task: no sample event check", name)
			}
		})
	}
}

func invoke(t *testing.T, handler any, payload []byte) []byte {
	t.Helper()
	out, err := lambda.NewHandler(handler).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	return out
}

func strictDecode(t *testing.T, raw []byte, into any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("decode %T: %v", into, err)
	}
}

// pathMatches matches a concrete path against an HTTP API route path with {param} segments.
func pathMatches(route, path string) bool {
	rs, ps := strings.Split(route, "/"), strings.Split(path, "/")
	if len(rs) != len(ps) {
		return false
	}
	for i := range rs {
		if strings.HasPrefix(rs[i], "{") && strings.HasSuffix(rs[i], "}") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if rs[i] != ps[i] {
			return false
		}
	}
	return true
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

func mapsEqual[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// scheduleTypes are the SAM event types that run a function on a schedule.
var scheduleTypes = map[string]bool{"Schedule": true, "ScheduleV2": true}

// wantSchedules: the only functions run on a schedule, and how often. A scheduled function serves no
// route, and its schedule input must decode into its handler's input.
var wantSchedules = map[string]string{
	"engine-sweep": "rate(1 minute)",
}

func TestSchedules(t *testing.T) {
	tp := tmpl(t)
	got := map[string]string{}
	for _, name := range tp.FunctionNames() {
		evs, _ := tp.RawProperties(name)["Events"].(map[string]any)
		for evName, e := range evs {
			ev, _ := e.(map[string]any)
			if !scheduleTypes[fmt.Sprint(ev["Type"])] {
				continue
			}
			props, _ := ev["Properties"].(map[string]any)
			fn := kebab(name)
			if _, dup := got[fn]; dup {
				t.Errorf("%s has two schedules", name)
			}
			got[fn] = fmt.Sprint(props["ScheduleExpression"])
			if ev["Type"] != "ScheduleV2" {
				t.Errorf("%s event %s is %v; use ScheduleV2 (EventBridge Scheduler: retry policy, no rule to manage)", name, evName, ev["Type"])
			}
			if len(evs) != 1 {
				t.Errorf("%s has %d events; a scheduled function serves nothing else", name, len(evs))
			}
			var in awsrt.SweepInput
			strictDecode(t, []byte(fmt.Sprint(props["Input"])), &in)
			retry, _ := props["RetryPolicy"].(map[string]any)
			if n, ok := retry["MaximumRetryAttempts"].(float64); !ok || n != 0 {
				t.Errorf("%s RetryPolicy = %v; want MaximumRetryAttempts 0 (the next run is the retry)", name, props["RetryPolicy"])
			}
		}
	}
	if !mapsEqual(got, wantSchedules) {
		t.Errorf("schedules = %v, want %v", got, wantSchedules)
	}
}
