package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

var automationTests = []test{
	{"Automation/RoundTrip", testAutomationRoundTrip},
	{"Automation/DuplicateID", testAutomationDuplicate},
	{"Automation/TenantIsolation", testAutomationTenants},
	{"Automation/ListTriggerAutomations", testListTriggerAutomations},
	{"Automation/Update", testAutomationUpdate},
	{"Automation/UpdateTriggerIndex", testAutomationUpdateIndex},
	{"Automation/Delete", testAutomationDelete},
	{"Automation/Query", testQueryAutomations},
}

// newAutomation returns a runnable automation (ACTIVE, one root action, not a draft) on (app, trigger).
func newAutomation(id, app, trigger string) *automation.Automation {
	created, desc, ns := t0, "says why", "ns"
	return &automation.Automation{ID: id, Revision: "1", Name: "automation " + id, Description: &desc,
		CreatedDate: &created, UpdatedDate: &created, Origin: automation.OriginUser, Namespace: &ns,
		CreatedBy: &automation.AuditInfo{UserID: "u1"},
		Configuration: &automation.Configuration{Status: automation.StatusActive,
			Trigger: &automation.Trigger{AppID: app, TriggerKey: trigger,
				Filters: []automation.Filter{{ID: "f1", FieldKey: "email", FilterExpression: `{{ email != "" }}`}}},
			RootActionIDs: []string{"root"},
			Actions: map[string]*automation.Action{
				"root": {ID: "root", Type: automation.TypeAppDefined, AppDefinedInfo: &automation.AppDefinedInfo{
					AppID: app, ActionKey: "send", InputMapping: map[string]any{"to": "{{ email }}"}, PostActionIDs: []string{"wait"}}},
				"wait": {ID: "wait", Type: automation.TypeDelay, DelayInfo: &automation.DelayInfo{OffsetTimeUnit: "MINUTES"}},
			}},
		ExtendedFields: map[string]any{"k": []any{"v", 1.5, true}},
	}
}

func testAutomationRoundTrip(t *testing.T, s Store) {
	c := ctx(t)
	want := newAutomation("c0c0c0c0-0000-4000-8000-000000000001", appA, "form_submitted")
	must(t, s.CreateAutomation(c, siteA, want))
	got, err := s.GetAutomation(c, siteA, want.ID)
	must(t, err)
	sameJSON(t, "GetAutomation", got, want)
}

func testAutomationDuplicate(t *testing.T, s Store) {
	c := ctx(t)
	first := newAutomation("c0c0c0c0-0000-4000-8000-000000000001", appA, "form_submitted")
	must(t, s.CreateAutomation(c, siteA, first))
	second := newAutomation(first.ID, appA, "other_trigger")
	second.Name = "second"
	wantErr(t, "CreateAutomation with a taken id", s.CreateAutomation(c, siteA, second), errs.ErrConflict)
	got, err := s.GetAutomation(c, siteA, first.ID)
	must(t, err)
	sameJSON(t, "GetAutomation after a failed duplicate create", got, first)
	list, err := s.ListTriggerAutomations(c, siteA, appA, "other_trigger")
	must(t, err)
	if len(list) != 0 {
		t.Errorf("the refused duplicate is matched by the trigger index: %d automations", len(list))
	}
}

// testAutomationTenants: an automation is keyed by (site, id): another site neither sees it nor collides.
func testAutomationTenants(t *testing.T, s Store) {
	c := ctx(t)
	a := newAutomation("c0c0c0c0-0000-4000-8000-000000000001", appA, "form_submitted")
	must(t, s.CreateAutomation(c, siteA, a))
	_, err := s.GetAutomation(c, siteB, a.ID)
	wantErr(t, "GetAutomation of site A's id on site B", err, errs.ErrNotFound)
	_, err = s.GetAutomation(c, siteA, "c0c0c0c0-0000-4000-8000-000000000002")
	wantErr(t, "GetAutomation of an unknown id", err, errs.ErrNotFound)

	b := newAutomation(a.ID, appA, "form_submitted")
	b.Name = "site B's own"
	must(t, s.CreateAutomation(c, siteB, b))
	gotA, err := s.GetAutomation(c, siteA, a.ID)
	must(t, err)
	sameJSON(t, "site A's automation", gotA, a)
	gotB, err := s.GetAutomation(c, siteB, a.ID)
	must(t, err)
	sameJSON(t, "site B's automation of the same id", gotB, b)
}

// testListTriggerAutomations: ReportEvent's matching returns exactly the site's runnable automations on
// (app, trigger key): never another site's, app's or trigger's, never a draft, an inactive automation or
// one without actions.
func testListTriggerAutomations(t *testing.T, s Store) {
	c := ctx(t)
	id := func(n int) string { return fmt.Sprintf("c0c0c0c0-0000-4000-8000-%012d", n) }
	const trig = "form_submitted"
	put := func(site string, a *automation.Automation) {
		t.Helper()
		must(t, s.CreateAutomation(c, site, a))
	}
	put(siteA, newAutomation(id(1), appA, trig))
	put(siteA, newAutomation(id(2), appA, trig))
	put(siteB, newAutomation(id(3), appA, trig))          // another site
	put(siteA, newAutomation(id(4), appB, trig))          // another app, same key
	put(siteA, newAutomation(id(5), appA, "other_event")) // another trigger
	inactive := newAutomation(id(6), appA, trig)
	inactive.Configuration.Status = automation.StatusInactive
	put(siteA, inactive)
	orig := "c0c0c0c0-0000-4000-8000-000000000001"
	draft := newAutomation(id(7), appA, trig)
	draft.DraftInfo = &automation.DraftInfo{OriginalAutomationID: &orig}
	put(siteA, draft)
	noActions := newAutomation(id(8), appA, trig)
	noActions.Configuration.RootActionIDs, noActions.Configuration.Actions = []string{}, map[string]*automation.Action{}
	put(siteA, noActions)
	// Two keys that a store joining key parts with '#' unescaped would merge into one.
	put(siteA, newAutomation(id(9), appA+"#x", trig))
	put(siteA+"#"+appA, newAutomation(id(10), "x", trig))

	for _, tc := range []struct {
		name            string
		site, app, trig string
		want            []string
	}{
		{"runnable", siteA, appA, trig, []string{id(1), id(2)}},
		{"other site", siteB, appA, trig, []string{id(3)}},
		{"other app", siteA, appB, trig, []string{id(4)}},
		{"other trigger", siteA, appA, "other_event", []string{id(5)}},
		{"unknown trigger", siteA, appA, "nothing", nil},
		{"unknown site", "33333333-3333-4333-8333-333333333333", appA, trig, nil},
		{"separator in app id", siteA, appA + "#x", trig, []string{id(9)}},
		{"separator in site id", siteA + "#" + appA, "x", trig, []string{id(10)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := s.ListTriggerAutomations(ctx(t), tc.site, tc.app, tc.trig)
			must(t, err)
			var got []string
			for _, a := range list {
				got = append(got, a.ID)
				if !a.IsActive() {
					t.Errorf("automation %s is not runnable", a.ID)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ListTriggerAutomations(%s, %s, %s) = %v, want %v", tc.site, tc.app, tc.trig, got, tc.want)
			}
		})
	}
	list, err := s.ListTriggerAutomations(c, siteA, appA, trig)
	must(t, err)
	for _, a := range list {
		if a.ID == id(1) {
			sameJSON(t, "matched automation", a, newAutomation(id(1), appA, trig))
		}
	}
}
