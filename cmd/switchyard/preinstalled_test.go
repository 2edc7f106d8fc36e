package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
)

const otherSite = "22222222-2222-4222-8222-222222222222"

// preinstalledBody is the app's component: twoActionAutomation's graph, with a trigger override schema.
func preinstalledBody(name string, version int) map[string]any {
	a := twoActionAutomation("ACTIVE")["automation"].(map[string]any)
	delete(a, "origin")
	a["name"] = name
	cfg := a["configuration"].(map[string]any)
	cfg["trigger"].(map[string]any)["overrideSchema"] = map[string]any{"type": "object"}
	a["preinstalledInfo"] = map[string]any{"componentId": "0d6f1c2a-3b4e-4f5a-8b9c-0a1b2c3d4e5f", "componentVersion": version}
	return map[string]any{"automation": a}
}

func TestPreinstalledAutomationsAppearOnInstallingSitesAndOverrides(t *testing.T) {
	prov := testprovider.Start(t, map[string]testprovider.Handler{
		"lookup_coupon": testprovider.Result(map[string]any{"code": "PRE"}),
		"send_sms":      testprovider.Result(map[string]any{}),
	})
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	admin := client{t: t, base: base, key: testAdminKey}
	ownerB := client{t: t, base: base, key: admin.must("POST", "/v1/api-keys", map[string]any{"apiKey": map[string]any{"siteId": otherSite, "name": "owner B"}})["key"].(string)}
	var e map[string]any

	// Only an app (or the admin naming one) manages preinstalled automations.
	if code := owner.call("POST", "/v2/preinstalled-automation", preinstalledBody("Welcome", 1), &e); code != http.StatusForbidden {
		t.Fatalf("site owner creating a preinstalled automation: %d %v", code, e)
	}
	created := app.must("POST", "/v2/preinstalled-automation", preinstalledBody("Welcome", 1))["automation"].(map[string]any)
	id := created["id"].(string)
	if created["origin"] != "PREINSTALLED" || dig(created, "preinstalledInfo.appId") != testApp ||
		dig(created, "preinstalledInfo.componentVersion") != float64(1) || dig(created, "preinstalledInfo.override") != nil {
		t.Fatalf("created = %v", created)
	}
	if dig(created, "configuration.trigger.overrideSchema") != nil {
		t.Fatalf("overrideSchema returned without fields=OVERRIDE_SCHEMA: %v", created)
	}
	if code := app.call("POST", "/v2/preinstalled-automation", preinstalledBody("Again", 1), &e); code != http.StatusConflict {
		t.Fatalf("second create of the component: %d %v", code, e)
	}

	// The installing site sees it — in Get (with the schema when asked), Query, and at run time; another
	// site, without the app, does not.
	got := owner.must("GET", "/v2/automations/"+id+"?fields=OVERRIDE_SCHEMA", nil)["automation"].(map[string]any)
	if got["name"] != "Welcome" || dig(got, "configuration.trigger.overrideSchema.type") != "object" {
		t.Fatalf("site A sees %v", got)
	}
	if names := queryNames(owner); len(names) != 1 || names[0] != "Welcome" {
		t.Fatalf("site A query = %v", names)
	}
	if code := ownerB.call("GET", "/v2/automations/"+id, nil, &e); code != http.StatusNotFound {
		t.Fatalf("site B (app not installed) reads it: %d", code)
	}
	if names := queryNames(ownerB); len(names) != 0 {
		t.Fatalf("site B query = %v", names)
	}
	act := report(app, "Ada", "", nil)
	if len(act) != 1 {
		t.Fatalf("report matched %v, want the preinstalled automation", act)
	}
	if log := owner.waitStatus(act[0].(string), 5*time.Second); log["status"] != "ENDED" || log["automationId"] != id {
		t.Fatalf("run of the preinstalled automation = %v", log)
	}

	// A new version reaches every site that has not overridden it; an older one is refused.
	app.must("PATCH", "/v2/preinstalled-automation", preinstalledBody("Welcome v2", 2))
	if code := app.call("PATCH", "/v2/preinstalled-automation", preinstalledBody("Old", 1), &e); code != http.StatusConflict {
		t.Fatalf("older version: %d %v", code, e)
	}
	cur := owner.must("GET", "/v2/automations/"+id, nil)["automation"].(map[string]any)
	if cur["name"] != "Welcome v2" || cur["revision"] != "2" {
		t.Fatalf("after the app's update the site sees %v", cur)
	}

	// The site's edit becomes an override under the same id, which later versions do not touch.
	ov := owner.must("PATCH", "/v2/automations/"+id, map[string]any{"automation": map[string]any{"revision": "2", "name": "Ours"}})["automation"].(map[string]any)
	if ov["id"] != id || ov["revision"] != "3" || dig(ov, "preinstalledInfo.override") != true || ov["origin"] != "PREINSTALLED" {
		t.Fatalf("override = %v", ov)
	}
	app.must("PATCH", "/v2/preinstalled-automation", preinstalledBody("Welcome v3", 3))
	if names := queryNames(owner); len(names) != 1 || names[0] != "Ours" {
		t.Fatalf("site A query after override and v3 = %v", names)
	}
	if old := owner.must("GET", "/v1/automation-revisions/"+id+"?revision=1", nil)["automation"].(map[string]any); old["name"] != "Welcome" {
		t.Fatalf("revision 1 (the app's) = %v", old)
	}
	// The site's history: the app's revisions before its edit, its own after; app versions published after
	// the site's edit were never the site's.
	app.must("PATCH", "/v2/preinstalled-automation", preinstalledBody("Welcome v4", 4))
	if r3 := owner.must("GET", "/v1/automation-revisions/"+id+"?revision=3", nil)["automation"].(map[string]any); r3["name"] != "Ours" {
		t.Fatalf("revision 3 (the site's override) = %v", r3)
	}
	if code := owner.call("GET", "/v1/automation-revisions/"+id+"?revision=4", nil, &e); code != http.StatusNotFound {
		t.Fatalf("revision 4, an app version the site never had: %d %v", code, e)
	}
	// Deactivating the override stops it running on this site.
	owner.must("PATCH", "/v2/automations/"+id, map[string]any{"automation": map[string]any{"revision": "3",
		"configuration": map[string]any{"status": "INACTIVE"}}, "fieldMask": "configuration.status"})
	if act := report(app, "Bob", "", nil); len(act) != 0 {
		t.Fatalf("inactive override still matched: %v", act)
	}

	// Deleting the override restores the app's version; the app's own version cannot be deleted by a site.
	owner.must("DELETE", "/v2/automations/"+id, nil)
	if cur := owner.must("GET", "/v2/automations/"+id, nil)["automation"].(map[string]any); cur["name"] != "Welcome v4" || dig(cur, "preinstalledInfo.override") != nil {
		t.Fatalf("after deleting the override = %v", cur)
	}
	if code := owner.call("DELETE", "/v2/automations/"+id, nil, &e); code != http.StatusPreconditionRequired ||
		dig(e, "details.applicationError.code") != "PREINSTALLED_AUTOMATION_NOT_DELETABLE" {
		t.Fatalf("deleting the app's version: %d %v", code, e)
	}

	// The app lists its components and deletes one: it leaves every site.
	q := app.must("POST", "/v2/preinstalled-automations/query", map[string]any{"query": map[string]any{}})
	if list := q["automations"].([]any); len(list) != 1 || list[0].(map[string]any)["name"] != "Welcome v4" {
		t.Fatalf("app's query = %v", q)
	}
	app.must("DELETE", "/v2/preinstalled-automation/0d6f1c2a-3b4e-4f5a-8b9c-0a1b2c3d4e5f", nil)
	if code := owner.call("GET", "/v2/automations/"+id, nil, &e); code != http.StatusNotFound {
		t.Fatalf("deleted component still on the site: %d", code)
	}
}

func TestCreateSetsOriginFromTheCaller(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)

	body := twoActionAutomation("INACTIVE")
	delete(body["automation"].(map[string]any), "origin")
	byApp := app.must("POST", "/v2/automations", body)["automation"].(map[string]any)
	if byApp["origin"] != "APPLICATION" || dig(byApp, "applicationInfo.appId") != testApp || dig(byApp, "createdBy.appId") != testApp {
		t.Fatalf("created by the app = %v", byApp)
	}
	byOwner := owner.must("POST", "/v2/automations", body)["automation"].(map[string]any)
	if byOwner["origin"] != "USER" || byOwner["applicationInfo"] != nil {
		t.Fatalf("created by the owner = %v", byOwner)
	}
	for _, tc := range []struct {
		name   string
		caller client
		origin string
		status int
	}{
		{"user claims APPLICATION", owner, "APPLICATION", http.StatusForbidden},
		{"user claims PREINSTALLED", owner, "PREINSTALLED", http.StatusBadRequest},
		{"app claims USER", app, "USER", http.StatusBadRequest},
	} {
		b := twoActionAutomation("INACTIVE")
		b["automation"].(map[string]any)["origin"] = tc.origin
		var e map[string]any
		if code := tc.caller.call("POST", "/v2/automations", b, &e); code != tc.status || dig(e, "details.applicationError.code") != "INVALID_ORIGIN_TYPE" {
			t.Errorf("%s: %d %v", tc.name, code, e)
		}
	}
}

func queryNames(c client) []string {
	out := []string{}
	for _, a := range c.must("POST", "/v2/automations/query", map[string]any{"query": map[string]any{}})["automations"].([]any) {
		out = append(out, a.(map[string]any)["name"].(string))
	}
	return out
}

// TestOverrideSchemasSurviveARoundTrip: a client that fetched without fields=OVERRIDE_SCHEMA and sends the
// automation back keeps the stored override schemas; one that asked for them decides.
func TestOverrideSchemasSurviveARoundTrip(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, _ := setupSite(t, base, prov.URL)
	body := twoActionAutomation("INACTIVE")
	cfg := body["automation"].(map[string]any)["configuration"].(map[string]any)
	cfg["trigger"].(map[string]any)["overrideSchema"] = map[string]any{"type": "object", "title": "kept"}
	cfg["actions"].(map[string]any)[actionLookup].(map[string]any)["appDefinedInfo"].(map[string]any)["overrideOutputSchema"] = map[string]any{"title": "out"}
	id := owner.must("POST", "/v2/automations", body)["automation"].(map[string]any)["id"].(string)

	fetched := owner.must("GET", "/v2/automations/"+id, nil)["automation"].(map[string]any)
	if dig(fetched, "configuration.trigger.overrideSchema") != nil {
		t.Fatalf("overrideSchema served without being asked for: %v", fetched)
	}
	fetched["name"] = "Renamed"
	owner.must("PATCH", "/v2/automations/"+id, map[string]any{"automation": fetched})
	got := owner.must("GET", "/v2/automations/"+id+"?fields=OVERRIDE_SCHEMA", nil)["automation"].(map[string]any)
	if got["name"] != "Renamed" || dig(got, "configuration.trigger.overrideSchema.title") != "kept" ||
		dig(got, "configuration.actions."+actionLookup+".appDefinedInfo.overrideOutputSchema.title") != "out" {
		t.Fatalf("after a round trip without OVERRIDE_SCHEMA = %v", got)
	}

	// Asking for them and leaving the trigger's out removes it.
	delete(got["configuration"].(map[string]any)["trigger"].(map[string]any), "overrideSchema")
	owner.must("PATCH", "/v2/automations/"+id, map[string]any{"automation": got, "fields": []string{"OVERRIDE_SCHEMA"}})
	again := owner.must("GET", "/v2/automations/"+id+"?fields=OVERRIDE_SCHEMA", nil)["automation"].(map[string]any)
	if dig(again, "configuration.trigger.overrideSchema") != nil || dig(again, "configuration.actions."+actionLookup+".appDefinedInfo.overrideOutputSchema.title") != "out" {
		t.Fatalf("after an update that asked for the schemas = %v", again)
	}
}
