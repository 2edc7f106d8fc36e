package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

const (
	adminKey  = "sy_admin_for_api_tests"
	siteA     = "11111111-1111-4111-8111-111111111111"
	siteB     = "22222222-2222-4222-8222-222222222222"
	appID     = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	otherApp  = "abababab-abab-4bab-8bab-abababababab"
	missingID = "99999999-9999-4999-8999-999999999999"
)

type fixture struct {
	t        *testing.T
	store    *sqlite.Store
	url      string
	ownerA   string
	ownerB   string
	appKeyA  string
	otherKey string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "api.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := systemapp.Register(context.Background(), store); err != nil {
		t.Fatal(err)
	}
	eng := engine.New(engine.Config{Store: store})
	srv := httptest.NewServer(api.NewServer(api.Config{Store: store, Engine: eng, AdminKeyHash: access.Hash(adminKey), MaxBodyBytes: 64 << 10,
		Signing: testSigning(t)}))
	t.Cleanup(srv.Close)
	f := &fixture{t: t, url: srv.URL, store: store}
	f.mustOK("POST", "/v1/apps", adminKey, "", `{"app":{"id":"`+appID+`","name":"Forms","providerBaseUri":"http://127.0.0.1:1"}}`)
	f.mustOK("POST", "/v1/apps", adminKey, "", `{"app":{"id":"`+otherApp+`","name":"Other"}}`)
	f.mustOK("POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"`+appID+`","triggerKey":"form_submitted","displayName":"Form submitted",
		"payloadDataSchema":{"type":"object","required":["email"],"properties":{"email":{"type":"string"},"count":{"type":"integer"}}}}}`)
	f.mustOK("POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"`+otherApp+`","triggerKey":"other_event","displayName":"Other","payloadDataSchema":{"type":"object"}}}`)
	f.ownerA = f.key(`{"apiKey":{"siteId":"` + siteA + `","name":"owner A"}}`)
	f.ownerB = f.key(`{"apiKey":{"siteId":"` + siteB + `","name":"owner B"}}`)
	f.appKeyA = f.key(`{"apiKey":{"siteId":"` + siteA + `","appId":"` + appID + `","name":"app A"}}`)
	f.otherKey = f.key(`{"apiKey":{"siteId":"` + siteA + `","appId":"` + otherApp + `","name":"other app A"}}`)
	return f
}

func (f *fixture) key(body string) string {
	var out struct{ Key string }
	json.Unmarshal(f.mustOK("POST", "/v1/api-keys", adminKey, "", body), &out)
	return out.Key
}

func (f *fixture) do(method, path, key, site, body string) (int, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	if site != "" {
		req.Header.Set("wix-site-id", site)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (f *fixture) mustOK(method, path, key, site, body string) []byte {
	f.t.Helper()
	code, b := f.do(method, path, key, site, body)
	if code != 200 {
		f.t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	return b
}

// preinstalledAutomation is validAutomation as an app's component, without an origin.
const preinstalledAutomation = `{"automation":{"name":"n","configuration":{"status":"ACTIVE",
	"trigger":{"appId":"` + appID + `","triggerKey":"form_submitted"},"rootActionIds":[],"actions":{}}}}`

const validAutomation = `{"automation":{"name":"n","origin":"USER","configuration":{"status":"ACTIVE",
	"trigger":{"appId":"` + appID + `","triggerKey":"form_submitted"},"rootActionIds":["cccccccc-cccc-4ccc-8ccc-cccccccccccc"],
	"actions":{"cccccccc-cccc-4ccc-8ccc-cccccccccccc":{"type":"APP_DEFINED","appDefinedInfo":{"appId":"` + appID + `","actionKey":"x"}}}}}}`

// TestBadInput checks every endpoint's answers to bad input: the status and the Wix error shape, with
// the code or the violated field a client would act on.
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	big := `{"app":{"name":"` + strings.Repeat("x", 70<<10) + `"}}`
	cases := []struct {
		name, method, path, key, site, body string
		status                              int
		code                                string // applicationError.code, or
		field                               string // validationError.fieldViolations[0].field
	}{
		{"no key", "POST", "/v1/apps", "", "", `{}`, 401, "UNAUTHENTICATED", ""},
		{"unknown key", "POST", "/v1/apps", "sy_nope", "", `{}`, 401, "UNAUTHENTICATED", ""},
		{"owner registers app", "POST", "/v1/apps", "OWNER_A", "", `{"app":{"name":"x"}}`, 403, "ADMIN_REQUIRED", ""},
		{"malformed json", "POST", "/v1/apps", adminKey, "", `{"app":`, 400, "MALFORMED_JSON", ""},
		{"empty body", "POST", "/v1/apps", adminKey, "", ``, 400, "MALFORMED_JSON", ""},
		{"too large", "POST", "/v1/apps", adminKey, "", big, 413, "PAYLOAD_TOO_LARGE", ""},
		{"wrong type", "POST", "/v1/apps", adminKey, "", `{"app":{"name":5}}`, 400, "", "app.name"},
		{"app without name", "POST", "/v1/apps", adminKey, "", `{"app":{}}`, 400, "", "app.name"},
		{"app bad id", "POST", "/v1/apps", adminKey, "", `{"app":{"id":"x","name":"n"}}`, 400, "", "app.id"},
		{"app bad uri", "POST", "/v1/apps", adminKey, "", `{"app":{"name":"n","providerBaseUri":"ftp://x"}}`, 400, "", "app.providerBaseUri"},
		{"app duplicate", "POST", "/v1/apps", adminKey, "", `{"app":{"id":"` + appID + `","name":"n"}}`, 409, "APP_ALREADY_EXISTS", ""},
		{"trigger invalid schema", "POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"` + appID + `","triggerKey":"k","displayName":"K","payloadDataSchema":{"type":"nope"}}}`, 400, "", "trigger.payloadDataSchema"},
		{"trigger remote ref", "POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"` + appID + `","triggerKey":"k","displayName":"K","payloadDataSchema":{"$ref":"http://169.254.169.254/x.json"}}}`, 400, "", "trigger.payloadDataSchema"},
		{"trigger missing schema", "POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"` + appID + `","triggerKey":"k","displayName":"K"}}`, 400, "", "trigger.payloadDataSchema"},
		{"trigger unknown app", "POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"` + missingID + `","triggerKey":"k","displayName":"K","payloadDataSchema":{}}}`, 404, "APP_NOT_FOUND", ""},
		{"trigger by other app", "POST", "/v1/triggers", "OTHER", "", `{"trigger":{"appId":"` + appID + `","triggerKey":"k","displayName":"K","payloadDataSchema":{}}}`, 403, "NOT_APP_OWNER", ""},
		{"trigger bad key", "POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"` + appID + `","triggerKey":"a b","displayName":"K","payloadDataSchema":{}}}`, 400, "", "trigger.triggerKey"},
		{"action invalid input schema", "POST", "/v1/actions", adminKey, "", `{"action":{"appId":"` + appID + `","actionKey":"a","displayName":"A","inputSchema":{"required":"x"}}}`, 400, "", "action.inputSchema"},
		{"action invalid output schema", "POST", "/v1/actions", adminKey, "", `{"action":{"appId":"` + appID + `","actionKey":"a","displayName":"A","inputSchema":{},"outputSchema":{"properties":5}}}`, 400, "", "action.outputSchema"},
		{"action unknown implemented method", "POST", "/v1/actions", adminKey, "", `{"action":{"appId":"` + appID + `","actionKey":"a","displayName":"A","inputSchema":{},"implementedMethods":{"teleport":true}}}`, 400, "", "action.implementedMethods"},
		{"action implementedMethods not an object", "POST", "/v1/actions", adminKey, "", `{"action":{"appId":"` + appID + `","actionKey":"a","displayName":"A","inputSchema":{},"implementedMethods":"getQuotaInfo"}}`, 400, "", "action.implementedMethods"},
		{"trigger declares an action method", "POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"` + appID + `","triggerKey":"k","displayName":"K","payloadDataSchema":{},"implementedMethods":["getQuotaInfo"]}}`, 400, "", "trigger.implementedMethods"},
		{"action ui schema not object", "POST", "/v1/actions", adminKey, "", `{"action":{"appId":"` + appID + `","actionKey":"a","displayName":"A","inputSchema":{},"uiSchema":[1]}}`, 400, "", "action.uiSchema"},
		{"installation without site", "POST", "/v1/installations", adminKey, "", `{"appId":"` + appID + `"}`, 400, "SITE_REQUIRED", ""},
		{"installation unknown app", "POST", "/v1/installations", "OWNER_A", "", `{"appId":"` + missingID + `"}`, 404, "APP_NOT_FOUND", ""},
		{"installation by app", "POST", "/v1/installations", "APP_A", "", `{"appId":"` + appID + `"}`, 403, "OWNER_REQUIRED", ""},
		{"installation bad site header", "POST", "/v1/installations", adminKey, "nope", `{"appId":"` + appID + `"}`, 400, "", "wix-site-id"},
		{"key for other site header", "POST", "/v1/installations", "OWNER_A", siteB, `{"appId":"` + appID + `"}`, 403, "SITE_MISMATCH", ""},
		{"api key by owner", "POST", "/v1/api-keys", "OWNER_A", "", `{"apiKey":{"siteId":"` + siteA + `","name":"x"}}`, 403, "ADMIN_REQUIRED", ""},
		{"api key bad site", "POST", "/v1/api-keys", adminKey, "", `{"apiKey":{"siteId":"x","name":"x"}}`, 400, "", "apiKey.siteId"},
		{"api key unknown app", "POST", "/v1/api-keys", adminKey, "", `{"apiKey":{"siteId":"` + siteA + `","appId":"` + missingID + `","name":"x"}}`, 404, "APP_NOT_FOUND", ""},
		{"automation empty name", "POST", "/v2/automations", "OWNER_A", "", `{"automation":{"name":"","origin":"USER","configuration":{"status":"ACTIVE","trigger":{"appId":"` + appID + `","triggerKey":"t"},"rootActionIds":[],"actions":{}}}}`, 400, "", "automation.name"},
		{"automation missing", "POST", "/v2/automations", "OWNER_A", "", `{}`, 400, "", "automation"},
		{"automation bad status", "POST", "/automations-service/v2/automations", "OWNER_A", "", strings.Replace(validAutomation, `"ACTIVE"`, `"ON"`, 1), 400, "", "automation.configuration.status"},
		{"automation dangling root", "POST", "/v2/automations", "OWNER_A", "", strings.Replace(validAutomation, `"rootActionIds":["cccccccc`, `"rootActionIds":["dddddddd`, 1), 400, "", "automation.configuration.rootActionIds[0]"},
		{"automation no site", "POST", "/v2/automations", adminKey, "", validAutomation, 400, "SITE_REQUIRED", ""},
		{"get automation bad id", "GET", "/v2/automations/nope", "OWNER_A", "", ``, 400, "", "automationId"},
		{"get automation missing", "GET", "/v2/automations/" + missingID, "OWNER_A", "", ``, 404, "AUTOMATION_NOT_FOUND", ""},
		{"report by owner", "POST", "/automations/v1/events/report", "OWNER_A", "", `{"triggerKey":"form_submitted","payload":{"email":"a"}}`, 403, "APP_IDENTITY_REQUIRED", ""},
		{"report no trigger key", "POST", "/automations/v1/events/report", "APP_A", "", `{"payload":{"email":"a"}}`, 400, "", "triggerKey"},
		{"report unknown trigger", "POST", "/automations/v1/events/report", "APP_A", "", `{"triggerKey":"nope","payload":{}}`, 428, "TRIGGER_NOT_FOUND", ""},
		{"report another app's trigger", "POST", "/automations/v1/events/report", "APP_A", "", `{"triggerKey":"other_event","payload":{}}`, 428, "TRIGGER_NOT_FOUND", ""},
		{"report app not installed", "POST", "/automations/v1/events/report", "OTHER", "", `{"triggerKey":"other_event","payload":{}}`, 428, "APP_NOT_INSTALLED", ""},
		{"report schema violation", "POST", "/automations/v1/events/report", "APP_A", "", `{"triggerKey":"form_submitted","payload":{"email":"a","count":"x"}}`, 400, "", "payload.count"},
		{"report missing required", "POST", "/automations/v1/events/report", "APP_A", "", `{"triggerKey":"form_submitted","payload":{}}`, 400, "", "payload.email"},
		{"report bad key name", "POST", "/automations/v1/events/report", "APP_A", "", `{"triggerKey":"form_submitted","payload":{"email":"a","_x":1}}`, 400, "", "payload._x"},
		{"report nested object", "POST", "/automations/v1/events/report", "APP_A", "", `{"triggerKey":"form_submitted","payload":{"email":"a","o":{"a":1}}}`, 400, "", "payload.o"},
		{"report bad entity id", "POST", "/automations/v1/events/report", "APP_A", "", `{"triggerKey":"form_submitted","payload":{"email":"a"},"externalEntityId":"x"}`, 400, "", "externalEntityId"},
		{"activation log bad id", "GET", "/v2/activation-logs/nope", "OWNER_A", "", ``, 400, "", "activationId"},
		{"activation log missing", "GET", "/v2/activation-logs/" + missingID, "OWNER_A", "", ``, 404, "ACTIVATION_NOT_FOUND", ""},
		{"action logs without id", "GET", "/v2/activation-action-logs", "OWNER_A", "", ``, 400, "", "activationId"},
		{"update without revision", "PATCH", "/v2/automations/" + missingID, "OWNER_A", "", `{"automation":{"name":"x"}}`, 400, "", "automation.revision"},
		{"update missing automation", "PATCH", "/v2/automations/" + missingID, "OWNER_A", "", `{"automation":{"revision":"1"}}`, 404, "AUTOMATION_NOT_FOUND", ""},
		{"delete bad id", "DELETE", "/v2/automations/nope", "OWNER_A", "", ``, 400, "", "automationId"},
		{"bulk delete empty", "POST", "/v2/bulk/automations/delete", "OWNER_A", "", `{"automationIds":[]}`, 400, "", "automationIds"},
		{"query unknown field", "POST", "/v2/automations/query", "OWNER_A", "", `{"query":{"filter":{"color":"red"}}}`, 400, "", "query.filter.color"},
		{"query unknown operator", "POST", "/v2/automations/query", "OWNER_A", "", `{"query":{"filter":{"name":{"$regex":"a"}}}}`, 400, "", "query.filter.name"},
		{"query limit too large", "POST", "/v2/automations/query", "OWNER_A", "", `{"query":{"cursorPaging":{"limit":501}}}`, 400, "", "query.cursorPaging.limit"},
		{"validate without automation", "POST", "/v2/automations/validate", "OWNER_A", "", `{}`, 400, "", "automation"},
		{"revision bad number", "GET", "/v1/automation-revisions/" + missingID + "?revision=x", "OWNER_A", "", ``, 404, "AUTOMATION_NOT_FOUND", ""},
		{"bulk report without events", "POST", "/automations/v1/events/bulk-report", "APP_A", "", `{"triggerKey":"form_submitted","eventsInfo":[]}`, 400, "", "eventsInfo"},
		{"idempotency key too long", "POST", "/automations/v1/events/report", "APP_A", "", `{"triggerKey":"form_submitted","payload":{"email":"a"},"idempotency":{"key":"` + strings.Repeat("k", 81) + `"}}`, 400, "", "idempotency.key"},
		{"idempotency bad ttl", "POST", "/automations/v1/events/report", "APP_A", "", `{"triggerKey":"form_submitted","payload":{"email":"a"},"idempotency":{"key":"k","ttlInMilliseconds":"-5"}}`, 400, "", "idempotency.ttlInMilliseconds"},
		{"cancel bad entity", "POST", "/automations/v1/events/cancel", "APP_A", "", `{"triggerKey":"form_submitted","externalEntityId":"x"}`, 400, "", "externalEntityId"},
		{"cancel by owner", "POST", "/automations/v1/events/cancel", "OWNER_A", "", `{"triggerKey":"form_submitted","externalEntityId":"` + missingID + `"}`, 403, "APP_IDENTITY_REQUIRED", ""},
		{"completion bad status", "POST", "/automations_runtime/v1/report-action-invocation-completed", "APP_A", "", `{"invocationToken":"t","status":"DONE"}`, 400, "", "status"},
		{"completion unknown token", "POST", "/automations_runtime/v1/report-action-invocation-completed", "APP_A", "", `{"invocationToken":"t","status":"SUCCESS"}`, 404, "INVOCATION_NOT_FOUND", ""},
		{"test run bad identifier", "POST", "/automations/v1/events/test-automation", "OWNER_A", "", `{"identifierType":"PREINSTALLED"}`, 400, "", "identifierType"},
		{"test run missing automation", "POST", "/automations/v1/events/test-automation", "OWNER_A", "", `{"automationIdentifier":{"automationId":"` + missingID + `"}}`, 404, "AUTOMATION_NOT_FOUND", ""},
		{"rerun missing activation", "POST", "/automations/v1/activations/" + missingID + "/rerun", "OWNER_A", "", ``, 404, "ACTIVATION_NOT_FOUND", ""},
		{"activation list bad limit", "GET", "/v2/activation-logs?cursorPaging.limit=0", "OWNER_A", "", ``, 400, "", "cursorPaging.limit"},
		{"activation list bad cursor", "GET", "/v2/activation-logs?cursorPaging.cursor=zz", "OWNER_A", "", ``, 400, "", "cursorPaging.cursor"},
		{"automation claims PREINSTALLED", "POST", "/v2/automations", "OWNER_A", "", strings.Replace(validAutomation, `"USER"`, `"PREINSTALLED"`, 1), 400, "INVALID_ORIGIN_TYPE", ""},
		{"automation user claims APPLICATION", "POST", "/v2/automations", "OWNER_A", "", strings.Replace(validAutomation, `"USER"`, `"APPLICATION"`, 1), 403, "INVALID_ORIGIN_TYPE", ""},
		{"draft claims PREINSTALLED", "POST", "/v2/automations/drafts", "OWNER_A", "", `{"automation":{"name":"d","origin":"PREINSTALLED","preinstalledInfo":{"appId":"` + appID + `","componentId":"` + missingID + `","componentVersion":1}}}`, 400, "INVALID_ORIGIN_TYPE", ""},
		{"draft user claims APPLICATION", "POST", "/v2/automations/drafts", "OWNER_A", "", `{"automation":{"name":"d","origin":"APPLICATION","applicationInfo":{"appId":"` + otherApp + `"}}}`, 403, "INVALID_ORIGIN_TYPE", ""},
		{"draft app poses as another", "POST", "/v2/automations/drafts", "APP_A", "", `{"automation":{"name":"d","applicationInfo":{"appId":"` + otherApp + `"}}}`, 403, "APP_MISMATCH", ""},
		{"preinstalled by owner", "POST", "/v2/preinstalled-automation", "OWNER_A", "", preinstalledAutomation, 403, "APP_REQUIRED", ""},
		{"preinstalled admin names no app", "POST", "/v2/preinstalled-automation", adminKey, "", preinstalledAutomation, 400, "", "appId"},
		{"preinstalled admin unknown app", "POST", "/v2/preinstalled-automation", adminKey, "", strings.Replace(preinstalledAutomation, `{"automation"`, `{"appId":"`+missingID+`","automation"`, 1), 404, "APP_NOT_FOUND", ""},
		{"preinstalled for another app", "POST", "/v2/preinstalled-automation", "APP_A", "", strings.Replace(preinstalledAutomation, `{"automation"`, `{"appId":"`+otherApp+`","automation"`, 1), 403, "APP_MISMATCH", ""},
		{"preinstalled wrong origin", "POST", "/v2/preinstalled-automation", "APP_A", "", strings.Replace(preinstalledAutomation, `"name":"n"`, `"name":"n","origin":"USER"`, 1), 400, "INVALID_ORIGIN_TYPE", ""},
		{"preinstalled bad component", "POST", "/v2/preinstalled-automation", "APP_A", "", strings.Replace(preinstalledAutomation, `"name":"n"`, `"name":"n","preinstalledInfo":{"componentId":"x"}`, 1), 400, "", "automation.preinstalledInfo.componentId"},
		{"preinstalled empty name", "POST", "/v2/preinstalled-automation", "APP_A", "", strings.Replace(preinstalledAutomation, `"name":"n"`, `"name":""`, 1), 400, "", "automation.name"},
		{"preinstalled update no component", "PATCH", "/v2/preinstalled-automation", "APP_A", "", `{"automation":{"name":"x"}}`, 400, "", "automation.preinstalledInfo.componentId"},
		{"preinstalled update no version", "PATCH", "/v2/preinstalled-automation", "APP_A", "", `{"automation":{"preinstalledInfo":{"componentId":"` + missingID + `"}}}`, 400, "", "automation.preinstalledInfo.componentVersion"},
		{"preinstalled update missing", "PATCH", "/automations-service/v2/preinstalled-automation", "APP_A", "", `{"automation":{"preinstalledInfo":{"componentId":"` + missingID + `","componentVersion":2}}}`, 404, "AUTOMATION_NOT_FOUND", ""},
		{"preinstalled delete bad id", "DELETE", "/v2/preinstalled-automation/nope", "APP_A", "", ``, 400, "", "componentId"},
		{"preinstalled delete missing", "DELETE", "/v2/preinstalled-automation/" + missingID, "APP_A", "", ``, 404, "AUTOMATION_NOT_FOUND", ""},
		{"preinstalled query unknown field", "POST", "/v2/preinstalled-automations/query", "APP_A", "", `{"query":{"filter":{"color":"red"}}}`, 400, "", "query.filter.color"},
		{"preinstalled query by owner", "POST", "/v2/preinstalled-automations/query", "OWNER_A", "", `{"query":{}}`, 403, "APP_REQUIRED", ""},
		{"list apps without key", "GET", "/v1/apps", "", "", ``, 401, "UNAUTHENTICATED", ""},
		{"list apps bad limit", "GET", "/v1/apps?cursorPaging.limit=x", "OWNER_A", "", ``, 400, "", "cursorPaging.limit"},
		{"list apps limit too large", "GET", "/v1/apps?cursorPaging.limit=501", "OWNER_A", "", ``, 400, "", "cursorPaging.limit"},
		{"list apps bad cursor", "GET", "/v1/apps?cursorPaging.cursor=zz", "OWNER_A", "", ``, 400, "", "cursorPaging.cursor"},
		{"get app bad id", "GET", "/v1/apps/nope", "OWNER_A", "", ``, 400, "", "appId"},
		{"get app missing", "GET", "/v1/apps/" + missingID, "OWNER_A", "", ``, 404, "APP_NOT_FOUND", ""},
		{"triggers query unknown field", "POST", "/v1/triggers/query", "OWNER_A", "", `{"query":{"filter":{"color":"red"}}}`, 400, "", "query.filter.color"},
		{"triggers query unsupported operator", "POST", "/v1/triggers/query", "OWNER_A", "", `{"query":{"filter":{"triggerKey":{"$contains":"x"}}}}`, 400, "", "query.filter.triggerKey"},
		{"triggers query unknown operator", "POST", "/v1/triggers/query", "APP_A", "", `{"query":{"filter":{"appId":{"$regex":"a"}}}}`, 400, "", "query.filter.appId"},
		{"triggers query by id", "POST", "/v1/triggers/query", "OWNER_A", "", `{"query":{"filter":{"id":"x"}}}`, 400, "", "query.filter.id"},
		{"actions query unsortable field", "POST", "/v1/actions/query", "OWNER_A", "", `{"query":{"sort":[{"fieldName":"inputSchema"}]}}`, 400, "", "query.sort[0].fieldName"},
		{"actions query limit too large", "POST", "/v1/actions/query", "OWNER_A", "", `{"query":{"cursorPaging":{"limit":501}}}`, 400, "", "query.cursorPaging.limit"},
		{"actions query malformed", "POST", "/v1/actions/query", "OWNER_A", "", `{"query":`, 400, "MALFORMED_JSON", ""},
		{"actions query filter too deep", "POST", "/v1/actions/query", "OWNER_A", "", `{"query":{"filter":{"$and":[{"$or":[{"$and":[{"actionKey":"a"}]}]}]}}}`, 400, "", "query.filter"},
		{"system app trigger write", "POST", "/v1/triggers", adminKey, "", `{"trigger":{"appId":"` + systemapp.AppID + `","triggerKey":"contact_updated","displayName":"K","payloadDataSchema":{}}}`, 403, "SYSTEM_APP_READ_ONLY", ""},
		{"system app action write", "POST", "/v1/actions", adminKey, "", `{"action":{"appId":"` + systemapp.AppID + `","actionKey":"webhook","displayName":"A","inputSchema":{}}}`, 403, "SYSTEM_APP_READ_ONLY", ""},
		{"system app api key", "POST", "/v1/api-keys", adminKey, "", `{"apiKey":{"siteId":"` + siteA + `","appId":"` + systemapp.AppID + `","name":"x"}}`, 403, "SYSTEM_APP_READ_ONLY", ""},
		{"app bad request format", "POST", "/v1/apps", adminKey, "", `{"app":{"name":"n","requestFormat":"XML"}}`, 400, "", "app.requestFormat"},
		{"rotate by owner", "POST", "/v1/apps/" + appID + "/rotate-signing-secret", "OWNER_A", "", ``, 403, "NOT_APP_OWNER", ""},
		{"rotate by another app", "POST", "/v1/apps/" + appID + "/rotate-signing-secret", "OTHER", "", ``, 403, "NOT_APP_OWNER", ""},
		{"rotate bad app id", "POST", "/v1/apps/nope/rotate-signing-secret", adminKey, "", ``, 400, "", "appId"},
		{"rotate unknown app", "POST", "/v1/apps/" + missingID + "/rotate-signing-secret", adminKey, "", ``, 404, "APP_NOT_FOUND", ""},
		{"rotate without key", "POST", "/v1/apps/" + appID + "/rotate-signing-secret", "", "", ``, 401, "UNAUTHENTICATED", ""},
		{"public key without key", "GET", "/v1/platform/public-key", "", "", ``, 401, "UNAUTHENTICATED", ""},
		{"public key wrong method", "POST", "/v1/platform/public-key", "OWNER_A", "", `{}`, 405, "METHOD_NOT_ALLOWED", ""},
		{"unknown route", "GET", "/v9/nothing", "OWNER_A", "", ``, 404, "ROUTE_NOT_FOUND", ""},
		{"wrong method", "DELETE", "/v1/apps", adminKey, "", ``, 405, "METHOD_NOT_ALLOWED", ""},
		{"contact missing body field", "POST", "/v1/contacts", "OWNER_A", "", `{}`, 400, "", "contact"},
		{"contact bad email", "POST", "/v1/contacts", "OWNER_A", "", `{"contact":{"email":"ada"}}`, 400, "", "contact.email"},
		{"contact email not a string", "POST", "/v1/contacts", "OWNER_A", "", `{"contact":{"email":5}}`, 400, "", "contact.email"},
		{"contact first name too long", "POST", "/v1/contacts", "OWNER_A", "", `{"contact":{"name":{"first":"` + strings.Repeat("x", 101) + `"}}}`, 400, "", "contact.name.first"},
		{"contact attributes not an object", "POST", "/v1/contacts", "OWNER_A", "", `{"contact":{"attributes":[1]}}`, 400, "", "contact.attributes"},
		{"contact without site", "POST", "/v1/contacts", adminKey, "", `{"contact":{}}`, 400, "SITE_REQUIRED", ""},
		{"get contact bad id", "GET", "/v1/contacts/nope", "OWNER_A", "", ``, 400, "", "contactId"},
		{"get contact missing", "GET", "/v1/contacts/" + missingID, "OWNER_A", "", ``, 404, "CONTACT_NOT_FOUND", ""},
		{"update contact without revision", "PATCH", "/v1/contacts/{contact}", "OWNER_A", "", `{"contact":{"email":"b@example.com"}}`, 400, "", "revision"},
		{"update contact stale revision", "PATCH", "/v1/contacts/{contact}", "OWNER_A", "", `{"contact":{"email":"b@example.com"},"revision":"7"}`, 409, "REVISION_MISMATCH", ""},
		{"update contact bad phone", "PATCH", "/v1/contacts/{contact}", "OWNER_A", "", `{"contact":{"phone":"call me"},"revision":"1"}`, 400, "", "contact.phone"},
		{"update contact missing", "PATCH", "/v1/contacts/" + missingID, "OWNER_A", "", `{"contact":{},"revision":"1"}`, 404, "CONTACT_NOT_FOUND", ""},
		{"delete contact missing", "DELETE", "/v1/contacts/" + missingID, "OWNER_A", "", ``, 404, "CONTACT_NOT_FOUND", ""},
		{"query contacts unknown field", "POST", "/v1/contacts/query", "OWNER_A", "", `{"query":{"filter":{"color":"red"}}}`, 400, "", "query.filter.color"},
		{"query contacts bad sort", "POST", "/v1/contacts/query", "OWNER_A", "", `{"query":{"sort":[{"fieldName":"attributes"}]}}`, 400, "", "query.sort[0].fieldName"},
		// Piggy paths answer in Piggy's shape: code is "PIGGY:<code>".
		{"piggy list no key", "GET", "/api/v3/oauth/clients/automations", "", "", ``, 401, "PIGGY:401", ""},
		{"piggy list unknown key", "GET", "/api/v3/oauth/clients/automations", "Bearer sy_nope", "", ``, 401, "PIGGY:401", ""},
		{"piggy run unknown key", "POST", "/api/v3/oauth/clients/automations/runs", "Bearer sy_nope", "", `{}`, 401, "PIGGY:401", ""},
		{"piggy run malformed json", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "", `{"contact_uuid":`, 422, "PIGGY:1003", ""},
		{"piggy run missing fields", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "", `{}`, 422, "PIGGY:1003", "contact_uuid"},
		{"piggy run bad automation uuid", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "", `{"contact_uuid":"{contact}","automation_uuid":"x"}`, 422, "PIGGY:1003", "automation_uuid"},
		{"piggy run data a string", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "", `{"contact_uuid":"{contact}","automation_uuid":"{automation}","data":"x"}`, 422, "PIGGY:1003", "data"},
		{"piggy run data a list", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "", `{"contact_uuid":"{contact}","automation_uuid":"{automation}","data":[1]}`, 422, "PIGGY:1003", "data"},
		{"piggy run unknown contact", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "", `{"contact_uuid":"` + missingID + `","automation_uuid":"{automation}"}`, 404, "PIGGY:55031", ""},
		{"piggy run unknown automation", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "", `{"contact_uuid":"{contact}","automation_uuid":"` + missingID + `"}`, 404, "PIGGY:60013", ""},
		{"piggy run not contact_updated", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "", `{"contact_uuid":"{contact}","automation_uuid":"{automation}"}`, 422, "PIGGY:1003", "automation_uuid"},
		{"piggy run bad form", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "form", `contact_uuid=%zz`, 422, "PIGGY:1003", "body"},
		{"piggy run too large", "POST", "/api/v3/oauth/clients/automations/runs", "BEARER_A", "", `{"data":{"x":"` + strings.Repeat("x", 70<<10) + `"}}`, 413, "PIGGY:413", ""},
		{"piggy wrong method", "DELETE", "/api/v3/oauth/clients/automations", "BEARER_A", "", ``, 405, "PIGGY:405", ""},
		{"piggy unknown path", "GET", "/api/v3/oauth/clients/nothing", "BEARER_A", "", ``, 404, "PIGGY:404", ""},
	}
	keys := map[string]string{"OWNER_A": f.ownerA, "APP_A": f.appKeyA, "OTHER": f.otherKey, "BEARER_A": "Bearer " + f.ownerA}
	f.mustOK("POST", "/v1/installations", f.ownerA, "", `{"appId":"`+appID+`"}`)
	contactID, automationID := f.piggySetup()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if k, ok := keys[key]; ok {
				key = k
			}
			fill := strings.NewReplacer("{contact}", contactID, "{automation}", automationID)
			path, reqBody := fill.Replace(tc.path), fill.Replace(tc.body)
			var code int
			var body []byte
			if tc.site == "form" {
				code, body = f.doForm(tc.method, path, key, reqBody)
			} else {
				code, body = f.do(tc.method, path, key, tc.site, reqBody)
			}
			if code != tc.status {
				t.Fatalf("status = %d, want %d; body %s", code, tc.status, body)
			}
			if piggyCode, ok := strings.CutPrefix(tc.code, "PIGGY:"); ok {
				checkPiggyError(t, body, code, piggyCode, tc.field)
				return
			}
			var e struct {
				Message string
				Details struct {
					ApplicationError *struct{ Code, Description string }
					ValidationError  *struct {
						FieldViolations []struct{ Field, Description string }
					}
				}
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Message == "" {
				t.Fatalf("not a Wix error body: %s", body)
			}
			if tc.field != "" {
				if e.Details.ValidationError == nil || len(e.Details.ValidationError.FieldViolations) == 0 ||
					e.Details.ValidationError.FieldViolations[0].Field != tc.field {
					t.Fatalf("want validationError on %q; body %s", tc.field, body)
				}
				return
			}
			if e.Details.ApplicationError == nil || e.Details.ApplicationError.Code != tc.code {
				t.Fatalf("want applicationError %q; body %s", tc.code, body)
			}
		})
	}
}

// TestTenantIsolation: one site's owner can neither read the other's automations nor its run logs.
func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	var created struct{ Automation struct{ ID string } }
	json.Unmarshal(f.mustOK("POST", "/v2/automations", f.ownerA, "", validAutomation), &created)
	if code, _ := f.do("GET", "/v2/automations/"+created.Automation.ID, f.ownerB, "", ""); code != 404 {
		t.Fatalf("site B read site A's automation: %d", code)
	}
	if code, _ := f.do("GET", "/v2/automations/"+created.Automation.ID, adminKey, siteB, ""); code != 404 {
		t.Fatalf("admin on site B read site A's automation: %d", code)
	}
	f.mustOK("GET", "/v2/automations/"+created.Automation.ID, adminKey, siteA, "")
	f.mustOK("POST", "/v1/installations", f.ownerA, "", `{"appId":"`+appID+`"}`)
	var rep struct{ ActivationIDs []string }
	json.Unmarshal(f.mustOK("POST", "/automations/v1/events/report", f.appKeyA, "", `{"triggerKey":"form_submitted","payload":{"email":"e"}}`), &rep)
	if len(rep.ActivationIDs) != 1 {
		t.Fatalf("activationIds = %v", rep.ActivationIDs)
	}
	if code, _ := f.do("GET", "/v2/activation-logs/"+rep.ActivationIDs[0], f.ownerB, "", ""); code != 404 {
		t.Fatalf("site B read site A's activation: %d", code)
	}
	if code, _ := f.do("GET", "/v2/activation-action-logs?activationId="+rep.ActivationIDs[0], f.ownerB, "", ""); code != 404 {
		t.Fatalf("site B read site A's action logs: %d", code)
	}
	f.mustOK("GET", "/v2/activation-logs/"+rep.ActivationIDs[0], f.ownerA, "", "")

	// Every other endpoint that names an automation or an activation: site B gets 404, never A's data.
	id, act := created.Automation.ID, rep.ActivationIDs[0]
	for _, tc := range []struct{ method, path, body string }{
		{"PATCH", "/v2/automations/" + id, `{"automation":{"revision":"1","name":"stolen"}}`},
		{"DELETE", "/v2/automations/" + id, ``},
		{"POST", "/v2/automations/" + id + "/validate", `{}`},
		{"GET", "/v2/automations/schema/" + id + "/cccccccc-cccc-4ccc-8ccc-cccccccccccc", ``},
		{"GET", "/v1/automation-revisions/" + id + "?revision=1", ``},
		{"POST", "/automations/v1/events/test-automation", `{"identifierType":"AUTOMATION","automationIdentifier":{"automationId":"` + id + `"},"payload":{"email":"e"}}`},
		{"POST", "/automations/v1/activations/" + act + "/rerun", `{}`},
	} {
		if code, body := f.do(tc.method, tc.path, f.ownerB, "", tc.body); code != 404 {
			t.Errorf("site B %s %s: %d %s", tc.method, tc.path, code, body)
		}
	}
	if code, body := f.do("POST", "/v2/bulk/automations/delete", f.ownerB, "", `{"automationIds":["`+id+`"]}`); code != 200 ||
		!strings.Contains(string(body), `"totalFailures":1`) {
		t.Errorf("site B bulk delete: %d %s", code, body)
	}
	var q struct{ Automations []any }
	json.Unmarshal(f.mustOK("POST", "/v2/automations/query", f.ownerB, "", `{"query":{}}`), &q)
	if len(q.Automations) != 0 {
		t.Errorf("site B's query returned site A's automations: %v", q.Automations)
	}
	var l struct{ ActivationLogs []any }
	json.Unmarshal(f.mustOK("GET", "/v2/activation-logs", f.ownerB, "", ""), &l)
	if len(l.ActivationLogs) != 0 {
		t.Errorf("site B's activation list shows site A's: %v", l.ActivationLogs)
	}
	// An app's preinstalled automations are its own: another app neither lists, updates nor deletes them,
	// and a site that did not install the app does not see them.
	var pre struct {
		Automation struct {
			ID               string
			PreinstalledInfo struct{ ComponentID string }
		}
	}
	json.Unmarshal(f.mustOK("POST", "/v2/preinstalled-automation", f.appKeyA, "", preinstalledAutomation), &pre)
	comp := pre.Automation.PreinstalledInfo.ComponentID
	var oq struct{ Automations []any }
	json.Unmarshal(f.mustOK("POST", "/v2/preinstalled-automations/query", f.otherKey, "", `{"query":{}}`), &oq)
	if len(oq.Automations) != 0 {
		t.Errorf("another app lists app A's preinstalled automations: %v", oq.Automations)
	}
	if code, body := f.do("PATCH", "/v2/preinstalled-automation", f.otherKey, "", `{"automation":{"name":"stolen","preinstalledInfo":{"componentId":"`+comp+`","componentVersion":9}}}`); code != 404 {
		t.Errorf("another app updated app A's component: %d %s", code, body)
	}
	if code, body := f.do("DELETE", "/v2/preinstalled-automation/"+comp, f.otherKey, "", ""); code != 404 {
		t.Errorf("another app deleted app A's component: %d %s", code, body)
	}
	if code, _ := f.do("GET", "/v2/automations/"+pre.Automation.ID, f.ownerB, "", ""); code != 404 {
		t.Errorf("site B (app not installed) reads app A's preinstalled automation: %d", code)
	}
	f.mustOK("GET", "/v2/automations/"+pre.Automation.ID, f.ownerA, "", "")

	// The catalog is shared by every site and holds no site data: both owners read the same answers,
	// and nothing in them names site A or its installation.
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v1/apps", ``},
		{"GET", "/v1/apps/" + appID, ``},
		{"POST", "/v1/triggers/query", `{"query":{}}`},
		{"POST", "/v1/actions/query", `{"query":{}}`},
	} {
		a := f.mustOK(tc.method, tc.path, f.ownerA, "", tc.body)
		b := f.mustOK(tc.method, tc.path, f.ownerB, "", tc.body)
		if string(a) != string(b) {
			t.Errorf("%s %s differs between sites:\nA %s\nB %s", tc.method, tc.path, a, b)
		}
		if strings.Contains(string(a), siteA) || strings.Contains(string(a), "installation") {
			t.Errorf("%s %s shows site data: %s", tc.method, tc.path, a)
		}
	}
	// Site B's owner and another app cannot rotate the app's signing secret; the app itself can, from
	// any site it is keyed on.
	for _, key := range []string{f.ownerB, f.ownerA, f.otherKey} {
		if code, body := f.do("POST", "/v1/apps/"+appID+"/rotate-signing-secret", key, "", ""); code != 403 {
			t.Errorf("rotation by a non-owner: %d %s", code, body)
		}
	}
	f.mustOK("POST", "/v1/apps/"+appID+"/rotate-signing-secret", f.appKeyA, "", "")
	// Site A's automation is untouched.
	var got struct {
		Automation struct{ Name, Revision string }
	}
	json.Unmarshal(f.mustOK("GET", "/v2/automations/"+id, f.ownerA, "", ""), &got)
	if got.Automation.Name != "n" || got.Automation.Revision != "1" {
		t.Errorf("site A's automation changed: %+v", got.Automation)
	}

	// Contacts and the Piggy surface: site B never reaches site A's contacts or automations.
	contactA, piggyAutoA := f.piggySetup()
	var own struct{ Contact struct{ ID string } }
	json.Unmarshal(f.mustOK("POST", "/v1/contacts", f.ownerB, "", `{"contact":{"email":"b@example.com"}}`), &own)
	for _, tc := range []struct {
		method, path, body string
		status             int
		piggyCode          string // Piggy's error code, for Piggy paths
	}{
		{"GET", "/v1/contacts/" + contactA, ``, 404, ""},
		{"PATCH", "/v1/contacts/" + contactA, `{"contact":{"email":"stolen@example.com"},"revision":"1"}`, 404, ""},
		{"DELETE", "/v1/contacts/" + contactA, ``, 404, ""},
		{"POST", "/api/v3/oauth/clients/automations/runs", `{"contact_uuid":"` + contactA + `","automation_uuid":"` + piggyAutoA + `"}`, 404, "55031"},
		{"POST", "/api/v3/oauth/clients/automations/runs", `{"contact_uuid":"` + own.Contact.ID + `","automation_uuid":"` + piggyAutoA + `"}`, 404, "60013"},
	} {
		key := f.ownerB
		if tc.piggyCode != "" {
			key = "Bearer " + f.ownerB
		}
		code, body := f.do(tc.method, tc.path, key, "", tc.body)
		if code != tc.status || (tc.piggyCode != "" && !strings.Contains(string(body), `"code":`+tc.piggyCode)) {
			t.Errorf("site B %s %s: %d %s", tc.method, tc.path, code, body)
		}
	}
	var cq struct{ Contacts []struct{ ID string } }
	json.Unmarshal(f.mustOK("POST", "/v1/contacts/query", f.ownerB, "", `{"query":{}}`), &cq)
	if len(cq.Contacts) != 1 || cq.Contacts[0].ID != own.Contact.ID {
		t.Errorf("site B's contact query = %+v, want only its own contact", cq.Contacts)
	}
	var pl struct{ Data []struct{ UUID string } }
	json.Unmarshal(f.mustOK("GET", "/api/v3/oauth/clients/automations", "Bearer "+f.ownerB, "", ""), &pl)
	if len(pl.Data) != 0 {
		t.Errorf("site B's Piggy automation list shows site A's: %+v", pl.Data)
	}
	var ca struct {
		Contact struct{ Email, Revision string }
	}
	json.Unmarshal(f.mustOK("GET", "/v1/contacts/"+contactA, f.ownerA, "", ""), &ca)
	if ca.Contact.Email != "ada@example.com" || ca.Contact.Revision != "1" {
		t.Errorf("site A's contact changed: %+v", ca.Contact)
	}
}
