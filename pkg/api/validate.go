package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/mapcheck"
	"github.com/switchyard-dev/switchyard/pkg/provider"
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
	// ProviderConfigurationError is what the provider's validate-configuration answered (PROVIDER_ERROR).
	ProviderConfigurationError *provider.ConfigurationError `json:"providerConfigurationError,omitempty"`
	Message                    string                       `json:"message,omitempty"`
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
	actionEntry := func(id string) *actionValidationInfo {
		info := byAction[id]
		if info == nil {
			actInfo = append(actInfo, actionValidationInfo{ActionID: id, ValidationErrors: []automationValidationError{}})
			info = &actInfo[len(actInfo)-1]
			if act := a.Configuration.Actions[id]; act != nil && act.AppDefinedInfo != nil {
				info.AppID, info.ActionKey = act.AppDefinedInfo.AppID, act.AppDefinedInfo.ActionKey
			}
			byAction[id] = info
		}
		return info
	}
	actionErr := func(id, errType, field, msg string) {
		if len(only) > 0 && !only[id] {
			return
		}
		info := actionEntry(id)
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
	if !vs.SkipProviderValidations {
		for _, f := range s.providerFindings(ctx, site, a, vs.ActionIDs, providerCallBudget) {
			if f.ActionID == "" {
				trigErrs = append(trigErrs, providerError(f))
				continue
			}
			actionEntry(f.ActionID).ValidationErrors = append(actionEntry(f.ActionID).ValidationErrors, providerError(f))
		}
	}
	// Warnings (a provider's remarks, or a provider that could not be asked) do not make it invalid.
	valid := true
	for _, e := range trigErrs {
		valid = valid && e.Severity != "ERROR"
	}
	for _, info := range actInfo {
		for _, e := range info.ValidationErrors {
			valid = valid && e.Severity != "ERROR"
		}
	}
	return map[string]any{"valid": valid, "triggerValidationErrors": trigErrs,
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
