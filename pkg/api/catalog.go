package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

var keyRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func checkLen(vs *[]errs.FieldViolation, field, v string, min, max int) {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0 && min > 0:
		*vs = append(*vs, errs.FieldViolation{Field: field, Description: "must not be empty", ViolatedRule: "REQUIRED_FIELD"})
	case n < min:
		*vs = append(*vs, errs.FieldViolation{Field: field, Description: "is too short", ViolatedRule: "MIN_LENGTH"})
	case n > max:
		*vs = append(*vs, errs.FieldViolation{Field: field, Description: "is too long", ViolatedRule: "MAX_LENGTH"})
	}
}

func checkKey(vs *[]errs.FieldViolation, field, v string) {
	checkLen(vs, field, v, 1, 100)
	if v != "" && !keyRe.MatchString(v) {
		*vs = append(*vs, errs.FieldViolation{Field: field, Description: "may hold only letters, digits, '_', '-' and '.'", ViolatedRule: "FORMAT"})
	}
}

func (s *server) createApp(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(principalOf(r.Context())); err != nil {
		return err
	}
	var req struct {
		App *catalog.App `json:"app"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if req.App == nil {
		return errs.Violation("app", "REQUIRED_FIELD", "must not be empty")
	}
	a := req.App
	var vs []errs.FieldViolation
	if a.ID != "" && !automation.IsGUID(a.ID) {
		vs = append(vs, errs.FieldViolation{Field: "app.id", Description: "must be a GUID", ViolatedRule: "FORMAT"})
	}
	checkLen(&vs, "app.name", a.Name, 1, 200)
	if a.ProviderBaseURI != "" {
		if u, err := url.Parse(a.ProviderBaseURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			vs = append(vs, errs.FieldViolation{Field: "app.providerBaseUri", Description: "must be an absolute http(s) URL without credentials", ViolatedRule: "FORMAT"})
		}
	}
	format := s.checkRequestFormat(&vs, a.RequestFormat)
	if err := errs.Violations(vs); err != nil {
		return err
	}
	now := s.now().UTC()
	app := &catalog.App{ID: a.ID, Name: a.Name, ProviderBaseURI: strings.TrimRight(a.ProviderBaseURI, "/"),
		RequestFormat: format, CreatedDate: now, UpdatedDate: now}
	if app.ID == "" {
		app.ID = s.newID()
	}
	// The signing secret is created with the app, in one write, and shown this once.
	out := map[string]any{"app": app}
	var err error
	if s.signing.Secrets != nil {
		secret, rec, ierr := s.signing.Secrets.Issue(app.ID)
		if ierr != nil {
			return ierr
		}
		err = s.store.CreateAppWithSecrets(r.Context(), app, rec)
		out["signingSecret"] = secret
	} else {
		err = s.store.CreateApp(r.Context(), app)
	}
	if err != nil {
		if errors.Is(err, errs.ErrConflict) {
			return errs.New(errs.Conflict, "APP_ALREADY_EXISTS", "an app with id %s already exists", app.ID)
		}
		return err
	}
	s.ok(w, out)
	return nil
}

// requireAppOwner allows the admin, or a key acting as the app itself, to change an app's catalog.
func (s *server) requireAppOwner(r *http.Request, appID, field string) error {
	p := principalOf(r.Context())
	if !automation.IsGUID(appID) {
		return errs.Violation(field, "FORMAT", "must be a GUID")
	}
	if appID == systemapp.AppID {
		return errs.New(errs.PermissionDenied, "SYSTEM_APP_READ_ONLY", "the system app's catalog is built in and cannot be changed")
	}
	if !p.Admin && p.AppID != appID {
		return errs.New(errs.PermissionDenied, "NOT_APP_OWNER", "only app %s (or the admin) may change its catalog", appID)
	}
	if _, err := s.store.GetApp(r.Context(), appID); errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.NotFound, "APP_NOT_FOUND", "app %s does not exist", appID)
	} else if err != nil {
		return err
	}
	return nil
}

// checkMethods rejects implementedMethods names Wix does not define for the provider kind.
func checkMethods(vs *[]errs.FieldViolation, field string, m catalog.ImplementedMethods, allowed []string) {
	if err := m.Check(allowed); err != nil {
		*vs = append(*vs, errs.FieldViolation{Field: field, Description: err.Error(), ViolatedRule: "ENUM"})
	}
}

// compileSchema checks a registered schema now, so a bad one is a 400 and never a later crash.
func (s *server) compileSchema(vs *[]errs.FieldViolation, field string, raw json.RawMessage, required bool) {
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			*vs = append(*vs, errs.FieldViolation{Field: field, Description: "must not be empty", ViolatedRule: "REQUIRED_FIELD"})
		}
		return
	}
	if _, err := s.schemas.Compile(raw); err != nil {
		var e *errs.Error
		msg := err.Error()
		if errors.As(err, &e) {
			msg = e.Message
		}
		*vs = append(*vs, errs.FieldViolation{Field: field, Description: msg, ViolatedRule: "JSON_SCHEMA"})
	}
}

func (s *server) createTrigger(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Trigger *catalog.Trigger `json:"trigger"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if req.Trigger == nil {
		return errs.Violation("trigger", "REQUIRED_FIELD", "must not be empty")
	}
	t := req.Trigger
	if err := s.requireAppOwner(r, t.AppID, "trigger.appId"); err != nil {
		return err
	}
	var vs []errs.FieldViolation
	checkKey(&vs, "trigger.triggerKey", t.TriggerKey)
	checkLen(&vs, "trigger.displayName", t.DisplayName, 1, 80)
	s.compileSchema(&vs, "trigger.payloadDataSchema", t.PayloadDataSchema, true)
	checkMethods(&vs, "trigger.implementedMethods", t.ImplementedMethods, catalog.TriggerMethods)
	if err := errs.Violations(vs); err != nil {
		return err
	}
	now := s.now().UTC()
	out := &catalog.Trigger{ID: s.newID(), AppID: t.AppID, TriggerKey: t.TriggerKey, DisplayName: t.DisplayName,
		PayloadDataSchema: t.PayloadDataSchema, ImplementedMethods: t.ImplementedMethods, CreatedDate: now, UpdatedDate: now}
	if prev, err := s.store.GetTrigger(r.Context(), t.AppID, t.TriggerKey); err == nil {
		out.ID, out.CreatedDate = prev.ID, prev.CreatedDate
	}
	if err := s.store.PutTrigger(r.Context(), out); err != nil {
		return err
	}
	s.ok(w, map[string]any{"trigger": out})
	return nil
}

func (s *server) createAction(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Action *catalog.Action `json:"action"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if req.Action == nil {
		return errs.Violation("action", "REQUIRED_FIELD", "must not be empty")
	}
	a := req.Action
	if err := s.requireAppOwner(r, a.AppID, "action.appId"); err != nil {
		return err
	}
	var vs []errs.FieldViolation
	checkKey(&vs, "action.actionKey", a.ActionKey)
	checkLen(&vs, "action.displayName", a.DisplayName, 1, 80)
	s.compileSchema(&vs, "action.inputSchema", a.InputSchema, true)
	s.compileSchema(&vs, "action.outputSchema", a.OutputSchema, false)
	if len(a.UISchema) > 0 && string(a.UISchema) != "null" {
		var obj map[string]any
		if err := json.Unmarshal(a.UISchema, &obj); err != nil {
			vs = append(vs, errs.FieldViolation{Field: "action.uiSchema", Description: "must be a JSON object", ViolatedRule: "TYPE"})
		}
	}
	checkMethods(&vs, "action.implementedMethods", a.ImplementedMethods, catalog.ActionMethods)
	if err := errs.Violations(vs); err != nil {
		return err
	}
	now := s.now().UTC()
	out := &catalog.Action{ID: s.newID(), AppID: a.AppID, ActionKey: a.ActionKey, DisplayName: a.DisplayName,
		InputSchema: a.InputSchema, OutputSchema: a.OutputSchema, UISchema: a.UISchema,
		ImplementedMethods: a.ImplementedMethods, CreatedDate: now, UpdatedDate: now}
	if prev, err := s.store.GetAction(r.Context(), a.AppID, a.ActionKey); err == nil {
		out.ID, out.CreatedDate = prev.ID, prev.CreatedDate
	}
	if err := s.store.PutAction(r.Context(), out); err != nil {
		return err
	}
	s.ok(w, map[string]any{"action": out})
	return nil
}

func (s *server) createInstallation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	site, err := requireSite(p)
	if err != nil {
		return err
	}
	if p.IsApp() {
		return errs.New(errs.PermissionDenied, "OWNER_REQUIRED", "only the site owner (or the admin) may install apps")
	}
	var req struct {
		AppID string `json:"appId"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if !automation.IsGUID(req.AppID) {
		return errs.Violation("appId", "FORMAT", "must be a GUID")
	}
	if req.AppID == systemapp.AppID { // installed everywhere already; nothing to write
		in, err := systemapp.GetInstallation(r.Context(), s.store, site, req.AppID)
		if err != nil {
			return err
		}
		s.ok(w, map[string]any{"installation": in})
		return nil
	}
	if _, err := s.store.GetApp(r.Context(), req.AppID); errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.NotFound, "APP_NOT_FOUND", "app %s does not exist", req.AppID)
	} else if err != nil {
		return err
	}
	in, err := s.store.PutInstallation(r.Context(), &catalog.Installation{SiteID: site, AppID: req.AppID, CreatedDate: s.now().UTC()})
	if err != nil {
		return err
	}
	s.ok(w, map[string]any{"installation": in})
	return nil
}

func (s *server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(principalOf(r.Context())); err != nil {
		return err
	}
	var req struct {
		APIKey *struct {
			SiteID string `json:"siteId"`
			AppID  string `json:"appId"`
			Name   string `json:"name"`
		} `json:"apiKey"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if req.APIKey == nil {
		return errs.Violation("apiKey", "REQUIRED_FIELD", "must not be empty")
	}
	k := req.APIKey
	var vs []errs.FieldViolation
	if !automation.IsGUID(k.SiteID) {
		vs = append(vs, errs.FieldViolation{Field: "apiKey.siteId", Description: "must be a GUID", ViolatedRule: "FORMAT"})
	}
	if k.AppID != "" && !automation.IsGUID(k.AppID) {
		vs = append(vs, errs.FieldViolation{Field: "apiKey.appId", Description: "must be a GUID", ViolatedRule: "FORMAT"})
	}
	checkLen(&vs, "apiKey.name", k.Name, 1, 200)
	if err := errs.Violations(vs); err != nil {
		return err
	}
	if k.AppID == systemapp.AppID {
		// Its triggers are reported in-process (contacts); a key would let its holder forge them.
		return errs.New(errs.PermissionDenied, "SYSTEM_APP_READ_ONLY", "the system app acts only inside Switchyard and has no API keys")
	}
	if k.AppID != "" {
		if _, err := s.store.GetApp(r.Context(), k.AppID); errors.Is(err, errs.ErrNotFound) {
			return errs.New(errs.NotFound, "APP_NOT_FOUND", "app %s does not exist", k.AppID)
		} else if err != nil {
			return err
		}
	}
	secret, err := access.NewSecret()
	if err != nil {
		return err
	}
	key := &access.APIKey{ID: s.newID(), SiteID: k.SiteID, AppID: k.AppID, Name: k.Name,
		CreatedDate: s.now().UTC(), KeyHash: access.Hash(secret)}
	if err := s.store.CreateAPIKey(r.Context(), key); err != nil {
		return err
	}
	s.ok(w, map[string]any{"apiKey": key, "key": secret})
	return nil
}
