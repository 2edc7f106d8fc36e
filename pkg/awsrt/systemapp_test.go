package awsrt_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

// readOnly is a store whose catalog writes are refused, as IAM refuses them to a function with
// DynamoDBReadPolicy.
type readOnly struct{ *sqlite.Store }

var errAccessDenied = errors.New("AccessDeniedException")

func (readOnly) CreateApp(context.Context, *catalog.App) error      { return errAccessDenied }
func (readOnly) PutApp(context.Context, *catalog.App) error         { return errAccessDenied }
func (readOnly) PutTrigger(context.Context, *catalog.Trigger) error { return errAccessDenied }
func (readOnly) PutAction(context.Context, *catalog.Action) error   { return errAccessDenied }

// TestColdStartRegistersTheSystemApp: a cold start with write access registers the system app; one
// without comes up anyway and serves the catalog once a writer has registered it.
func TestColdStartRegistersTheSystemApp(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })

	reader := newRuntime(t, nil, readOnly{store}, nil) // must not fail though it cannot write
	if _, err := store.GetApp(context.Background(), systemapp.AppID); err == nil {
		t.Fatal("a read-only cold start wrote the system app")
	}
	newRuntime(t, nil, store, nil)
	admin := awse2e.Client{T: t, Handler: reader.HTTPHandler(), Key: awse2e.AdminKey}
	out := admin.Must("POST", "/v1/actions/query", map[string]any{"query": map[string]any{"filter": map[string]any{"appId": systemapp.AppID}}})
	if a, _ := out["actions"].([]any); len(a) != 1 || awse2e.Dig(a[0], "actionKey") != systemapp.ActionWebhook {
		t.Errorf("the read-only function's catalog read: %v", out)
	}
}

// TestWebhookOnTheAWSPath runs the webhook action through the engine-step handler: loopback is refused
// by default on AWS, and allowed once the endpoint's address and port are on the allow-list.
func TestWebhookOnTheAWSPath(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(hook.Close)
	hookAddr := mustHost(t, hook.URL)
	for _, tc := range []struct {
		name, allow string
		wantStatus  string
		wantOutput  any
		wantReason  string
	}{
		{"AWS default refuses loopback", "", "FAILED", nil, "webhook address blocked: 127.0.0.1 is a loopback address"},
		{"allow-listed endpoint", hookAddr, "ENDED", map[string]any{"status": 200.0, "body": map[string]any{"ok": true}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			f := &fixture{store: store, rec: &recorder{}, prov: testprovider.Start(t, nil)}
			allow := mustHost(t, f.prov.URL) // the fixture app's provider is reachable in both cases
			if tc.allow != "" {
				allow += "," + tc.allow
			}
			f.rt = newRuntime(t, map[string]string{"ALLOWED_PROVIDER_CIDRS": allow, "STEPS_PER_INVOCATION": "10"}, store, f.rec)
			f.owner, f.app = awse2e.SetupSite(t, f.rt.HTTPHandler(), f.prov.URL)
			hookID, noteID := awse2e.ActionID(1), awse2e.ActionID(2)
			ref := f.report(t, awse2e.Automation("Webhook", []string{hookID}, map[string]any{
				hookID: map[string]any{"type": "APP_DEFINED", "appDefinedInfo": map[string]any{
					"appId": systemapp.AppID, "actionKey": systemapp.ActionWebhook,
					"inputMapping":  map[string]any{"url": hook.URL + `/{{var("name")}}`, "body": map[string]any{"email": `{{var("email")}}`}},
					"postActionIds": []string{noteID}}},
				noteID: awse2e.AppAction("note", map[string]any{"text": `{{var("name")}}`}),
			}))
			if out := step(t, f.rt, context.Background(), ref); out.Instruction != engine.Done {
				t.Fatalf("instruction %v", out.Instruction)
			}
			logs := f.owner.ActionLogs(ref.ActivationID)
			if len(logs) != 2 || logs[0]["activationStatus"] != tc.wantStatus || logs[1]["activationStatus"] != "ENDED" {
				t.Fatalf("action logs %v", logs)
			}
			if tc.wantOutput != nil {
				if got := awse2e.Dig(logs[0], "endedInfo.appDefinedActionInfo.output"); !reflect.DeepEqual(got, tc.wantOutput) {
					t.Errorf("output %v, want %v", got, tc.wantOutput)
				}
			} else if got := awse2e.Dig(logs[0], "failedInfo.errorDescription"); got != tc.wantReason {
				t.Errorf("reason %v, want %q", got, tc.wantReason)
			}
		})
	}
}

func mustHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
