// Package plugins decides which service-plugin calls the platform makes outside a run and gathers their
// answers: validate-configuration of an automation's actions and trigger (ValidateAutomation, and saves
// as a warning) and quota-info of the actions a site uses (GetActionsQuotaInfo). A provider is called
// only for the methods its catalog entry declares in implementedMethods, calls run concurrently under a
// bound, and a provider that fails is reported or left out — never an error of the request.
package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/outbound"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
)

// Targets builds the provider.Target of a call to an app — its signing secrets or envelope
// (*outbound.Builder); nil sends unsigned plain-JSON calls.
type Targets interface {
	Target(ctx context.Context, app *catalog.App, call outbound.Call) (provider.Target, error)
}

// Caller makes the service-plugin calls; *provider.Client is one.
type Caller interface {
	ValidateConfiguration(ctx context.Context, t provider.Target, req provider.ValidateConfigurationRequest) (*provider.ValidateConfigurationResponse, error)
	ValidateTriggerConfiguration(ctx context.Context, t provider.Target, req provider.TriggerValidateConfigurationRequest) (*provider.ValidateConfigurationResponse, error)
	QuotaInfo(ctx context.Context, t provider.Target, req provider.QuotaInfoRequest) (*provider.QuotaInfoResponse, error)
}

// Catalog is what the checks read about apps and their definitions.
type Catalog interface {
	GetApp(ctx context.Context, id string) (*catalog.App, error)
	GetTrigger(ctx context.Context, appID, triggerKey string) (*catalog.Trigger, error)
	GetAction(ctx context.Context, appID, actionKey string) (*catalog.Action, error)
}

// DefaultConcurrency bounds the provider calls one request makes at a time.
const DefaultConcurrency = 8

// Checker runs the calls. The zero Concurrency means DefaultConcurrency.
type Checker struct {
	Catalog     Catalog
	Caller      Caller
	Targets     Targets
	Concurrency int
	Logger      *slog.Logger
}

// Severities of a Finding (Wix's ValidationErrorSeverity).
const (
	SeverityError   = "ERROR"
	SeverityWarning = "WARNING"
)

// Finding is one providerConfigurationError for the trigger (ActionID empty) or an action.
type Finding struct {
	ActionID string
	AppID    string
	Key      string // actionKey, or triggerKey
	Severity string
	Error    provider.ConfigurationError
	// Failed: the provider could not be asked (timeout, 5xx, bad answer); Error says what happened.
	Failed bool
}

// Scope selects what Validate checks.
type Scope struct {
	// ActionIDs limits the check to these actions, and leaves the trigger out (Wix's
	// validationSettings.actionIds); empty: every action and the trigger.
	ActionIDs []string
	// Installed reports whether the site installed an app; providers of apps it did not install are
	// not called (the catalog check reports APP_NOT_INSTALLED). Nil: all are installed.
	Installed func(appID string) bool
	// SiteID is the site the automation belongs to (the JWT envelope's instanceId).
	SiteID string
}

// target is the call's target; an app whose calls cannot be signed is a failed provider.
func (c *Checker) target(ctx context.Context, app *catalog.App, site, extension string) (provider.Target, error) {
	if c.Targets == nil {
		return provider.Target{BaseURI: app.ProviderBaseURI, AppID: app.ID}, nil
	}
	return c.Targets.Target(ctx, app, outbound.Call{SiteID: site, ExtensionType: extension})
}

// Validate calls validate-configuration of every APP_DEFINED action in scope whose definition declares
// it, and of the trigger when its definition declares it. Findings come in graph order, the trigger's
// first.
func (c *Checker) Validate(ctx context.Context, a *automation.Automation, sc Scope) []Finding {
	if a == nil || a.Configuration == nil || c.Caller == nil {
		return nil
	}
	installed := sc.Installed
	if installed == nil {
		installed = func(string) bool { return true }
	}
	var jobs []func() []Finding
	if t := a.Configuration.Trigger; t != nil && len(sc.ActionIDs) == 0 && installed(t.AppID) {
		jobs = append(jobs, func() []Finding { return c.validateTrigger(ctx, t, sc.SiteID) })
	}
	for _, id := range automation.GraphOrder(a.Configuration) {
		act := a.Configuration.Actions[id]
		if act == nil || act.Type != automation.TypeAppDefined || act.AppDefinedInfo == nil {
			continue
		}
		if len(sc.ActionIDs) > 0 && !slices.Contains(sc.ActionIDs, id) {
			continue
		}
		if !installed(act.AppDefinedInfo.AppID) {
			continue
		}
		jobs = append(jobs, func() []Finding { return c.validateAction(ctx, id, act.AppDefinedInfo, sc.SiteID) })
	}
	var out []Finding
	for _, fs := range c.run(jobs) {
		out = append(out, fs...)
	}
	return out
}

func (c *Checker) validateAction(ctx context.Context, actionID string, info *automation.AppDefinedInfo, site string) []Finding {
	def, err := c.Catalog.GetAction(ctx, info.AppID, info.ActionKey)
	if err != nil || !def.ImplementedMethods.Has(catalog.MethodValidateConfiguration) {
		return nil // unknown actions are the catalog check's to report; no method: always valid
	}
	app, err := c.Catalog.GetApp(ctx, info.AppID)
	if err != nil {
		return nil
	}
	mapping := info.InputMapping
	if mapping == nil {
		mapping = map[string]any{}
	}
	raw, err := json.Marshal(mapping)
	if err != nil {
		return nil
	}
	base := Finding{ActionID: actionID, AppID: info.AppID, Key: info.ActionKey}
	target, err := c.target(ctx, app, site, wixjwt.ActionProvider)
	if err != nil {
		c.logFailure(ctx, "validate-configuration", info.AppID, info.ActionKey, err)
		return []Finding{failed(base, err)}
	}
	resp, err := c.Caller.ValidateConfiguration(ctx, target,
		provider.ValidateConfigurationRequest{ActionKey: info.ActionKey, InputMapping: string(raw)})
	if err != nil {
		c.logFailure(ctx, "validate-configuration", info.AppID, info.ActionKey, err)
		return []Finding{failed(base, err)}
	}
	return verdict(base, resp)
}

func (c *Checker) validateTrigger(ctx context.Context, t *automation.Trigger, site string) []Finding {
	def, err := c.Catalog.GetTrigger(ctx, t.AppID, t.TriggerKey)
	if err != nil || !def.ImplementedMethods.Has(catalog.MethodValidateConfiguration) {
		return nil
	}
	app, err := c.Catalog.GetApp(ctx, t.AppID)
	if err != nil {
		return nil
	}
	base := Finding{AppID: t.AppID, Key: t.TriggerKey}
	target, err := c.target(ctx, app, site, wixjwt.TriggerProvider)
	if err != nil {
		c.logFailure(ctx, "trigger validate-configuration", t.AppID, t.TriggerKey, err)
		return []Finding{failed(base, err)}
	}
	resp, err := c.Caller.ValidateTriggerConfiguration(ctx, target, provider.TriggerValidateConfigurationRequest{
		TriggerKey: t.TriggerKey, SelectedFilterOptions: SelectedFilterOptions(t), AutomationConfigMapping: t.AutomationConfigMapping})
	if err != nil {
		c.logFailure(ctx, "trigger validate-configuration", t.AppID, t.TriggerKey, err)
		return []Finding{failed(base, err)}
	}
	return verdict(base, resp)
}

// SelectedFilterOptions turns an automation's filterValueSelection ("<filterId>__<value>") into the
// trigger provider's selectedFilterOptions, one per field key in first-seen order. A filter id that
// names one of the trigger's filters is reported under that filter's fieldKey, any other as itself.
func SelectedFilterOptions(t *automation.Trigger) []provider.SelectedFilterOption {
	if t == nil || t.FilterValueSelection == nil {
		return nil
	}
	keyOf := map[string]string{}
	for _, f := range t.Filters {
		if f.ID != "" {
			keyOf[f.ID] = f.FieldKey
		}
	}
	var out []provider.SelectedFilterOption
	at := map[string]int{}
	for _, sel := range t.FilterValueSelection.SelectedFilterValues {
		id, value, ok := strings.Cut(sel, "__")
		if !ok || id == "" {
			continue
		}
		key := id
		if k, ok := keyOf[id]; ok && k != "" {
			key = k
		}
		i, seen := at[key]
		if !seen {
			i = len(out)
			at[key] = i
			out = append(out, provider.SelectedFilterOption{FieldKey: key, Values: []string{}})
		}
		out[i].Values = append(out[i].Values, value)
	}
	return out
}

// verdict turns a provider's answer into findings: its errors are ERRORs when it says invalid and
// WARNINGs when it says valid; "invalid" without any error still yields one.
func verdict(base Finding, resp *provider.ValidateConfigurationResponse) []Finding {
	sev := SeverityError
	if resp.Valid {
		sev = SeverityWarning
	}
	var out []Finding
	for _, e := range resp.ConfigurationErrors {
		f := base
		f.Severity, f.Error = sev, e
		out = append(out, f)
	}
	if !resp.Valid && len(out) == 0 {
		f := base
		f.Severity = SeverityError
		f.Error = provider.ConfigurationError{Title: "Invalid configuration", Message: "The provider reported this configuration as invalid."}
		out = append(out, f)
	}
	return out
}

// failed reports a provider that could not be asked: a WARNING, since nothing is known to be wrong
// with the configuration itself.
func failed(base Finding, err error) Finding {
	base.Severity, base.Failed = SeverityWarning, true
	base.Error = provider.ConfigurationError{Title: "Provider unavailable",
		Message: "validate-configuration could not be completed: " + describe(err)}
	return base
}

func describe(err error) string {
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Description != "" {
		return pe.Description
	}
	return err.Error()
}

func (c *Checker) logFailure(ctx context.Context, method, appID, key string, err error) {
	if c.Logger != nil {
		c.Logger.WarnContext(ctx, "service-plugin call failed", "method", method, "appId", appID, "key", key, "err", err)
	}
}

// run executes jobs at most Concurrency at a time and returns their results in job order.
func (c *Checker) run(jobs []func() []Finding) [][]Finding {
	out := make([][]Finding, len(jobs))
	forEach(len(jobs), c.Concurrency, func(i int) { out[i] = jobs[i]() })
	return out
}

// forEach calls fn(0..n-1) on at most limit goroutines at once and waits for all of them.
func forEach(n, limit int, fn func(i int)) {
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// QuotaEntry is one item of GetActionsQuotaInfo's actionProviderQuotaInfo (reference §2.5).
type QuotaEntry struct {
	AppID           string                   `json:"appId"`
	ActionKey       string                   `json:"actionKey"`
	ActionQuotaInfo provider.ActionQuotaInfo `json:"actionQuotaInfo"`
}

// Quotas asks quota-info of each (appId, actionKey) the automations use as an APP_DEFINED action, once
// each and only where the action declares getQuotaInfo. Entries come sorted by app and key; providers
// that fail are logged and left out.
func (c *Checker) Quotas(ctx context.Context, site string, autos []*automation.Automation) []QuotaEntry {
	if c.Caller == nil {
		return []QuotaEntry{}
	}
	type ref struct{ app, key string }
	seen := map[ref]bool{}
	var refs []ref
	for _, a := range autos {
		if a == nil || a.Configuration == nil {
			continue
		}
		for _, act := range a.Configuration.Actions {
			if act == nil || act.Type != automation.TypeAppDefined || act.AppDefinedInfo == nil {
				continue
			}
			r := ref{act.AppDefinedInfo.AppID, act.AppDefinedInfo.ActionKey}
			if !seen[r] {
				seen[r] = true
				refs = append(refs, r)
			}
		}
	}
	slices.SortFunc(refs, func(a, b ref) int { return strings.Compare(a.app+"\x00"+a.key, b.app+"\x00"+b.key) })
	results := make([]*QuotaEntry, len(refs))
	forEach(len(refs), c.Concurrency, func(i int) {
		r := refs[i]
		def, err := c.Catalog.GetAction(ctx, r.app, r.key)
		if err != nil || !def.ImplementedMethods.Has(catalog.MethodGetQuotaInfo) {
			return
		}
		app, err := c.Catalog.GetApp(ctx, r.app)
		if err != nil {
			return
		}
		target, err := c.target(ctx, app, site, wixjwt.ActionProvider)
		if err != nil {
			c.logFailure(ctx, "quota-info", r.app, r.key, err)
			return
		}
		resp, err := c.Caller.QuotaInfo(ctx, target, provider.QuotaInfoRequest{ActionKey: r.key})
		if err != nil {
			c.logFailure(ctx, "quota-info", r.app, r.key, err)
			return
		}
		info := resp.ActionQuotaInfo
		if info.QuotaInfo == nil {
			info.QuotaInfo = []provider.QuotaInfo{}
		}
		results[i] = &QuotaEntry{AppID: r.app, ActionKey: r.key, ActionQuotaInfo: info}
	})
	out := []QuotaEntry{}
	for _, e := range results {
		if e != nil {
			out = append(out, *e)
		}
	}
	return out
}
