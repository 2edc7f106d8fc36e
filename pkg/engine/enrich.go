package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// ContactReader loads a site's contact for identity enrichment; both stores implement it.
type ContactReader interface {
	GetContact(ctx context.Context, siteID, id string) (*contacts.Contact, error)
}

// contactLookup is one contact read, remembered for the other activations of the same event.
type contactLookup struct {
	contact *contacts.Contact
	warning *run.Warning
}

// lookups caches contact reads per call that creates activations: one event matching five automations
// reads its contact once.
type lookups map[string]contactLookup

// enrich applies identity enrichment (reference §2.3, end) to a new activation: when the payload schema
// (the automation's trigger.overrideSchema, else the trigger's) marks a string field with
// "identityType": "contact", the contact it names is added under `contact` to every root branch's payload,
// so the first action already sees it. The activation's initiatedInfo keeps the payload as reported (a
// rerun enriches afresh); startedInfo shows the enriched one. A contact that is missing or cannot be read
// leaves the payload as is and records a GET_CONTACT_ENRICHMENT_FAILED warning: the run goes on, as a
// failed enrichment does on Wix. A payload `contact` key the reporter sent is replaced by the real one.
func (e *Engine) enrich(ctx context.Context, n *run.NewActivation, trig *catalog.Trigger, cache lookups) {
	act := &n.Activation
	if act.Status != run.StatusInitiated || len(n.Branches) == 0 || act.Infos.Initiated == nil {
		return
	}
	field, ok := identityField(act, trig)
	if !ok {
		return
	}
	id, _ := act.Infos.Initiated.Payload[field].(string)
	if id == "" {
		return // an optional identity field left out: nothing to enrich
	}
	l, seen := cache[id]
	if !seen {
		l = e.lookupContact(ctx, act.SiteID, id)
		cache[id] = l
	}
	if l.warning != nil {
		w := *l.warning
		w.WarningDate = act.CreatedDate
		act.Warnings = append(act.Warnings, w)
		return
	}
	for i := range n.Branches {
		n.Branches[i].Payload[contacts.PayloadKey] = contacts.AsPayload(l.contact)
	}
}

func (e *Engine) lookupContact(ctx context.Context, siteID, id string) contactLookup {
	warn := func(code, format string, args ...any) contactLookup {
		return contactLookup{warning: &run.Warning{Reason: run.WarningContactEnrichmentFailed, ErrorCode: code,
			ErrorDescription: fmt.Sprintf(format, args...)}}
	}
	if e.contacts == nil {
		return warn("NO_CONTACTS", "this runtime has no contact store; contact %s was not loaded", id)
	}
	c, err := e.contacts.GetContact(ctx, siteID, id)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return warn("CONTACT_NOT_FOUND", "contact %s not found", id)
	case err != nil:
		e.log.WarnContext(ctx, "contact enrichment failed", "site", siteID, "contact", id, "err", err)
		return warn("CONTACT_READ_FAILED", "reading contact %s failed", id)
	}
	return contactLookup{contact: c}
}

// identityField finds the contact identity field of the schema the activation's payload was checked
// against.
func identityField(act *run.Activation, trig *catalog.Trigger) (string, bool) {
	if a := act.Automation; a != nil && a.Configuration != nil && a.Configuration.Trigger != nil && a.Configuration.Trigger.OverrideSchema != nil {
		b, err := json.Marshal(a.Configuration.Trigger.OverrideSchema)
		if err == nil {
			return contacts.IdentityFieldOf(b)
		}
	}
	if trig == nil {
		return "", false
	}
	return contacts.IdentityFieldOf(trig.PayloadDataSchema)
}
