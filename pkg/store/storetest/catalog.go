package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

var catalogTests = []test{
	{"Catalog/NotFound", testCatalogNotFound},
	{"Catalog/Conflicts", testCatalogConflicts},
	{"Catalog/App", testApp},
	{"Catalog/PutTriggerUpserts", testPutTrigger},
	{"Catalog/PutActionUpserts", testPutAction},
	{"Catalog/PutInstallationKeepsFirst", testPutInstallation},
	{"Catalog/APIKeyByHash", testAPIKey},
	{"Catalog/Settings", testSettings},
}

// testCatalogNotFound checks every catalog getter on a store holding records that are near misses: same
// key under another app or site, so a store that matches on too little is caught too.
func testCatalogNotFound(t *testing.T, s Store) {
	c := ctx(t)
	must(t, s.CreateApp(c, &catalog.App{ID: appA, Name: "A", CreatedDate: t0, UpdatedDate: t0}))
	must(t, s.PutTrigger(c, &catalog.Trigger{AppID: appA, TriggerKey: "t", PayloadDataSchema: json.RawMessage(`{}`)}))
	must(t, s.PutAction(c, &catalog.Action{AppID: appA, ActionKey: "a", InputSchema: json.RawMessage(`{}`)}))
	_, err := s.PutInstallation(c, &catalog.Installation{SiteID: siteA, AppID: appA, CreatedDate: t0})
	must(t, err)
	must(t, s.CreateAPIKey(c, &access.APIKey{ID: "k1", SiteID: siteA, KeyHash: "h1", CreatedDate: t0}))
	must(t, s.PutSetting(c, "s", "v"))

	for _, tc := range []struct {
		name string
		get  func(context.Context) error
	}{
		{"GetApp", func(c context.Context) error { _, err := s.GetApp(c, appB); return err }},
		{"GetTrigger/otherApp", func(c context.Context) error { _, err := s.GetTrigger(c, appB, "t"); return err }},
		{"GetTrigger/otherKey", func(c context.Context) error { _, err := s.GetTrigger(c, appA, "u"); return err }},
		{"GetAction/otherApp", func(c context.Context) error { _, err := s.GetAction(c, appB, "a"); return err }},
		{"GetAction/otherKey", func(c context.Context) error { _, err := s.GetAction(c, appA, "b"); return err }},
		{"GetAction/triggerKey", func(c context.Context) error { _, err := s.GetAction(c, appA, "t"); return err }},
		{"GetInstallation/otherSite", func(c context.Context) error { _, err := s.GetInstallation(c, siteB, appA); return err }},
		{"GetInstallation/otherApp", func(c context.Context) error { _, err := s.GetInstallation(c, siteA, appB); return err }},
		{"GetAPIKeyByHash", func(c context.Context) error { _, err := s.GetAPIKeyByHash(c, "h2"); return err }},
		{"GetAPIKeyByHash/id", func(c context.Context) error { _, err := s.GetAPIKeyByHash(c, "k1"); return err }},
		{"GetSetting", func(c context.Context) error { _, err := s.GetSetting(c, "other"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.get(ctx(t)), errs.ErrNotFound) })
	}
}

// testCatalogConflicts: creating what exists is errs.ErrConflict, and the losing write changes nothing.
func testCatalogConflicts(t *testing.T, s Store) {
	c := ctx(t)
	must(t, s.CreateApp(c, &catalog.App{ID: appA, Name: "first", CreatedDate: t0, UpdatedDate: t0}))
	must(t, s.CreateAPIKey(c, &access.APIKey{ID: "k1", SiteID: siteA, Name: "first", KeyHash: "h1", CreatedDate: t0}))
	for _, tc := range []struct {
		name   string
		create func(context.Context) error
		check  func(*testing.T)
	}{
		{"CreateApp", func(c context.Context) error {
			return s.CreateApp(c, &catalog.App{ID: appA, Name: "second", CreatedDate: at(1), UpdatedDate: at(1)})
		}, func(t *testing.T) {
			a, err := s.GetApp(ctx(t), appA)
			must(t, err)
			if a.Name != "first" {
				t.Errorf("app name = %q after a failed duplicate create, want first", a.Name)
			}
		}},
		{"CreateAPIKey/sameHash", func(c context.Context) error {
			return s.CreateAPIKey(c, &access.APIKey{ID: "k2", SiteID: siteB, Name: "second", KeyHash: "h1", CreatedDate: at(1)})
		}, func(t *testing.T) {
			k, err := s.GetAPIKeyByHash(ctx(t), "h1")
			must(t, err)
			if k.ID != "k1" || k.Name != "first" {
				t.Errorf("key = %+v after a failed duplicate create, want k1/first", k)
			}
			// The refused key's id must still be free: a store that guards ids separately wrote nothing.
			must(t, s.CreateAPIKey(ctx(t), &access.APIKey{ID: "k2", SiteID: siteB, KeyHash: "h3", CreatedDate: at(2)}))
		}},
		{"CreateAPIKey/sameID", func(c context.Context) error {
			return s.CreateAPIKey(c, &access.APIKey{ID: "k1", SiteID: siteB, Name: "second", KeyHash: "h2", CreatedDate: at(1)})
		}, func(t *testing.T) {
			_, err := s.GetAPIKeyByHash(ctx(t), "h2")
			wantErr(t, "the hash of a key refused for its duplicate id", err, errs.ErrNotFound)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.name, tc.create(ctx(t)), errs.ErrConflict)
			tc.check(t)
		})
	}
}

func testApp(t *testing.T, s Store) {
	c := ctx(t)
	want := &catalog.App{ID: appA, Name: "Forms", ProviderBaseURI: "https://forms.example", CreatedDate: t0, UpdatedDate: at(1)}
	must(t, s.CreateApp(c, want))
	got, err := s.GetApp(c, appA)
	must(t, err)
	sameJSON(t, "GetApp", got, want)
}

func testPutTrigger(t *testing.T, s Store) {
	c := ctx(t)
	first := &catalog.Trigger{ID: "t1", AppID: appA, TriggerKey: "form_submitted", DisplayName: "first",
		PayloadDataSchema: json.RawMessage(`{"type":"object"}`), CreatedDate: t0, UpdatedDate: t0}
	must(t, s.PutTrigger(c, first))
	got, err := s.GetTrigger(c, appA, "form_submitted")
	must(t, err)
	sameJSON(t, "GetTrigger after create", got, first)

	second := *first
	second.DisplayName, second.UpdatedDate = "second", at(5)
	second.PayloadDataSchema = json.RawMessage(`{"type":"object","required":["email"]}`)
	must(t, s.PutTrigger(c, &second))
	got, err = s.GetTrigger(c, appA, "form_submitted")
	must(t, err)
	sameJSON(t, "GetTrigger after replace", got, &second)

	other := &catalog.Trigger{ID: "t2", AppID: appB, TriggerKey: "form_submitted", DisplayName: "other app",
		PayloadDataSchema: json.RawMessage(`{}`), CreatedDate: t0, UpdatedDate: t0}
	must(t, s.PutTrigger(c, other))
	got, err = s.GetTrigger(c, appA, "form_submitted")
	must(t, err)
	sameJSON(t, "GetTrigger after another app's trigger of the same key", got, &second)
}

func testPutAction(t *testing.T, s Store) {
	c := ctx(t)
	first := &catalog.Action{ID: "a1", AppID: appA, ActionKey: "send", DisplayName: "first",
		InputSchema: json.RawMessage(`{"type":"object"}`), CreatedDate: t0, UpdatedDate: t0}
	must(t, s.PutAction(c, first))
	second := *first
	second.DisplayName, second.UpdatedDate = "second", at(5)
	second.OutputSchema = json.RawMessage(`{"type":"object"}`)
	must(t, s.PutAction(c, &second))
	must(t, s.PutAction(c, &catalog.Action{ID: "a2", AppID: appB, ActionKey: "send", DisplayName: "other app",
		InputSchema: json.RawMessage(`{}`), CreatedDate: t0, UpdatedDate: t0}))
	got, err := s.GetAction(c, appA, "send")
	must(t, err)
	sameJSON(t, "GetAction after replace", got, &second)
}

func testPutInstallation(t *testing.T, s Store) {
	c := ctx(t)
	first := &catalog.Installation{SiteID: siteA, AppID: appA, CreatedDate: t0}
	got, err := s.PutInstallation(c, first)
	must(t, err)
	sameJSON(t, "PutInstallation (first)", got, first)

	got, err = s.PutInstallation(c, &catalog.Installation{SiteID: siteA, AppID: appA, CreatedDate: at(60)})
	must(t, err)
	sameJSON(t, "PutInstallation (again) returns the first record", got, first)
	got, err = s.GetInstallation(c, siteA, appA)
	must(t, err)
	sameJSON(t, "GetInstallation keeps the first record", got, first)

	otherSite := &catalog.Installation{SiteID: siteB, AppID: appA, CreatedDate: at(60)}
	got, err = s.PutInstallation(c, otherSite)
	must(t, err)
	sameJSON(t, "PutInstallation on another site", got, otherSite)
}

func testAPIKey(t *testing.T, s Store) {
	c := ctx(t)
	k := &access.APIKey{ID: "k1", SiteID: siteA, AppID: appA, Name: "app key", CreatedDate: t0, KeyHash: access.Hash("sy_secret")}
	must(t, s.CreateAPIKey(c, k))
	got, err := s.GetAPIKeyByHash(c, k.KeyHash)
	must(t, err)
	sameJSON(t, "GetAPIKeyByHash", got, k)
	if got.KeyHash != k.KeyHash {
		t.Errorf("GetAPIKeyByHash: KeyHash = %q, want %q (it is not part of the JSON, the store must set it)", got.KeyHash, k.KeyHash)
	}
}

func testSettings(t *testing.T, s Store) {
	c := ctx(t)
	_, err := s.GetSetting(c, "admin_key_hash")
	wantErr(t, "GetSetting before any PutSetting", err, errs.ErrNotFound)
	for _, v := range []string{"one", "two", ""} {
		must(t, s.PutSetting(c, "admin_key_hash", v))
		got, err := s.GetSetting(c, "admin_key_hash")
		must(t, err)
		if got != v {
			t.Errorf("GetSetting after PutSetting(%q) = %q", v, got)
		}
	}
}
