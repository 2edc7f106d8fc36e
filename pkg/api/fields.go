package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/switchyard-dev/switchyard/pkg/automation"
)

// RequestedFields (reference §2.1): a response carries trigger.overrideSchema and each action's
// appDefinedInfo.overrideOutputSchema only when the request asks for OVERRIDE_SCHEMA, in the body's
// `fields` or the query's `fields`.
const fieldOverrideSchema = "OVERRIDE_SCHEMA"

// requestState is what a handler's body told the response writers; one per request, in its context.
type requestState struct {
	fields []string
}

type requestStateKey struct{}

func withRequestState(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), requestStateKey{}, &requestState{}))
}

// noteRequestedFields keeps the body's `fields` for the response; a malformed value asks for nothing.
func noteRequestedFields(r *http.Request, body json.RawMessage) {
	st, _ := r.Context().Value(requestStateKey{}).(*requestState)
	if st == nil {
		return
	}
	var f struct {
		Fields []string `json:"fields"`
	}
	if json.Unmarshal(body, &f) == nil {
		st.fields = f.Fields
	}
}

func wantsOverrideSchema(r *http.Request) bool {
	if slices.Contains(r.URL.Query()["fields"], fieldOverrideSchema) {
		return true
	}
	st, _ := r.Context().Value(requestStateKey{}).(*requestState)
	return st != nil && slices.Contains(st.fields, fieldOverrideSchema)
}

// presented is a as the response shows it: without the override schemas unless they were asked for. The
// stored automation is never changed.
func presented(r *http.Request, a *automation.Automation) *automation.Automation {
	if a == nil || wantsOverrideSchema(r) || !hasOverrideSchema(a) {
		return a
	}
	cp := *a
	c := *a.Configuration
	cp.Configuration = &c
	if c.Trigger != nil {
		t := *c.Trigger
		t.OverrideSchema = nil
		c.Trigger = &t
	}
	if len(c.Actions) > 0 {
		c.Actions = make(map[string]*automation.Action, len(a.Configuration.Actions))
		for id, act := range a.Configuration.Actions {
			if act != nil && act.AppDefinedInfo != nil && act.AppDefinedInfo.OverrideOutputSchema != nil {
				na := *act
				ad := *act.AppDefinedInfo
				ad.OverrideOutputSchema = nil
				na.AppDefinedInfo = &ad
				act = &na
			}
			c.Actions[id] = act
		}
	}
	return &cp
}

func hasOverrideSchema(a *automation.Automation) bool {
	c := a.Configuration
	if c == nil {
		return false
	}
	if c.Trigger != nil && c.Trigger.OverrideSchema != nil {
		return true
	}
	for _, act := range c.Actions {
		if act != nil && act.AppDefinedInfo != nil && act.AppDefinedInfo.OverrideOutputSchema != nil {
			return true
		}
	}
	return false
}

// okAutomation answers {automation} as presented for this request.
func (s *server) okAutomation(w http.ResponseWriter, r *http.Request, a *automation.Automation) {
	s.ok(w, map[string]any{"automation": presented(r, a)})
}

func presentedAll(r *http.Request, as []*automation.Automation) []*automation.Automation {
	out := make([]*automation.Automation, len(as))
	for i, a := range as {
		out[i] = presented(r, a)
	}
	return out
}

// keepOverrideSchemas carries the stored override schemas over into an update that did not ask to see
// them: a client that fetched without OVERRIDE_SCHEMA and sends the automation back never had them, and
// dropping them would change how the automation runs (enrichment, mapping checks). A client that asked
// for them sends what it wants kept.
func keepOverrideSchemas(r *http.Request, cur, next *automation.Automation) {
	if wantsOverrideSchema(r) || cur.Configuration == nil || next.Configuration == nil || next.Configuration == cur.Configuration {
		return
	}
	ct, nt := cur.Configuration.Trigger, next.Configuration.Trigger
	if ct != nil && nt != nil && nt.OverrideSchema == nil && ct.AppID == nt.AppID && ct.TriggerKey == nt.TriggerKey {
		nt.OverrideSchema = ct.OverrideSchema
	}
	for id, na := range next.Configuration.Actions {
		ca := cur.Configuration.Actions[id]
		if na == nil || ca == nil || na.AppDefinedInfo == nil || ca.AppDefinedInfo == nil {
			continue
		}
		if na.AppDefinedInfo.OverrideOutputSchema == nil && na.AppDefinedInfo.AppID == ca.AppDefinedInfo.AppID &&
			na.AppDefinedInfo.ActionKey == ca.AppDefinedInfo.ActionKey {
			na.AppDefinedInfo.OverrideOutputSchema = ca.AppDefinedInfo.OverrideOutputSchema
		}
	}
}
