package automation

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

const (
	appID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	x1    = "10000000-0000-4000-8000-000000000001"
	x2    = "20000000-0000-4000-8000-000000000002"
	x3    = "30000000-0000-4000-8000-000000000003"
)

func base() *Automation {
	return &Automation{Name: "n", Origin: OriginUser, Configuration: &Configuration{Status: StatusActive,
		Trigger: &Trigger{AppID: appID, TriggerKey: "t"}, RootActionIDs: []string{x1},
		Actions: map[string]*Action{
			x1: {Type: TypeAppDefined, AppDefinedInfo: &AppDefinedInfo{AppID: appID, ActionKey: "send", PostActionIDs: []string{x2}}},
			x2: {Type: TypeAppDefined, AppDefinedInfo: &AppDefinedInfo{AppID: appID, ActionKey: "send"}},
		}}}
}

func TestValidateForSave(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(a *Automation)
		field  string // first violation; "" = valid
	}{
		{"valid", func(*Automation) {}, ""},
		{"draft without actions", func(a *Automation) { a.Configuration.RootActionIDs = nil; a.Configuration.Actions = nil }, ""},
		{"empty name", func(a *Automation) { a.Name = "" }, "automation.name"},
		{"long name", func(a *Automation) { a.Name = strings.Repeat("n", 501) }, "automation.name"},
		{"long description", func(a *Automation) { d := strings.Repeat("d", 2001); a.Description = &d }, "automation.description"},
		{"no origin", func(a *Automation) { a.Origin = "" }, "automation.origin"},
		{"bad origin", func(a *Automation) { a.Origin = "ME" }, "automation.origin"},
		{"no configuration", func(a *Automation) { a.Configuration = nil }, "automation.configuration"},
		{"bad status", func(a *Automation) { a.Configuration.Status = "ON" }, "automation.configuration.status"},
		{"no trigger", func(a *Automation) { a.Configuration.Trigger = nil }, "automation.configuration.trigger"},
		{"bad trigger app", func(a *Automation) { a.Configuration.Trigger.AppID = "x" }, "automation.configuration.trigger.appId"},
		{"six filters", func(a *Automation) {
			a.Configuration.Trigger.Filters = make([]Filter, 6)
			for i := range a.Configuration.Trigger.Filters {
				a.Configuration.Trigger.Filters[i] = Filter{FieldKey: "k", FilterExpression: "{{true}}"}
			}
		}, "automation.configuration.trigger.filters"},
		{"too many roots", func(a *Automation) { a.Configuration.RootActionIDs = make([]string, 21) }, "automation.configuration.rootActionIds"},
		{"dangling root", func(a *Automation) { a.Configuration.RootActionIDs = []string{x3} }, "automation.configuration.rootActionIds[0]"},
		{"dangling post", func(a *Automation) { a.Configuration.Actions[x2].AppDefinedInfo.PostActionIDs = []string{x3} }, "automation.configuration.actions." + x2},
		{"action id mismatch", func(a *Automation) { a.Configuration.Actions[x1].ID = x3 }, "automation.configuration.actions." + x1 + ".id"},
		{"missing info", func(a *Automation) { a.Configuration.Actions[x2].AppDefinedInfo = nil }, "automation.configuration.actions." + x2 + ".appDefinedInfo"},
		{"unknown type", func(a *Automation) { a.Configuration.Actions[x2].Type = "TELEPORT" }, "automation.configuration.actions." + x2 + ".type"},
		{"bad namespace", func(a *Automation) { a.Configuration.Actions[x2].Namespace = "a b" }, "automation.configuration.actions." + x2 + ".namespace"},
		{"two parents", func(a *Automation) { a.Configuration.RootActionIDs = []string{x1, x2} }, "automation.configuration.actions." + x2},
		{"cycle", func(a *Automation) {
			a.Configuration.Actions[x2].AppDefinedInfo.PostActionIDs = []string{x1}
			a.Configuration.RootActionIDs = nil
		}, "automation.configuration.actions." + x1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base()
			tc.mutate(a)
			err := ValidateForSave(a)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || len(e.Violations) == 0 || e.Violations[0].Field != tc.field {
				t.Fatalf("err = %v, want first violation on %s", err, tc.field)
			}
		})
	}
}

func TestNormalizeDefaultsIDsAndNamespaces(t *testing.T) {
	a := base()
	a.Configuration.Actions[x3] = &Action{Type: TypeSetVariables, SetVariablesInfo: &SetVariablesInfo{}}
	a.Configuration.Actions[x2].AppDefinedInfo.PostActionIDs = []string{x3}
	Normalize(a)
	c := a.Configuration
	if c.Actions[x1].ID != x1 || c.Actions[x1].Namespace != "send-1" || c.Actions[x2].Namespace != "send-2" || c.Actions[x3].Namespace != "setVariable" {
		b, _ := json.Marshal(c.Actions)
		t.Fatalf("normalized actions = %s", b)
	}
}
