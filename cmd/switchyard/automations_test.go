package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/testprovider"
)

func TestUpdateRevisionsDeactivateAndDelete(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	a := owner.must("POST", "/v2/automations", delayedAutomation("ACTIVE"))["automation"].(map[string]any)
	id := a["id"].(string)
	waiting := report(app, "Hal", "", nil)[0].(string)
	waitFor(t, func() bool {
		return owner.must("GET", "/v2/activation-logs/"+waiting, nil)["activationLog"].(map[string]any)["status"] == "STARTED"
	})

	// The SDK's partial update: only name, with the current revision.
	upd := owner.must("PATCH", "/v2/automations/"+id, map[string]any{"automation": map[string]any{"id": id, "revision": "1", "name": "Renamed"}})["automation"].(map[string]any)
	if upd["revision"] != "2" || upd["name"] != "Renamed" || dig(upd, "configuration.status") != "ACTIVE" || dig(upd, "updatedBy.userId") == nil {
		t.Fatalf("updated = %v", upd)
	}
	var e map[string]any
	if code := owner.call("PATCH", "/v2/automations/"+id, map[string]any{"automation": map[string]any{"revision": "1", "name": "Stale"}}, &e); code != http.StatusConflict ||
		dig(e, "details.applicationError.code") != "REVISION_MISMATCH" {
		t.Fatalf("stale update: %d %v", code, e)
	}
	if code := owner.call("PATCH", "/v2/automations/"+id, map[string]any{"automation": map[string]any{"revision": "2", "origin": "APPLICATION"}}, &e); code != http.StatusBadRequest {
		t.Fatalf("origin change: %d %v", code, e)
	}
	// Prior revisions are kept.
	if old := owner.must("GET", "/v1/automation-revisions/"+id+"?revision=1", nil)["automation"].(map[string]any); old["name"] != "Reminder" {
		t.Fatalf("revision 1 = %v", old)
	}
	// Deactivating with a field mask cancels the pending activation.
	owner.must("PATCH", "/automations-service/v2/automations/"+id, map[string]any{"automation": map[string]any{"id": id, "revision": "2",
		"configuration": map[string]any{"status": "INACTIVE"}}, "fieldMask": "configuration.status"})
	got := owner.must("GET", "/v2/automations/"+id, nil)["automation"].(map[string]any)
	if dig(got, "configuration.status") != "INACTIVE" || got["name"] != "Renamed" || got["revision"] != "3" || dig(got, "configuration.rootActionIds") == nil {
		t.Fatalf("after masked update = %v", got)
	}
	log := owner.must("GET", "/v2/activation-logs/"+waiting, nil)["activationLog"].(map[string]any)
	if log["status"] != "CANCELLED" || dig(log, "cancelledInfo.reason") != "AUTOMATION_DEACTIVATED" {
		t.Fatalf("pending activation after deactivation = %v", log)
	}

	owner.must("DELETE", "/v2/automations/"+id+"?automationId="+id, nil)
	if code := owner.call("GET", "/v2/automations/"+id, nil, &e); code != http.StatusNotFound {
		t.Fatalf("deleted automation still readable: %d", code)
	}
	if code := owner.call("DELETE", "/v2/automations/"+id, nil, &e); code != http.StatusNotFound {
		t.Fatalf("second delete: %d", code)
	}
}

func TestQueryAutomationsPagesWithCursor(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, _ := setupSite(t, base, prov.URL)
	for i := 0; i < 7; i++ {
		a := twoActionAutomation("ACTIVE")
		if i%2 == 1 {
			a = twoActionAutomation("INACTIVE")
		}
		a["automation"].(map[string]any)["name"] = fmt.Sprintf("Welcome %d", i)
		owner.must("POST", "/v2/automations", a)
	}
	owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE")) // "Coupon by SMS": filtered out by name
	body := map[string]any{"query": map[string]any{"filter": map[string]any{"$and": []any{
		map[string]any{"configuration.status": "ACTIVE"}, map[string]any{"name": map[string]any{"$startsWith": "Wel"}}}},
		"cursorPaging": map[string]any{"limit": 3}, "sort": []any{map[string]any{"fieldName": "name", "order": "DESC"}}}}
	var names []string
	for page := 0; page < 5; page++ {
		out := owner.must("POST", "/v2/automations/query", body)
		for _, a := range out["automations"].([]any) {
			names = append(names, a.(map[string]any)["name"].(string))
		}
		if dig(out, "pagingMetadata.hasNext") != true {
			break
		}
		body = map[string]any{"query": map[string]any{"cursorPaging": map[string]any{"cursor": dig(out, "pagingMetadata.cursors.next"), "limit": 3}}}
	}
	want := []string{"Welcome 6", "Welcome 4", "Welcome 2", "Welcome 0"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("names = %v, want %v", names, want)
	}
	var e map[string]any
	if code := owner.call("POST", "/v2/automations/query", map[string]any{"query": map[string]any{"filter": map[string]any{"nope": 1}}}, &e); code != http.StatusBadRequest {
		t.Fatalf("unknown field: %d %v", code, e)
	}
}

func TestValidateAndActionSchema(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, _ := setupSite(t, base, prov.URL)
	good := owner.must("POST", "/v2/automations/validate", twoActionAutomation("ACTIVE"))
	if good["valid"] != true {
		t.Fatalf("valid automation reported %v", good)
	}
	bad := twoActionAutomation("ACTIVE")
	acts := dig(bad, "automation.configuration.actions").(map[string]any)
	acts[actionSend].(map[string]any)["appDefinedInfo"].(map[string]any)["inputMapping"] = map[string]any{"text": `{{var("nowhere")}}`}
	acts[actionLookup].(map[string]any)["appDefinedInfo"].(map[string]any)["inputMapping"] = map[string]any{}
	out := owner.must("POST", "/automations-service/v2/automations/validate", bad)
	if out["valid"] != false {
		t.Fatalf("invalid automation reported valid: %v", out)
	}
	found := map[string]string{}
	for _, info := range out["actionValidationInfo"].([]any) {
		for _, e := range info.(map[string]any)["validationErrors"].([]any) {
			found[info.(map[string]any)["actionId"].(string)] = dig(e, "configurationError.errorType").(string)
		}
	}
	if found[actionLookup] != "MAPPING_MISSING_REQUIRED_FIELD" || found[actionSend] != "MAPPING_VARIABLE_MISSING_FROM_SCHEMA" {
		t.Fatalf("action errors = %v (%v)", found, out)
	}
	id := owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))["automation"].(map[string]any)["id"].(string)
	if v := owner.must("POST", "/v2/automations/"+id+"/validate", map[string]any{"automationId": id}); v["valid"] != true {
		t.Fatalf("validate by id = %v", v)
	}
	sch := owner.must("GET", "/v2/automations/schema/"+id+"/"+actionSend+"?automationId="+id+"&actionId="+actionSend, nil)["schema"]
	if dig(sch, "properties.email.type") != "string" || dig(sch, "properties.lookup_coupon-1.properties.code.type") != "string" {
		t.Fatalf("schema seen by the second action = %v", sch)
	}
}

func TestCopyAutomationIsNotSaved(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, _ := setupSite(t, base, prov.URL)
	id := owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))["automation"].(map[string]any)["id"].(string)
	cp := owner.must("POST", "/v2/automations/"+id+"/copy", map[string]any{"automationId": id})["automation"].(map[string]any)
	if cp["id"] != nil || cp["revision"] != nil || cp["createdDate"] != nil || cp["name"] != "Coupon by SMS" || cp["origin"] != "USER" ||
		dig(cp, "configuration.rootActionIds") == nil {
		t.Fatalf("copy = %v", cp)
	}
	if n := len(owner.must("POST", "/v2/automations/query", map[string]any{"query": map[string]any{}})["automations"].([]any)); n != 1 {
		t.Fatalf("the copy was saved: %d automations", n)
	}
	saved := owner.must("POST", "/v2/automations", map[string]any{"automation": cp})["automation"].(map[string]any)
	if saved["id"] == id || saved["revision"] != "1" {
		t.Fatalf("saving the copy = %v", saved)
	}
	var e map[string]any
	if code := owner.call("POST", "/v2/automations/"+missingAutomation+"/copy", map[string]any{}, &e); code != http.StatusNotFound {
		t.Fatalf("copy of an unknown automation: %d", code)
	}
}

const missingAutomation = "99999999-9999-4999-8999-999999999999"

func TestDraftsLifecycle(t *testing.T) {
	prov := testprovider.Start(t, nil)
	base := startServer(t, t.TempDir(), map[string]string{"SWITCHYARD_ADMIN_KEY": testAdminKey})
	owner, app := setupSite(t, base, prov.URL)
	id := owner.must("POST", "/v2/automations", twoActionAutomation("ACTIVE"))["automation"].(map[string]any)["id"].(string)

	d := owner.must("POST", "/v2/automations/drafts/get-or-create/original-automation-id/"+id, map[string]any{"originalAutomationId": id})["automation"].(map[string]any)
	did := d["id"].(string)
	if did == id || dig(d, "draftInfo.originalAutomationId") != id || d["name"] != "Coupon by SMS" {
		t.Fatalf("draft = %v", d)
	}
	if again := owner.must("POST", "/v2/automations/drafts/get-or-create/original-automation-id/"+id, map[string]any{})["automation"].(map[string]any); again["id"] != did {
		t.Fatalf("get-or-create made a second draft: %v", again["id"])
	}
	owner.must("PATCH", "/v2/automations/drafts/"+did, map[string]any{"automation": map[string]any{"id": did, "name": "Coupon v2"}})
	// Drafts never run and are not queried; query-with-drafts maps the original to its draft.
	if ids := report(app, "Ivo", "", nil); len(ids) != 1 {
		t.Fatalf("a draft started an activation: %v", ids)
	}
	q := owner.must("POST", "/v2/automations/query-with-drafts", map[string]any{"query": map[string]any{}})
	if n := len(q["automations"].([]any)); n != 1 || fmt.Sprint(dig(q, "originalAutomationIdToDrafts."+id+".draftAutomationIds")) != "["+did+"]" {
		t.Fatalf("query-with-drafts = %v", q)
	}
	pub := owner.must("POST", "/v2/automations/drafts/"+did+"/publish", map[string]any{"automationId": did})["automation"].(map[string]any)
	if pub["id"] != id || pub["name"] != "Coupon v2" || pub["revision"] != "2" || pub["draftInfo"] != nil {
		t.Fatalf("published = %v", pub)
	}
	var e map[string]any
	if code := owner.call("GET", "/v2/automations/"+did, nil, &e); code != http.StatusNotFound {
		t.Fatalf("draft still there after publish: %d", code)
	}
	// A new draft without an original publishes as a new automation; a deleted draft is gone.
	nd := owner.must("POST", "/v2/automations/drafts", twoActionAutomation("INACTIVE"))["automation"].(map[string]any)
	created := owner.must("POST", "/v2/automations/drafts/"+nd["id"].(string)+"/publish", map[string]any{})["automation"].(map[string]any)
	if created["id"] == nd["id"] || created["revision"] != "1" || created["draftInfo"] != nil {
		t.Fatalf("published new draft = %v", created)
	}
	gone := owner.must("POST", "/v2/automations/drafts", map[string]any{})["automation"].(map[string]any)["id"].(string)
	owner.must("DELETE", "/v2/automations/drafts/"+gone, nil)
	if code := owner.call("DELETE", "/v2/automations/drafts/"+id, nil, &e); code != http.StatusNotFound {
		t.Fatalf("deleting a live automation as a draft: %d", code)
	}
}
