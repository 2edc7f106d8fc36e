package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/phpform"
	"github.com/switchyard-dev/switchyard/pkg/preinstalled"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// The Piggy-compatible surface (seed 004): Piggy's automations API under /api/v3/oauth/clients, on the
// same engine. It answers in Piggy's shapes only — {"data": …, "meta": []} on success and
// {"code", "status_code", "message", "errors"?} on failure (the shape Piggy's PHP SDK recognises) —
// including for unknown paths, wrong methods, oversized bodies and panics under its prefix.

// piggyPrefix is where every Piggy path lives.
const piggyPrefix = "/api/v3/"

// Piggy's error codes (seed 004). Errors it does not document carry the HTTP status as their code.
const (
	piggyInvalidInput     = 1003
	piggyContactNotFound  = 55031
	piggyModelNotFound    = 60013
	piggyInvalidInputText = "Invalid input."
)

// piggyError is Piggy's error body; it is also the error Piggy handlers return.
type piggyError struct {
	Code       int                 `json:"code"`
	StatusCode int                 `json:"status_code"`
	Message    string              `json:"message"`
	Errors     map[string][]string `json:"errors,omitempty"`
}

func (e *piggyError) Error() string {
	return fmt.Sprintf("piggy %d %d: %s", e.StatusCode, e.Code, e.Message)
}

// invalidInput is 1003 naming the fields at fault, Laravel style ({field: [messages]}), with 422, the
// status Piggy's Laravel stack answers validation failures with.
func invalidInput(fields map[string][]string) *piggyError {
	return &piggyError{Code: piggyInvalidInput, StatusCode: http.StatusUnprocessableEntity, Message: piggyInvalidInputText, Errors: fields}
}

// toPiggy maps any error to Piggy's shape: Switchyard's validation errors become 1003 with their fields,
// other kinds keep their HTTP status (as code too), and internal errors are logged, never shown.
func (s *server) toPiggy(r *http.Request, err error) *piggyError {
	var pe *piggyError
	if errors.As(err, &pe) {
		return pe
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind == errs.Internal {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return &piggyError{Code: 500, StatusCode: 500, Message: "Internal server error."}
	}
	switch e.Kind {
	case errs.Invalid:
		fields := map[string][]string{}
		for _, v := range e.Violations {
			fields[v.Field] = append(fields[v.Field], v.Description)
		}
		if len(fields) == 0 {
			fields["body"] = []string{e.Message}
		}
		return invalidInput(fields)
	case errs.Unauthenticated:
		return &piggyError{Code: 401, StatusCode: 401, Message: "Unauthenticated."}
	}
	st := statusOf(e.Kind)
	return &piggyError{Code: st, StatusCode: st, Message: e.Message}
}

func (s *server) writePiggyError(w http.ResponseWriter, r *http.Request, err error) {
	pe := s.toPiggy(r, err)
	writeJSON(w, pe.StatusCode, pe, s.log)
}

// piggyOK answers Piggy's success envelope; meta is always an empty list, as in every seed example.
func (s *server) piggyOK(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "meta": []any{}}, s.log)
}

// piggy wraps a Piggy handler: the site's API keys as `Authorization: Bearer <key>` (the admin key with
// wix-site-id works too), Piggy's error shape for every failure, panics included.
func (s *server) piggy(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.answerPanic(w, r, s.writePiggyError)
		p, err := s.authenticate(r)
		if err == nil && p.SiteID == "" {
			err = errs.New(errs.Unauthenticated, "SITE_REQUIRED", "the key names no site")
		}
		if err == nil {
			err = h(w, r.WithContext(contextWithPrincipal(r, p)))
		}
		if err != nil {
			s.writePiggyError(w, r, err)
		}
	})
}

// piggyRouteError answers an unknown Piggy path (404) or a wrong method (405) in Piggy's shape.
func (s *server) piggyRouteError(w http.ResponseWriter, r *http.Request, status int, allow string) {
	if allow != "" {
		w.Header().Set("Allow", allow)
	}
	msg := "Not found."
	if status == http.StatusMethodNotAllowed {
		msg = "The " + r.Method + " method is not supported for this route."
	}
	writeJSON(w, status, &piggyError{Code: status, StatusCode: status, Message: msg}, s.log)
}

// piggyAutomation is one automation as Piggy lists it.
type piggyAutomation struct {
	UUID      string `json:"uuid"`
	Event     string `json:"event"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// piggyTime is ISO-8601 with a numeric offset, to the second, as in seed 004 ("2022-05-10T12:47:38+00:00").
func piggyTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05-07:00")
}

func toPiggyAutomation(a *automation.Automation) piggyAutomation {
	out := piggyAutomation{UUID: a.ID, Name: a.Name, Status: "inactive", CreatedAt: piggyTime(a.CreatedDate), UpdatedAt: piggyTime(a.UpdatedDate)}
	if a.IsActive() {
		out.Status = "active"
	}
	if a.Configuration != nil && a.Configuration.Trigger != nil {
		out.Event = a.Configuration.Trigger.TriggerKey
	}
	return out
}

// piggyListAutomations is "List Automations": every automation of the site (never drafts), oldest first.
func (s *server) piggyListAutomations(w http.ResponseWriter, r *http.Request) error {
	site := principalOf(r.Context()).SiteID
	out := []piggyAutomation{}
	view, err := s.siteView(r, site)
	if err != nil {
		return err
	}
	raw := json.RawMessage(`{"sort":[{"fieldName":"createdDate","order":"ASC"}],"cursorPaging":{"limit":500}}`)
	for {
		q, err := wql.Parse(raw, wql.AutomationSchema())
		if err != nil {
			return err
		}
		page, next, err := s.store.QueryAutomations(r.Context(), view, q)
		if err != nil {
			return err
		}
		for _, a := range page {
			out = append(out, toPiggyAutomation(a))
		}
		if next == "" {
			break
		}
		raw, _ = json.Marshal(map[string]any{"cursorPaging": map[string]any{"cursor": next}})
	}
	s.piggyOK(w, out)
	return nil
}

// piggyRunRequest is "Create Automation Run"'s body.
type piggyRunRequest struct {
	ContactUUID    string
	AutomationUUID string
	Data           map[string]any
}

// readPiggyRun reads the run body as JSON or, as Piggy's PHP SDK sends it, as a PHP-style form.
func (s *server) readPiggyRun(r *http.Request) (piggyRunRequest, error) {
	var body map[string]any
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.maxBody))
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return piggyRunRequest{}, errs.New(errs.TooLarge, "PAYLOAD_TOO_LARGE", "request body is larger than %d bytes", s.maxBody)
		} else if err != nil {
			return piggyRunRequest{}, fmt.Errorf("read body: %w", err)
		}
		if body, err = phpform.Parse(string(b)); err != nil {
			return piggyRunRequest{}, invalidInput(map[string][]string{"body": {err.Error()}})
		}
	} else if err := s.decode(r, &body); err != nil {
		return piggyRunRequest{}, err
	}
	fields := map[string][]string{}
	uuid := func(key, label string) string {
		v, present := body[key]
		str, _ := v.(string)
		switch {
		case !present || v == nil || str == "":
			fields[key] = []string{"The " + label + " field is required."}
		case !automation.IsGUID(str):
			fields[key] = []string{"The " + label + " must be a valid UUID."}
		}
		return str
	}
	req := piggyRunRequest{ContactUUID: uuid("contact_uuid", "contact uuid"), AutomationUUID: uuid("automation_uuid", "automation uuid")}
	switch d := body["data"].(type) {
	case nil:
		req.Data = map[string]any{}
	case map[string]any:
		req.Data = d
	case []any:
		if len(d) > 0 { // PHP's empty array is []; a list with items has no keys to map from
			fields["data"] = []string{"The data must be an associative array (a JSON object)."}
		}
		req.Data = map[string]any{}
	default:
		fields["data"] = []string{"The data must be an array."}
	}
	if len(fields) > 0 {
		return req, invalidInput(fields)
	}
	return req, nil
}

// piggyCreateRun is "Create Automation Run": a manual, non-test run of one contact_updated automation of
// the system app for one contact, with the caller's data. The payload is {contactId, data}; identity
// enrichment adds the contact. Inactive automations are refused: a run through the API is not a test, and
// an owner who switched an automation off does not expect it to act.
func (s *server) piggyCreateRun(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	req, err := s.readPiggyRun(r)
	if err != nil {
		return err
	}
	if _, err := s.store.GetContact(r.Context(), p.SiteID, req.ContactUUID); errors.Is(err, errs.ErrNotFound) {
		return &piggyError{Code: piggyContactNotFound, StatusCode: http.StatusNotFound, Message: "Contact not found."}
	} else if err != nil {
		return err
	}
	modelNotFound := &piggyError{Code: piggyModelNotFound, StatusCode: http.StatusNotFound, Message: "Model not found."}
	a, err := preinstalled.Get(r.Context(), s.store, p.SiteID, req.AutomationUUID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && a.DraftInfo != nil) {
		return modelNotFound
	} else if err != nil {
		return err
	}
	if t := a.Configuration; t == nil || t.Trigger == nil || t.Trigger.AppID != systemapp.AppID || t.Trigger.TriggerKey != systemapp.TriggerContactUpdated {
		return invalidInput(map[string][]string{"automation_uuid": {"Only automations with the contact_updated event can be run."}})
	}
	if !a.IsActive() {
		return invalidInput(map[string][]string{"automation_uuid": {"The automation is not active."}})
	}
	_, err = s.engine.ManualRun(r.Context(), engine.ManualRunRequest{SiteID: p.SiteID, AutomationID: a.ID,
		Payload: map[string]any{"contactId": req.ContactUUID, "data": req.Data}, ExternalEntityID: req.ContactUUID,
		RequestID: w.Header().Get("X-Wix-Request-Id"), By: auditInfo(p).UserID})
	if errs.Is(err, errs.NotFound) {
		return modelNotFound
	}
	if err != nil {
		return err
	}
	s.piggyOK(w, []any{})
	return nil
}

func contextWithPrincipal(r *http.Request, p access.Principal) context.Context {
	return context.WithValue(r.Context(), principalKey{}, p)
}

// isPiggyPath reports whether a request belongs to the Piggy surface.
func isPiggyPath(path string) bool { return strings.HasPrefix(path, piggyPrefix) }
