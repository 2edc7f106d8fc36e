package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/plugins"
	"github.com/switchyard-dev/switchyard/pkg/preinstalled"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// Time budgets of the service-plugin calls a request makes. A save waits less than a validation: its
// provider check is advisory.
const (
	providerCallBudget = 10 * time.Second
	saveCheckBudget    = 5 * time.Second
)

// HeaderProviderWarnings is set on a create or update whose automation a provider found invalid, or
// could not check. The Wix response shapes have no room for warnings, so the saved automation comes
// back as usual and this header summarises what ValidateAutomationById would report in full:
// comma-separated "<actionId or trigger>=<INVALID|WARNING|PROVIDER_FAILED>".
const HeaderProviderWarnings = "X-Switchyard-Provider-Warnings"

// maxWarningItems caps the header: a longer list ends with "…" (ValidateAutomationById has them all).
const maxWarningItems = 20

func (s *server) installedFunc(ctx context.Context, site string) func(string) bool {
	return func(appID string) bool {
		_, err := s.store.GetInstallation(ctx, site, appID)
		return err == nil
	}
}

// providerFindings runs the providers' validate-configuration within the request's budget.
func (s *server) providerFindings(ctx context.Context, site string, a *automation.Automation, actionIDs []string, budget time.Duration) []plugins.Finding {
	if s.plugins == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	return s.plugins.Validate(ctx, a, plugins.Scope{ActionIDs: actionIDs, Installed: s.installedFunc(ctx, site), SiteID: site})
}

// providerError is a finding in the shape of reference §2.4.
func providerError(f plugins.Finding) automationValidationError {
	pe := f.Error
	return automationValidationError{ErrorType: "PROVIDER_ERROR", Severity: f.Severity, ProviderConfigurationError: &pe}
}

// warnOnSave checks a saved automation with its providers and reports problems in
// HeaderProviderWarnings and the log; it never fails the save.
func (s *server) warnOnSave(w http.ResponseWriter, r *http.Request, site string, a *automation.Automation) {
	fs := s.providerFindings(r.Context(), site, a, nil, saveCheckBudget)
	if len(fs) == 0 {
		return
	}
	var items []string
	seen := map[string]bool{}
	for _, f := range fs {
		who := f.ActionID
		if who == "" {
			who = "trigger"
		}
		what := "WARNING"
		switch {
		case f.Failed:
			what = "PROVIDER_FAILED"
		case f.Severity == plugins.SeverityError:
			what = "INVALID"
		}
		item := who + "=" + what
		if seen[item] {
			continue
		}
		seen[item] = true
		items = append(items, item)
		s.log.WarnContext(r.Context(), "provider validation on save", "site", site, "automation", a.ID,
			"target", who, "appId", f.AppID, "key", f.Key, "severity", f.Severity, "failed", f.Failed,
			"title", f.Error.Title, "message", f.Error.Message)
	}
	if len(items) > maxWarningItems {
		items = append(items[:maxWarningItems], "…")
	}
	w.Header().Set(HeaderProviderWarnings, strings.Join(items, ","))
}

// getActionsQuotaInfo is GetActionsQuotaInfo: quota-info of every action provider the site's automations
// use (reference §2.5), each (appId, actionKey) once; providers that fail are left out and logged.
func (s *server) getActionsQuotaInfo(w http.ResponseWriter, r *http.Request) error {
	site, err := requireSite(principalOf(r.Context()))
	if err != nil {
		return err
	}
	if s.plugins == nil {
		s.ok(w, map[string]any{"actionProviderQuotaInfo": []plugins.QuotaEntry{}})
		return nil
	}
	autos, err := s.allAutomations(r.Context(), site)
	if err != nil {
		return err
	}
	installed := s.installedFunc(r.Context(), site)
	var used []*automation.Automation
	for _, a := range autos {
		used = append(used, onlyInstalled(a, installed))
	}
	ctx, cancel := context.WithTimeout(r.Context(), providerCallBudget)
	defer cancel()
	s.ok(w, map[string]any{"actionProviderQuotaInfo": s.plugins.Quotas(ctx, site, used)})
	return nil
}

// onlyInstalled drops the actions of apps the site has not installed: their providers are not asked.
func onlyInstalled(a *automation.Automation, installed func(string) bool) *automation.Automation {
	if a.Configuration == nil {
		return a
	}
	cfg := &automation.Configuration{Actions: map[string]*automation.Action{}}
	for id, act := range a.Configuration.Actions {
		if act != nil && act.AppDefinedInfo != nil && installed(act.AppDefinedInfo.AppID) {
			cfg.Actions[id] = act
		}
	}
	return &automation.Automation{ID: a.ID, Configuration: cfg}
}

// maxQuotaPages bounds the automations GetActionsQuotaInfo reads (500 per page).
const maxQuotaPages = 40

// allAutomations pages through the site's automations (drafts excluded).
func (s *server) allAutomations(ctx context.Context, site string) ([]*automation.Automation, error) {
	var out []*automation.Automation
	view, err := preinstalled.View(ctx, s.store, site)
	if err != nil {
		return nil, err
	}
	raw := json.RawMessage(fmt.Sprintf(`{"cursorPaging":{"limit":%d}}`, wql.MaxLimit))
	for range maxQuotaPages {
		q, err := wql.Parse(raw, wql.AutomationSchema())
		if err != nil {
			return nil, err
		}
		page, next, err := s.store.QueryAutomations(ctx, view, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		raw = json.RawMessage(fmt.Sprintf(`{"cursorPaging":{"limit":%d,"cursor":%q}}`, wql.MaxLimit, next))
	}
	s.log.WarnContext(ctx, "quota info read only the first automations of a large site", "site", site, "pages", maxQuotaPages)
	return out, nil
}
