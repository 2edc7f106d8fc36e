package automation

import "strings"

// View is the set of automations a site's query reads: the site's own, plus the preinstalled automations of
// the apps it installed wherever the site has no automation of the same id (a site's edit of a preinstalled
// automation is stored under the site with the template's id, and so replaces it).
type View struct {
	SiteID string
	// Preinstalled are the template tenants (PreinstalledTenant) that show through.
	Preinstalled []string
	// StandaloneDrafts adds the site's drafts that have no original (QueryAutomationsWithDrafts).
	StandaloneDrafts bool
}

// SiteView is the view of a site's own automations only.
func SiteView(siteID string) View { return View{SiteID: siteID} }

const preinstalledPrefix = "preinstalled:"

// PreinstalledTenant is where an app's preinstalled automations are kept: a tenant of their own, which no
// site id (always a GUID) can equal, so the stores keep them with the same code and isolation as a site's.
func PreinstalledTenant(appID string) string { return preinstalledPrefix + appID }

// IsPreinstalledTenant reports whether tenant holds an app's preinstalled automations.
func IsPreinstalledTenant(tenant string) bool { return strings.HasPrefix(tenant, preinstalledPrefix) }
