package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/mapcheck"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

// storeCatalog adapts the store to mapcheck's catalog for one request.
type storeCatalog struct {
	ctx   context.Context
	store Store
}

func (c storeCatalog) Trigger(appID, key string) (json.RawMessage, bool) {
	t, err := c.store.GetTrigger(c.ctx, appID, key)
	if err != nil {
		return nil, false
	}
	return t.PayloadDataSchema, true
}

func (c storeCatalog) Action(appID, key string) (json.RawMessage, json.RawMessage, bool) {
	a, err := c.store.GetAction(c.ctx, appID, key)
	if err != nil {
		return nil, nil, false
	}
	return a.InputSchema, a.OutputSchema, true
}

type validationSettings struct {
	ActionIDs               []string `json:"actionIds"`
	SkipProviderValidations bool     `json:"skipProviderValidations"`
}

type configurationError struct {
	ErrorType      string `json:"errorType"`
	FieldKey       string `json:"fieldKey,omitempty"`
	FilterFieldKey string `json:"filterFieldKey,omitempty"`
}

type automationValidationError struct {
	ErrorType          string              `json:"errorType"`
	Severity           string              `json:"severity"`
	ConfigurationError *configurationError `json:"configurationError,omitempty"`
	Message            string              `json:"message,omitempty"`
}

type actionValidationInfo struct {
	ActionID         string                      `json:"actionId"`
	AppID            string                      `json:"appId,omitempty"`
	ActionKey        string                      `json:"actionKey,omitempty"`
	ValidationErrors []automationValidationError `json:"validationErrors"`
}

// validate runs the catalog checks of reference §2.4 over an automation of site.
func (s *server) validate(ctx context.Context, site string, a *automation.Automation, vs validationSettings) map[string]any {
	trigErrs := []automationValidationError{}
	actInfo := []actionValidationInfo{}
	byAction := map[string]*actionValidationInfo{}
	only := map[string]bool{}
	for _, id := range vs.ActionIDs {
		only[id] = true
	}
	actionErr := func(id, errType, field, msg string) {
		if len(only) > 0 && !only[id] {
			return
		}
		info := byAction[id]
		if info == nil {
			actInfo = append(actInfo, actionValidationInfo{ActionID: id, ValidationErrors: []automationValidationError{}})
			info = &actInfo[len(actInfo)-1]
			if act := a.Configuration.Actions[id]; act != nil && act.AppDefinedInfo != nil {
				info.AppID, info.ActionKey = act.AppDefinedInfo.AppID, act.AppDefinedInfo.ActionKey
			}
			byAction[id] = info
		}
		info.ValidationErrors = append(info.ValidationErrors, automationValidationError{ErrorType: "CONFIGURATION_ERROR", Severity: "ERROR",
			ConfigurationError: &configurationError{ErrorType: errType, FieldKey: field}, Message: msg})
	}
	installed := func(appID string) bool {
		_, err := systemapp.GetInstallation(ctx, s.store, site, appID)
		return err == nil
	}
	if t := a.Configuration.Trigger; t != nil && len(only) == 0 && !installed(t.AppID) {
		trigErrs = append(trigErrs, automationValidationError{ErrorType: "CONFIGURATION_ERROR", Severity: "ERROR",
			ConfigurationError: &configurationError{ErrorType: "APP_NOT_INSTALLED"}, Message: "the trigger's app is not installed on this site"})
	}
	for _, id := range automation.GraphOrder(a.Configuration) {
		if act := a.Configuration.Actions[id]; act.AppDefinedInfo != nil && !installed(act.AppDefinedInfo.AppID) {
			actionErr(id, "APP_NOT_INSTALLED", "", "the action's app is not installed on this site")
		}
	}
	for _, is := range mapcheck.Check(a, storeCatalog{ctx: ctx, store: s.store}) {
		if is.ActionID == "" {
			if len(only) > 0 {
				continue // with actionIds, triggers are not validated
			}
			ce := &configurationError{ErrorType: is.ErrorType}
			if is.FieldKey != "" {
				ce.FilterFieldKey = is.FieldKey
			}
			trigErrs = append(trigErrs, automationValidationError{ErrorType: "CONFIGURATION_ERROR", Severity: "ERROR", ConfigurationError: ce, Message: is.Message})
			continue
		}
		actionErr(is.ActionID, is.ErrorType, is.FieldKey, is.Message)
	}
	return map[string]any{"valid": len(trigErrs) == 0 && len(actInfo) == 0, "triggerValidationErrors": trigErrs,
		"actionValidationInfo": actInfo, "automationValidationErrors": []automationValidationError{}}
}

// validateAutomation is ValidateAutomation: the automation in the request, checked against the catalog.
func (s *server) validateAutomation(w http.ResponseWriter, r *http.Request) error {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return err
	}
	var req struct {
		Automation         *automation.Automation `json:"automation"`
		ValidationSettings validationSettings     `json:"validationSettings"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	if req.Automation == nil {
		return errs.Violation("automation", "REQUIRED_FIELD", "must not be empty")
	}
	automation.Normalize(req.Automation)
	if err := automation.ValidateForSave(req.Automation); err != nil {
		return err
	}
	s.ok(w, s.validate(r.Context(), site, req.Automation, req.ValidationSettings))
	return nil
}

// validateAutomationByID is ValidateAutomationById: a stored automation, checked against the catalog now.
func (s *server) validateAutomationByID(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ValidationSettings validationSettings `json:"validationSettings"`
	}
	if err := s.decodeOptional(r, &req); err != nil {
		return err
	}
	site, a, err := s.pathAutomation(r)
	if err != nil {
		return err
	}
	s.ok(w, s.validate(r.Context(), site, a, req.ValidationSettings))
	return nil
}

// getAutomationActionSchema is GetAutomationActionSchema: the accumulated payload schema an action sees.
func (s *server) getAutomationActionSchema(w http.ResponseWriter, r *http.Request) error {
	_, a, err := s.pathAutomation(r)
	if err != nil {
		return err
	}
	actionID := r.PathValue("actionId")
	if _, ok := a.Configuration.Actions[actionID]; !ok {
		return errs.New(errs.NotFound, "ACTION_NOT_FOUND", "automation %s has no action %s", a.ID, actionID)
	}
	sch, err := mapcheck.AvailableSchema(a, actionID, storeCatalog{ctx: r.Context(), store: s.store})
	if err != nil {
		return errs.New(errs.Invalid, "SCHEMA_UNAVAILABLE", "%v", err)
	}
	s.ok(w, map[string]any{"schema": sch})
	return nil
}

// getActionsQuotaInfo is GetActionsQuotaInfo. Providers' quota-info calls are not aggregated yet (the
// service-plugin work), so the list is empty — a valid answer: Wix does not enforce quotas either.
func (s *server) getActionsQuotaInfo(w http.ResponseWriter, r *http.Request) error {
	if _, err := requireSite(principalOf(r.Context())); err != nil {
		return err
	}
	s.ok(w, map[string]any{"actionProviderQuotaInfo": []any{}})
	return nil
}
