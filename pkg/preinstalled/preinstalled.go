// Package preinstalled resolves what a site sees of apps' preinstalled automations. An app keeps each
// preinstalled automation once, in a tenant of its own (automation.PreinstalledTenant); every site that
// installed the app sees it under the same id without a per-site copy, so publishing a new version reaches
// all sites at once. A site's edit is stored under the site with that id (preinstalledInfo.override = true)
// and from then on replaces the app's version on that site.
package preinstalled

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// Store is what resolving needs.
type Store interface {
	GetAutomation(ctx context.Context, tenant, id string) (*automation.Automation, error)
	ListInstallations(ctx context.Context, siteID string) ([]*catalog.Installation, error)
}

// Matcher is what matching a reported event needs on top of Store.
type Matcher interface {
	Store
	ListTriggerAutomations(ctx context.Context, tenant, appID, triggerKey string) ([]*automation.Automation, error)
}

// Tenants returns the preinstalled tenants a site sees: one per app it installed.
func Tenants(ctx context.Context, s Store, siteID string) ([]string, error) {
	ins, err := s.ListInstallations(ctx, siteID)
	if err != nil {
		return nil, fmt.Errorf("list installations of %s: %w", siteID, err)
	}
	out := make([]string, 0, len(ins))
	for _, in := range ins {
		out = append(out, automation.PreinstalledTenant(in.AppID))
	}
	return out, nil
}

// View is the site's automations with the preinstalled ones of its apps showing through.
func View(ctx context.Context, s Store, siteID string) (automation.View, error) {
	ts, err := Tenants(ctx, s, siteID)
	return automation.View{SiteID: siteID, Preinstalled: ts}, err
}

// Get returns the automation a site sees under id: its own (an override included), else the preinstalled
// one of an app it installed; errs.ErrNotFound otherwise.
func Get(ctx context.Context, s Store, siteID, id string) (*automation.Automation, error) {
	a, err := s.GetAutomation(ctx, siteID, id)
	if !errors.Is(err, errs.ErrNotFound) {
		return a, err
	}
	ts, err := Tenants(ctx, s, siteID)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		a, err := s.GetAutomation(ctx, t, id)
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		return a, err
	}
	return nil, fmt.Errorf("automation %s of site %s: %w", id, siteID, errs.ErrNotFound)
}

// Match returns the preinstalled automations on (appID, triggerKey) that a site sees: those of the apps it
// installed, less those the site overrode (the override, if runnable, is among the site's own matches).
func Match(ctx context.Context, s Matcher, siteID, appID, triggerKey string) ([]*automation.Automation, error) {
	ts, err := Tenants(ctx, s, siteID)
	if err != nil {
		return nil, err
	}
	var out []*automation.Automation
	for _, t := range ts {
		as, err := s.ListTriggerAutomations(ctx, t, appID, triggerKey)
		if err != nil {
			return nil, fmt.Errorf("match preinstalled automations of %s: %w", t, err)
		}
		for _, a := range as {
			_, err := s.GetAutomation(ctx, siteID, a.ID)
			if err == nil {
				continue // overridden on this site
			}
			if !errors.Is(err, errs.ErrNotFound) {
				return nil, fmt.Errorf("look for an override of %s: %w", a.ID, err)
			}
			out = append(out, a)
		}
	}
	return out, nil
}
