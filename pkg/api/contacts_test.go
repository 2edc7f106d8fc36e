package api_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/contactreport"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

type contactBody struct {
	Contact struct {
		ID, Revision, Email, Phone string
		Name                       *struct{ First, Last string }
		Attributes                 map[string]any
		CreatedDate, UpdatedDate   string
	}
	ActivationIDs []string
}

// TestContactLifecycle: create, read, partial update (null clears), query, delete, as the API answers them.
func TestContactLifecycle(t *testing.T) {
	f := newFixture(t)
	var c contactBody
	json.Unmarshal(f.mustOK("POST", "/v1/contacts", f.ownerA, "", `{"contact":{"id":"ignored","email":"ada@example.com","phone":"+44 20 7946 0958",
		"name":{"first":"Ada","last":"Lovelace"},"attributes":{"tier":"gold"}}}`), &c)
	if c.Contact.ID == "ignored" || len(c.Contact.ID) != 36 || c.Contact.Revision != "1" || c.Contact.CreatedDate == "" {
		t.Fatalf("created contact = %+v: the id and revision are the server's", c.Contact)
	}
	id := c.Contact.ID

	var u contactBody
	json.Unmarshal(f.mustOK("PATCH", "/v1/contacts/"+id, f.ownerA, "", `{"contact":{"email":"ada@lovelace.org","phone":null},"revision":"1"}`), &u)
	if u.Contact.Revision != "2" || u.Contact.Email != "ada@lovelace.org" || u.Contact.Phone != "" ||
		u.Contact.Name == nil || u.Contact.Name.First != "Ada" || u.Contact.Attributes["tier"] != "gold" || u.Contact.CreatedDate != c.Contact.CreatedDate {
		t.Fatalf("updated contact = %+v", u.Contact)
	}
	if u.ActivationIDs == nil || len(u.ActivationIDs) != 0 {
		t.Fatalf("activationIds = %v, want [] (no system trigger registered, nothing to run)", u.ActivationIDs)
	}
	// The revision may also come inside the contact, as Wix updates carry it.
	f.mustOK("PATCH", "/v1/contacts/"+id, f.ownerA, "", `{"contact":{"revision":"2","name":{"first":"Augusta"}}}`)
	var g contactBody
	json.Unmarshal(f.mustOK("GET", "/v1/contacts/"+id, f.ownerA, "", ""), &g)
	if g.Contact.Revision != "3" || g.Contact.Name.First != "Augusta" || g.Contact.Name.Last != "" {
		t.Fatalf("after the second update = %+v", g.Contact)
	}

	f.mustOK("POST", "/v1/contacts", f.ownerA, "", `{"contact":{"email":"grace@example.org"}}`)
	var q struct {
		Contacts       []struct{ Email string }
		PagingMetadata struct {
			Count   int
			HasNext bool
			Cursors struct{ Next string }
		}
	}
	json.Unmarshal(f.mustOK("POST", "/v1/contacts/query", f.ownerA, "", `{"query":{"filter":{"email":{"$startsWith":"grace"}}}}`), &q)
	if len(q.Contacts) != 1 || q.Contacts[0].Email != "grace@example.org" || q.PagingMetadata.Count != 1 || q.PagingMetadata.HasNext {
		t.Fatalf("query = %+v", q)
	}
	json.Unmarshal(f.mustOK("POST", "/v1/contacts/query", f.ownerA, "", `{"query":{"sort":[{"fieldName":"email","order":"ASC"}],"cursorPaging":{"limit":1}}}`), &q)
	if len(q.Contacts) != 1 || q.Contacts[0].Email != "ada@lovelace.org" || !q.PagingMetadata.HasNext || q.PagingMetadata.Cursors.Next == "" {
		t.Fatalf("first page = %+v", q)
	}
	json.Unmarshal(f.mustOK("POST", "/v1/contacts/query", f.ownerA, "", `{"query":{"cursorPaging":{"cursor":"`+q.PagingMetadata.Cursors.Next+`"}}}`), &q)
	if len(q.Contacts) != 1 || q.Contacts[0].Email != "grace@example.org" || q.PagingMetadata.HasNext {
		t.Fatalf("second page = %+v", q)
	}

	f.mustOK("DELETE", "/v1/contacts/"+id, f.ownerA, "", "")
	if code, _ := f.do("GET", "/v1/contacts/"+id, f.ownerA, "", ""); code != 404 {
		t.Fatalf("GET after delete = %d, want 404", code)
	}
}

// TestContactUpdateReports: updating a contact reports contact_updated with the contact as payload and
// answers the activations it started; a report that fails after the write says the automations are
// pending, the write stands, and the drain later starts them exactly once.
func TestContactUpdateReports(t *testing.T) {
	f := newFixture(t)
	contactID, _ := f.piggySetup()
	var a struct{ Automation struct{ ID string } }
	json.Unmarshal(f.mustOK("POST", "/v2/automations", f.ownerA, "", strings.NewReplacer(
		`"appId":"`+appID+`","triggerKey":"form_submitted"`, `"appId":"`+systemapp.AppID+`","triggerKey":"contact_updated"`).Replace(validAutomation)), &a)

	var u contactBody
	json.Unmarshal(f.mustOK("PATCH", "/v1/contacts/"+contactID, f.ownerA, "", `{"contact":{"phone":"555 0100","attributes":{"vip":true}},"revision":"1"}`), &u)
	if len(u.ActivationIDs) != 1 {
		t.Fatalf("activationIds = %v, want one for the contact_updated automation", u.ActivationIDs)
	}
	var log struct {
		ActivationLog struct {
			AutomationID  string
			InitiatedInfo struct{ Payload map[string]any }
		}
	}
	json.Unmarshal(f.mustOK("GET", "/v2/activation-logs/"+u.ActivationIDs[0], f.ownerA, "", ""), &log)
	got, _ := json.Marshal(log.ActivationLog.InitiatedInfo.Payload)
	want := `{"attributes":{"vip":true},"contactId":"` + contactID + `","email":"ada@example.com","name":{"first":"Ada"},"phone":"555 0100"}`
	if log.ActivationLog.AutomationID != a.Automation.ID || string(got) != want {
		t.Fatalf("activation of %s with payload %s, want %s with %s", log.ActivationLog.AutomationID, got, a.Automation.ID, want)
	}

	// A trigger schema the contact cannot satisfy makes the report fail after the write. The system app's
	// catalog is read-only through the API, so the test changes the stored trigger directly.
	trig, err := f.store.GetTrigger(context.Background(), systemapp.AppID, systemapp.TriggerContactUpdated)
	if err != nil {
		t.Fatal(err)
	}
	trig.PayloadDataSchema = json.RawMessage(`{"type":"object","required":["contactId","loyaltyTier"]}`)
	if err := f.store.PutTrigger(context.Background(), trig); err != nil {
		t.Fatal(err)
	}
	var pend struct {
		contactBody
		AutomationsPending bool
	}
	json.Unmarshal(f.mustOK("PATCH", "/v1/contacts/"+contactID, f.ownerA, "", `{"contact":{"phone":"555 0199"},"revision":"2"}`), &pend)
	if !pend.AutomationsPending || pend.ActivationIDs == nil || len(pend.ActivationIDs) != 0 || pend.Contact.Revision != "3" {
		t.Fatalf("failed report answered %+v, want revision 3, activationIds [] and automationsPending", pend)
	}
	var g contactBody
	json.Unmarshal(f.mustOK("GET", "/v1/contacts/"+contactID, f.ownerA, "", ""), &g)
	if g.Contact.Revision != "3" || g.Contact.Phone != "555 0199" {
		t.Fatalf("the write must stand: %+v", g.Contact)
	}
	if got := f.activationPhones(a.Automation.ID); !slices.Equal(got, []string{"555 0100"}) {
		t.Fatalf("activations before the drain carry phones %v, want only revision 2's", got)
	}

	// The schema is fixed; the drain reports revision 3 once, however often it (or a racing report) runs.
	trig.PayloadDataSchema = json.RawMessage(`{"type":"object","required":["contactId"]}`)
	if err := f.store.PutTrigger(context.Background(), trig); err != nil {
		t.Fatal(err)
	}
	out := &contactreport.Outbox{Store: f.store, Engine: engine.New(engine.Config{Store: f.store}),
		Now: func() time.Time { return time.Now().Add(contactreport.DefaultGrace + time.Second) }}
	for pass, want := range []int{1, 0} {
		n, err := out.Drain(context.Background(), 10)
		if err != nil || n != want {
			t.Fatalf("drain pass %d: %d reported, err %v; want %d", pass+1, n, err, want)
		}
	}
	rev3 := g.Contact
	c3, _ := f.store.GetContact(context.Background(), siteA, contactID)
	if _, err := out.Report(context.Background(), siteA, c3, ""); err != nil { // a late duplicate of the handler's report
		t.Fatal(err)
	}
	if got := f.activationPhones(a.Automation.ID); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"555 0100", "555 0199"}) {
		t.Fatalf("after draining revision %s: activations carry phones %v, want one per revision", rev3.Revision, got)
	}
}

// activationPhones lists the payload phone of each activation of an automation on site A.
func (f *fixture) activationPhones(automationID string) []string {
	f.t.Helper()
	var l struct {
		ActivationLogs []struct {
			AutomationID  string
			InitiatedInfo struct{ Payload struct{ Phone string } }
		}
	}
	json.Unmarshal(f.mustOK("GET", "/v2/activation-logs?includePayload=true", f.ownerA, "", ""), &l)
	out := []string{}
	for _, a := range l.ActivationLogs {
		if a.AutomationID == automationID {
			out = append(out, a.InitiatedInfo.Payload.Phone)
		}
	}
	return out
}
