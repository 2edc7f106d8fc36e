package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

var viewTests = []test{
	{"ListInstallations", testListInstallations},
	{"QueryViewPreinstalledShowThrough", testQueryViewPreinstalled},
	{"QueryViewStandaloneDrafts", testQueryViewStandaloneDrafts},
}

func testListInstallations(t *testing.T, s Store) {
	for _, in := range []catalog.Installation{{SiteID: siteA, AppID: appB}, {SiteID: siteA, AppID: appA}, {SiteID: siteB, AppID: appA}} {
		in.CreatedDate = t0
		_, err := s.PutInstallation(ctx(t), &in)
		must(t, err)
	}
	for site, want := range map[string][]string{siteA: {appA, appB}, siteB: {appA}, "33333333-3333-4333-8333-333333333333": {}} {
		got, err := s.ListInstallations(ctx(t), site)
		must(t, err)
		apps := []string{}
		for _, in := range got {
			if in.SiteID != site {
				t.Errorf("ListInstallations(%s) returned %s's installation", site, in.SiteID)
			}
			apps = append(apps, in.AppID)
		}
		if !slices.Equal(apps, want) {
			t.Errorf("ListInstallations(%s) = %v, want %v", site, apps, want)
		}
	}
}

// named is an automation with a name and id chosen by the test.
func named(id, name string) *automation.Automation {
	a := newAutomation(id, appA, "t")
	a.Name = name
	return a
}

func queryView(t *testing.T, s Store, v automation.View, raw string) (names []string, next string) {
	t.Helper()
	q, err := wql.Parse(json.RawMessage(raw), wql.AutomationSchema())
	must(t, err)
	page, next, err := s.QueryAutomations(ctx(t), v, q)
	must(t, err)
	names = []string{}
	for _, a := range page {
		names = append(names, a.Name)
	}
	return names, next
}

func testQueryViewPreinstalled(t *testing.T, s Store) {
	tA, tB := automation.PreinstalledTenant(appA), automation.PreinstalledTenant(appB)
	ids := func(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
	must(t, s.CreateAutomation(ctx(t), siteA, named(ids(1), "a-own")))
	must(t, s.CreateAutomation(ctx(t), tA, named(ids(2), "b-app-a")))
	must(t, s.CreateAutomation(ctx(t), tA, named(ids(3), "c-app-a-overridden")))
	must(t, s.CreateAutomation(ctx(t), siteA, named(ids(3), "c-override")))
	must(t, s.CreateAutomation(ctx(t), tB, named(ids(4), "d-app-b")))
	must(t, s.CreateAutomation(ctx(t), siteB, named(ids(5), "e-other-site")))
	draft := named(ids(6), "f-draft")
	draft.DraftInfo = &automation.DraftInfo{}
	must(t, s.CreateAutomation(ctx(t), tA, draft)) // drafts of a template tenant never show through

	for _, tc := range []struct {
		name  string
		view  automation.View
		query string
		want  []string
	}{
		{"site alone", automation.SiteView(siteA), `{"sort":[{"fieldName":"name"}]}`, []string{"a-own", "c-override"}},
		{"with app A", automation.View{SiteID: siteA, Preinstalled: []string{tA}}, `{"sort":[{"fieldName":"name"}]}`,
			[]string{"a-own", "b-app-a", "c-override"}},
		{"with both apps", automation.View{SiteID: siteA, Preinstalled: []string{tA, tB}}, `{"sort":[{"fieldName":"name","order":"DESC"}]}`,
			[]string{"d-app-b", "c-override", "b-app-a", "a-own"}},
		{"filter on a column", automation.View{SiteID: siteA, Preinstalled: []string{tA, tB}}, `{"filter":{"name":{"$startsWith":"c"}}}`,
			[]string{"c-override"}},
		{"filter on a field without a column (evaluated over documents)", automation.View{SiteID: siteA, Preinstalled: []string{tA, tB}},
			`{"filter":{"name":{"$in":["b-app-a","c-app-a-overridden","d-app-b"]},"settings.actionSettings.disableDelayAddition":{"$ne":true}},"sort":[{"fieldName":"name"}]}`,
			[]string{"b-app-a", "d-app-b"}},
		{"another site sees the templates, not site A's overrides", automation.View{SiteID: siteB, Preinstalled: []string{tA}}, `{"sort":[{"fieldName":"name"}]}`,
			[]string{"b-app-a", "c-app-a-overridden", "e-other-site"}},
		{"a template tenant alone", automation.SiteView(tA), `{"sort":[{"fieldName":"name"}]}`, []string{"b-app-a", "c-app-a-overridden"}},
	} {
		if got, next := queryView(t, s, tc.view, tc.query); !slices.Equal(got, tc.want) || next != "" {
			t.Errorf("%s: got %v (next %q), want %v", tc.name, got, next, tc.want)
		}
	}

	// Paging walks the merged view once, in order.
	v := automation.View{SiteID: siteA, Preinstalled: []string{tA, tB}}
	var all []string
	page, next := queryView(t, s, v, `{"cursorPaging":{"limit":1},"sort":[{"fieldName":"name"}]}`)
	all = append(all, page...)
	for next != "" {
		page, next = queryView(t, s, v, fmt.Sprintf(`{"cursorPaging":{"cursor":%q}}`, next))
		all = append(all, page...)
	}
	if want := []string{"a-own", "b-app-a", "c-override", "d-app-b"}; !slices.Equal(all, want) {
		t.Errorf("paged view = %v, want %v", all, want)
	}
}

func testQueryViewStandaloneDrafts(t *testing.T, s Store) {
	orig := named("00000000-0000-4000-8000-000000000001", "a-original")
	must(t, s.CreateAutomation(ctx(t), siteA, orig))
	of := named("00000000-0000-4000-8000-000000000002", "b-draft-of-original")
	of.DraftInfo = &automation.DraftInfo{OriginalAutomationID: &orig.ID}
	must(t, s.CreateAutomation(ctx(t), siteA, of))
	alone := named("00000000-0000-4000-8000-000000000003", "c-standalone-draft")
	alone.DraftInfo = &automation.DraftInfo{}
	must(t, s.CreateAutomation(ctx(t), siteA, alone))
	otherSite := named("00000000-0000-4000-8000-000000000004", "d-other-site-draft")
	otherSite.DraftInfo = &automation.DraftInfo{}
	must(t, s.CreateAutomation(ctx(t), siteB, otherSite))

	for _, q := range []string{`{"sort":[{"fieldName":"name"}]}`, `{"filter":{"settings.actionSettings.disableDelayAddition":{"$ne":true}},"sort":[{"fieldName":"name"}]}`} {
		if got, _ := queryView(t, s, automation.SiteView(siteA), q); !slices.Equal(got, []string{"a-original"}) {
			t.Errorf("without drafts %s: %v", q, got)
		}
		if got, _ := queryView(t, s, automation.View{SiteID: siteA, StandaloneDrafts: true}, q); !slices.Equal(got, []string{"a-original", "c-standalone-draft"}) {
			t.Errorf("with standalone drafts %s: %v", q, got)
		}
	}
}
