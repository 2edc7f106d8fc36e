package api_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

type pageMeta struct {
	Count   int
	HasNext bool
	Cursors struct{ Next string }
}

// TestCatalogReads: any key reads the catalog; the system app's trigger and action are listed like
// any other app's, and apps show no field beyond the public ones.
func TestCatalogReads(t *testing.T) {
	f := newFixture(t)
	for name, key := range map[string]string{"admin": adminKey, "owner": f.ownerA, "app": f.appKeyA} {
		t.Run("apps as "+name, func(t *testing.T) {
			var out struct {
				Apps           []map[string]any
				PagingMetadata pageMeta
			}
			json.Unmarshal(f.mustOK("GET", "/v1/apps", key, "", ""), &out)
			var ids []string
			for _, a := range out.Apps {
				ids = append(ids, a["id"].(string))
				if keys := slices.Sorted(maps.Keys(a)); !slices.Equal(keys, []string{"createdDate", "id", "name", "providerBaseUri", "updatedDate"}) &&
					!slices.Equal(keys, []string{"createdDate", "id", "name", "updatedDate"}) {
					t.Errorf("app %s shows fields %v", a["id"], keys)
				}
			}
			want := []string{systemapp.AppID, appID, otherApp}
			slices.Sort(want)
			if !slices.Equal(ids, want) || out.PagingMetadata.Count != 3 || out.PagingMetadata.HasNext {
				t.Errorf("apps %v (%+v), want %v", ids, out.PagingMetadata, want)
			}
		})
	}

	t.Run("apps by pages of one", func(t *testing.T) {
		var ids []string
		path := "/v1/apps?cursorPaging.limit=1"
		for range 4 {
			var out struct {
				Apps           []struct{ ID string }
				PagingMetadata pageMeta
			}
			json.Unmarshal(f.mustOK("GET", path, f.ownerB, "", ""), &out)
			for _, a := range out.Apps {
				ids = append(ids, a.ID)
			}
			if !out.PagingMetadata.HasNext {
				break
			}
			path = "/v1/apps?cursorPaging.limit=1&cursorPaging.cursor=" + out.PagingMetadata.Cursors.Next
		}
		if len(ids) != 3 || !slices.IsSorted(ids) {
			t.Errorf("paged apps %v", ids)
		}
	})

	t.Run("the system app", func(t *testing.T) {
		var out struct{ App map[string]any }
		json.Unmarshal(f.mustOK("GET", "/v1/apps/"+systemapp.AppID, f.ownerA, "", ""), &out)
		if out.App["id"] != systemapp.AppID || out.App["name"] != "Switchyard" || out.App["providerBaseUri"] != nil {
			t.Errorf("system app %v", out.App)
		}
	})

	t.Run("its trigger", func(t *testing.T) {
		var out struct {
			Triggers []struct {
				AppID, TriggerKey, DisplayName string
				PayloadDataSchema              json.RawMessage
			}
		}
		json.Unmarshal(f.mustOK("POST", "/v1/triggers/query", f.ownerA, "", `{"query":{"filter":{"appId":"`+systemapp.AppID+`"}}}`), &out)
		if len(out.Triggers) != 1 || out.Triggers[0].TriggerKey != "contact_updated" || out.Triggers[0].DisplayName != "Contact updated" ||
			!strings.Contains(string(out.Triggers[0].PayloadDataSchema), `"identityType":"contact"`) {
			t.Errorf("system triggers %+v", out.Triggers)
		}
	})

	t.Run("its action", func(t *testing.T) {
		var out struct {
			Actions []struct {
				AppID, ActionKey                    string
				InputSchema, UISchema, OutputSchema map[string]any
			}
		}
		json.Unmarshal(f.mustOK("POST", "/v1/actions/query", f.appKeyA, "", `{"query":{"filter":{"actionKey":"webhook"}}}`), &out)
		if len(out.Actions) != 1 || out.Actions[0].AppID != systemapp.AppID || out.Actions[0].InputSchema["required"].([]any)[0] != "url" ||
			out.Actions[0].UISchema == nil || out.Actions[0].OutputSchema["properties"].(map[string]any)["status"] == nil {
			t.Errorf("webhook action %+v", out.Actions)
		}
	})

	t.Run("triggers of every app, sorted and paged", func(t *testing.T) {
		var keys []string
		body := `{"query":{"sort":[{"fieldName":"displayName","order":"DESC"}],"cursorPaging":{"limit":2}}}`
		for range 3 {
			var out struct {
				Triggers       []struct{ TriggerKey string }
				PagingMetadata pageMeta
			}
			json.Unmarshal(f.mustOK("POST", "/v1/triggers/query", f.ownerA, "", body), &out)
			for _, tr := range out.Triggers {
				keys = append(keys, tr.TriggerKey)
			}
			if !out.PagingMetadata.HasNext {
				break
			}
			body = `{"query":{"cursorPaging":{"cursor":"` + out.PagingMetadata.Cursors.Next + `"}}}`
		}
		// displayName DESC: "Other", "Form submitted", "Contact updated".
		if want := []string{"other_event", "form_submitted", "contact_updated"}; !slices.Equal(keys, want) {
			t.Errorf("trigger keys %v, want %v", keys, want)
		}
	})

	t.Run("installing the system app writes nothing and answers", func(t *testing.T) {
		var out struct {
			Installation struct{ SiteID, AppID string }
		}
		json.Unmarshal(f.mustOK("POST", "/v1/installations", f.ownerB, "", `{"appId":"`+systemapp.AppID+`"}`), &out)
		if out.Installation.SiteID != siteB || out.Installation.AppID != systemapp.AppID {
			t.Errorf("installation %+v", out.Installation)
		}
	})
}
