package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/phpform"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/piggy")

// piggySetup creates a contact
// (ada@example.com) and an automation on form_submitted (not runnable through Piggy) on site A.
func (f *fixture) piggySetup() (contactID, formAutomationID string) {
	f.t.Helper()
	var c struct{ Contact struct{ ID string } }
	json.Unmarshal(f.mustOK("POST", "/v1/contacts", f.ownerA, "", `{"contact":{"email":"ada@example.com","name":{"first":"Ada"}}}`), &c)
	var a struct{ Automation struct{ ID string } }
	json.Unmarshal(f.mustOK("POST", "/v2/automations", f.ownerA, "", validAutomation), &a)
	return c.Contact.ID, a.Automation.ID
}

// doForm sends a PHP-style form body, as Piggy's PHP SDK does.
func (f *fixture) doForm(method, path, key, body string) (int, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// checkPiggyError asserts Piggy's error shape: code, status_code equal to the HTTP status, a message, and
// the field named in errors when one is expected.
func checkPiggyError(t *testing.T, body []byte, status int, code, field string) {
	t.Helper()
	var e struct {
		Code       *int                `json:"code"`
		StatusCode *int                `json:"status_code"`
		Message    string              `json:"message"`
		Errors     map[string][]string `json:"errors"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == nil || e.StatusCode == nil || e.Message == "" {
		t.Fatalf("not a Piggy error body: %s", body)
	}
	if fmt.Sprint(*e.Code) != code || *e.StatusCode != status {
		t.Fatalf("code %d status_code %d, want %s and %d: %s", *e.Code, *e.StatusCode, code, status, body)
	}
	if strings.Contains(string(body), `"details"`) {
		t.Fatalf("Piggy error carries Wix details: %s", body)
	}
	if field != "" && len(e.Errors[field]) == 0 {
		t.Fatalf("want errors.%s: %s", field, body)
	}
}

// goldenServer is a Switchyard API with a settable clock and sequential ids, so responses are exact.
type goldenServer struct {
	url string
	mu  sync.Mutex
	now time.Time
	ids int
}

func (g *goldenServer) Now() time.Time { g.mu.Lock(); defer g.mu.Unlock(); return g.now }
func (g *goldenServer) set(t time.Time) {
	g.mu.Lock()
	g.now = t
	g.mu.Unlock()
}
func (g *goldenServer) NewID() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ids++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", g.ids)
}

func (g *goldenServer) do(t *testing.T, method, path, key, contentType, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, g.url+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s answered Content-Type %q, want application/json", method, path, ct)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (g *goldenServer) must(t *testing.T, method, path, key, body string) []byte {
	t.Helper()
	code, b := g.do(t, method, path, key, "application/json", body)
	if code != 200 {
		t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	return b
}

// TestPiggyGolden pins every request and response shape of seed 004 (list automations, create automation
// run, its three error codes) and Piggy's answers to a bad key, an unknown path and a wrong method, in
// testdata/piggy/*.golden. Run with -update to rewrite them after a deliberate change.
func TestPiggyGolden(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "piggy.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := systemapp.Register(context.Background(), store); err != nil {
		t.Fatal(err)
	}
	g := &goldenServer{now: time.Date(2022, 5, 10, 12, 47, 38, 0, time.UTC)}
	eng := engine.New(engine.Config{Store: store, Contacts: store, Now: g.Now, NewID: g.NewID})
	srv := httptest.NewServer(api.NewServer(api.Config{Store: store, Engine: eng, AdminKeyHash: access.Hash(adminKey),
		Now: g.Now, NewID: g.NewID, MaxBodyBytes: 64 << 10}))
	t.Cleanup(srv.Close)
	g.url = srv.URL

	var k struct{ Key string }
	json.Unmarshal(g.must(t, "POST", "/v1/api-keys", adminKey, `{"apiKey":{"siteId":"`+siteA+`","name":"piggy"}}`), &k)
	owner := k.Key

	// The seed's three automations, a day or a week apart; one more site's automation and a draft that
	// must not be listed.
	automationOn := func(app, trigger, name, status string) string {
		var out struct{ Automation struct{ ID string } }
		json.Unmarshal(g.must(t, "POST", "/v2/automations", owner, `{"automation":{"name":"`+name+`","origin":"USER","configuration":{
			"status":"`+status+`","trigger":{"appId":"`+app+`","triggerKey":"`+trigger+`"},"rootActionIds":["cccccccc-cccc-4ccc-8ccc-cccccccccccc"],
			"actions":{"cccccccc-cccc-4ccc-8ccc-cccccccccccc":{"type":"APP_DEFINED","appDefinedInfo":{"appId":"`+app+`","actionKey":"x"}}}}}}`), &out)
		return out.Automation.ID
	}
	automationOn(appID, "physical_reward_reception_created", "Send Reward", "INACTIVE")
	g.set(time.Date(2022, 5, 11, 8, 9, 37, 0, time.UTC))
	birthday := automationOn(systemapp.AppID, systemapp.TriggerContactUpdated, "Send email on birthday", "ACTIVE")
	g.set(time.Date(2022, 5, 17, 10, 28, 11, 0, time.UTC))
	automationOn(appID, "credit_reception_created", "Send mail on first credit reception", "ACTIVE")
	g.must(t, "POST", "/v2/automations/drafts", owner, `{"automation":{"name":"draft","origin":"USER","configuration":{"status":"ACTIVE",
		"trigger":{"appId":"`+systemapp.AppID+`","triggerKey":"contact_updated"},"rootActionIds":[],"actions":{}}}}`)
	var c struct{ Contact struct{ ID string } }
	json.Unmarshal(g.must(t, "POST", "/v1/contacts", owner, `{"contact":{"email":"ada@example.com"}}`), &c)

	bearer := "Bearer " + owner
	form := phpform.Encode(map[string]any{"contact_uuid": c.Contact.ID, "automation_uuid": birthday,
		"data": map[string]any{"points": "5", "reward": map[string]any{"name": "Free coffee"}}})
	cases := []struct {
		name, method, path, key, contentType, body string
	}{
		{"list_automations", "GET", "/api/v3/oauth/clients/automations", bearer, "", ""},
		{"create_run", "POST", "/api/v3/oauth/clients/automations/runs", bearer, "application/json",
			`{"contact_uuid":"` + c.Contact.ID + `","automation_uuid":"` + birthday + `","data":{"points":5,"reward":{"name":"Free coffee"}}}`},
		{"create_run_php_form", "POST", "/api/v3/oauth/clients/automations/runs", bearer, "application/x-www-form-urlencoded", form},
		{"create_run_without_data", "POST", "/api/v3/oauth/clients/automations/runs", bearer, "application/json",
			`{"contact_uuid":"` + c.Contact.ID + `","automation_uuid":"` + birthday + `","data":[]}`},
		{"error_1003_invalid_input", "POST", "/api/v3/oauth/clients/automations/runs", bearer, "application/json",
			`{"automation_uuid":"not-a-uuid","data":"x"}`},
		{"error_55031_contact_not_found", "POST", "/api/v3/oauth/clients/automations/runs", bearer, "application/json",
			`{"contact_uuid":"99999999-9999-4999-8999-999999999999","automation_uuid":"` + birthday + `"}`},
		{"error_60013_model_not_found", "POST", "/api/v3/oauth/clients/automations/runs", bearer, "application/json",
			`{"contact_uuid":"` + c.Contact.ID + `","automation_uuid":"99999999-9999-4999-8999-999999999999"}`},
		{"error_401_bad_key", "GET", "/api/v3/oauth/clients/automations", "Bearer sy_wrong", "", ""},
		{"error_404_unknown_path", "GET", "/api/v3/oauth/clients/automations/" + birthday, bearer, "", ""},
		{"error_405_wrong_method", "PUT", "/api/v3/oauth/clients/automations/runs", bearer, "application/json", `{}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := g.do(t, tc.method, tc.path, tc.key, tc.contentType, tc.body)
			got := goldenText(tc.method, tc.path, tc.contentType, tc.body, code, body)
			file := filepath.Join("testdata", "piggy", tc.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", tc.name, file, got, want)
			}
		})
	}

	// The three runs started one activation each, with the payload Piggy's runs promise: contactId and
	// data (identity enrichment adds the contact at the first step). Form values are strings.
	var logs struct {
		ActivationLogs []struct {
			AutomationID  string
			InitiatedInfo struct{ Payload map[string]any }
		}
	}
	json.Unmarshal(g.must(t, "GET", "/v2/activation-logs?includePayload=true", owner, ""), &logs)
	var payloads []string
	for _, l := range logs.ActivationLogs {
		if l.AutomationID != birthday {
			t.Errorf("activation of %s, want only %s", l.AutomationID, birthday)
		}
		b, _ := json.Marshal(l.InitiatedInfo.Payload)
		payloads = append(payloads, string(b))
	}
	want := []string{ // newest first
		`{"contactId":"` + c.Contact.ID + `","data":{}}`,
		`{"contactId":"` + c.Contact.ID + `","data":{"points":"5","reward":{"name":"Free coffee"}}}`,
		`{"contactId":"` + c.Contact.ID + `","data":{"points":5,"reward":{"name":"Free coffee"}}}`,
	}
	if strings.Join(payloads, "\n") != strings.Join(want, "\n") {
		t.Errorf("activation payloads:\n%s\nwant\n%s", strings.Join(payloads, "\n"), strings.Join(want, "\n"))
	}
}

// goldenText renders one exchange as the golden file holds it: the request, then the status and the
// response body, indented.
func goldenText(method, path, contentType, reqBody string, status int, respBody []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", method, path)
	b.WriteString("Authorization: Bearer <site API key>\nAccept: application/json\n")
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\n", contentType)
	}
	if reqBody != "" {
		b.WriteString("\n" + reqBody + "\n")
	}
	fmt.Fprintf(&b, "\nHTTP %d\n", status)
	var out bytes.Buffer
	if err := json.Indent(&out, respBody, "", "    "); err != nil {
		out.Reset()
		out.Write(respBody)
	}
	b.Write(out.Bytes())
	b.WriteString("\n")
	return b.String()
}
