package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

const (
	contactID = "c0c7ac70-0000-4000-8000-000000000001"
	autoID    = "f0f0f0f0-0000-4000-8000-0000000000c1"
)

// identitySchema marks contactId as a contact identity (reference §4.3).
const identitySchema = `{"type":"object","required":["contactId"],"properties":{
	"contactId":{"type":"string","format":"uuid","identityType":"contact"},"data":{"type":"object"}}}`

// failingReader is a contact store that is down: every read fails.
type failingReader struct{}

func (failingReader) GetContact(context.Context, string, string) (*contacts.Contact, error) {
	return nil, errors.New("connection refused")
}

// enrichHarness is newHarness with an identity trigger "ct", a stored contact, and the engine's contact
// reader chosen by the test (nil: the store).
func enrichHarness(t *testing.T, reader engine.ContactReader, schema string) *harness {
	h := newHarness(t)
	ctx := context.Background()
	must(t, h.store.PutTrigger(ctx, &catalog.Trigger{AppID: app, TriggerKey: "ct", PayloadDataSchema: json.RawMessage(schema)}))
	c := &contacts.Contact{ID: contactID, Revision: "3", Email: "ada@example.com", Name: &contacts.Name{First: "Ada", Last: "Lovelace"},
		Attributes: map[string]any{"tier": "gold"}, CreatedDate: h.clock.Now(), UpdatedDate: h.clock.Now()}
	must(t, h.store.CreateContact(ctx, site, c))
	if reader == nil {
		reader = h.store
	}
	h.eng = engine.New(engine.Config{Store: h.store, Invoker: h.inv, Contacts: reader, Now: h.clock.Now})
	return h
}

func (h *harness) createCT(roots []string, actions map[string]*automation.Action, edit func(*automation.Automation)) {
	h.t.Helper()
	a := &automation.Automation{ID: autoID, Revision: "1", Name: "n", Origin: "USER",
		Configuration: &automation.Configuration{Status: "ACTIVE", Trigger: &automation.Trigger{AppID: app, TriggerKey: "ct"},
			RootActionIDs: roots, Actions: actions}}
	if edit != nil {
		edit(a)
	}
	automation.Normalize(a)
	must(h.t, automation.ValidateForSave(a))
	must(h.t, h.store.CreateAutomation(context.Background(), site, a))
}

// TestIdentityEnrichment: the first action sees contact.* when the schema marks the identity field; a
// missing or unreadable contact leaves the payload alone and records the warning Wix records.
func TestIdentityEnrichment(t *testing.T) {
	mapping := map[string]any{"email": "{{contact.email}}", "first": "{{contact.name.first}}", "id": "{{contactId}}"}
	cases := []struct {
		name      string
		reader    engine.ContactReader
		schema    string
		contactID string
		wantInput map[string]any // the first action's input (nil: do not check)
		contact   bool           // startedInfo's payload carries contact
		warning   string         // the warning's errorCode, "" for none
	}{
		{"contact found", nil, identitySchema, contactID,
			map[string]any{"email": "ada@example.com", "first": "Ada", "id": contactID}, true, ""},
		{"contact missing", nil, identitySchema, "c0c7ac70-0000-4000-8000-000000000999", nil, false, "CONTACT_NOT_FOUND"},
		{"store down", failingReader{}, identitySchema, contactID, nil, false, "CONTACT_READ_FAILED"},
		{"no identity field", nil, `{"type":"object","properties":{"contactId":{"type":"string"}}}`, contactID, nil, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := enrichHarness(t, tc.reader, tc.schema)
			h.createCT([]string{a1}, map[string]*automation.Action{a1: appAction(a1, mapping)}, nil)
			ids, err := h.eng.Report(context.Background(), engine.Event{SiteID: site, AppID: app, TriggerKey: "ct",
				Payload: map[string]any{"contactId": tc.contactID}})
			must(t, err)
			h.drain(ids[0])
			act, err := h.store.GetActivation(context.Background(), ids[0])
			must(t, err)
			if act.Status != run.StatusEnded || len(h.inv.calls) != 1 {
				t.Fatalf("status %s after %d invokes: enrichment must never stop the run", act.Status, len(h.inv.calls))
			}
			if tc.wantInput != nil {
				got, _ := json.Marshal(h.inv.calls[0].ActionParams)
				want, _ := json.Marshal(tc.wantInput)
				if string(got) != string(want) {
					t.Errorf("first action input = %s, want %s", got, want)
				}
			}
			if _, ok := act.Infos.Initiated.Payload["contact"]; ok {
				t.Errorf("initiatedInfo.payload carries contact: it must stay as reported")
			}
			_, has := act.Infos.Started.Payload["contact"]
			if has != tc.contact {
				t.Errorf("startedInfo.payload has contact = %v, want %v: %v", has, tc.contact, act.Infos.Started.Payload)
			}
			if tc.contact {
				c := act.Infos.Started.Payload["contact"].(map[string]any)
				if c["id"] != contactID || c["revision"] != "3" || c["attributes"].(map[string]any)["tier"] != "gold" {
					t.Errorf("enriched contact = %v", c)
				}
			}
			switch {
			case tc.warning == "" && len(act.Warnings) != 0:
				t.Errorf("warnings = %+v, want none", act.Warnings)
			case tc.warning != "" && (len(act.Warnings) != 1 || act.Warnings[0].ErrorCode != tc.warning ||
				act.Warnings[0].Reason != run.WarningContactEnrichmentFailed || !act.Warnings[0].WarningDate.Equal(h.clock.Now())):
				t.Errorf("warnings = %+v, want one %s GET_CONTACT_ENRICHMENT_FAILED", act.Warnings, tc.warning)
			}
		})
	}
}

// TestOverrideSchemaDecidesIdentity: an automation's trigger.overrideSchema replaces the trigger's schema
// for enrichment too, as it does for mapping checks.
func TestOverrideSchemaDecidesIdentity(t *testing.T) {
	h := enrichHarness(t, nil, `{"type":"object"}`)
	var override map[string]any
	must(t, json.Unmarshal([]byte(identitySchema), &override))
	h.createCT([]string{a1}, map[string]*automation.Action{a1: appAction(a1, map[string]any{"e": "{{contact.email}}"})},
		func(a *automation.Automation) { a.Configuration.Trigger.OverrideSchema = override })
	ids, err := h.eng.Report(context.Background(), engine.Event{SiteID: site, AppID: app, TriggerKey: "ct",
		Payload: map[string]any{"contactId": contactID}})
	must(t, err)
	h.drain(ids[0])
	if got := h.inv.calls[0].ActionParams["e"]; got != "ada@example.com" {
		t.Fatalf("input e = %v, want the contact's email", got)
	}
}

// TestManualRun: a non-test MANUAL_ACTIVATION — nested data accepted, the contact enriched, delays waited
// for, drafts refused, the trigger schema enforced.
func TestManualRun(t *testing.T) {
	h := enrichHarness(t, nil, identitySchema)
	ten := "{{10}}"
	h.createCT([]string{a1}, map[string]*automation.Action{
		a1: {ID: a1, Type: automation.TypeDelay, DelayInfo: &automation.DelayInfo{OffsetExpression: &ten, OffsetTimeUnit: "MINUTES", PostActionIDs: []string{a2}}},
		a2: appAction(a2, map[string]any{"points": "{{data.points}}", "email": "{{contact.email}}"}),
	}, nil)
	ctx := context.Background()
	id, err := h.eng.ManualRun(ctx, engine.ManualRunRequest{SiteID: site, AutomationID: autoID, By: "key-1",
		Payload: map[string]any{"contactId": contactID, "data": map[string]any{"points": 5.0, "nested": map[string]any{"x": true}}}})
	must(t, err)
	ins := h.drain(id)
	if ins[a1].Kind != engine.Wait || len(h.inv.calls) != 0 {
		t.Fatalf("delay not honoured: %+v, %d invokes", ins[a1], len(h.inv.calls))
	}
	h.clock.Advance(10 * time.Minute)
	h.drain(id)
	if len(h.inv.calls) != 1 {
		t.Fatalf("invokes after the delay = %d, want 1", len(h.inv.calls))
	}
	got, _ := json.Marshal(h.inv.calls[0].ActionParams)
	if want := `{"email":"ada@example.com","points":5}`; string(got) != want {
		t.Errorf("input = %s, want %s", got, want)
	}
	actx := h.inv.calls[0].ActivationContext
	src, _ := json.Marshal(actx.ActivationSourceInfo)
	if want := `{"activationInitiationSource":"MANUAL_ACTIVATION","manualActivationInfo":{}}`; string(src) != want {
		t.Errorf("activationSourceInfo = %s, want %s", src, want)
	}
	if actx.InitiatorInfo == nil || actx.InitiatorInfo.InitiatorUserID != "key-1" {
		t.Errorf("initiatorInfo = %+v, want key-1", actx.InitiatorInfo)
	}

	// Refusals.
	_, err = h.eng.ManualRun(ctx, engine.ManualRunRequest{SiteID: site, AutomationID: autoID, Payload: map[string]any{"contactId": "nope"}})
	if e := (*errs.Error)(nil); !errors.As(err, &e) || len(e.Violations) == 0 || e.Violations[0].Field != "payload.contactId" {
		t.Errorf("bad contactId: err = %v, want a violation on payload.contactId", err)
	}
	_, err = h.eng.ManualRun(ctx, engine.ManualRunRequest{SiteID: "22222222-2222-4222-8222-222222222222", AutomationID: autoID,
		Payload: map[string]any{"contactId": contactID}})
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("another site's automation: err = %v, want not found", err)
	}
	draft := &automation.Automation{ID: "d0d0d0d0-0000-4000-8000-000000000001", Revision: "1", Name: "d", Origin: "USER",
		DraftInfo:     &automation.DraftInfo{},
		Configuration: &automation.Configuration{Status: "ACTIVE", Trigger: &automation.Trigger{AppID: app, TriggerKey: "ct"}}}
	must(t, h.store.CreateAutomation(ctx, site, draft))
	if _, err := h.eng.ManualRun(ctx, engine.ManualRunRequest{SiteID: site, AutomationID: draft.ID,
		Payload: map[string]any{"contactId": contactID}}); !errs.Is(err, errs.NotFound) {
		t.Errorf("draft: err = %v, want not found", err)
	}
}
