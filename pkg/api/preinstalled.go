package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/preinstalled"
	"github.com/switchyard-dev/switchyard/pkg/wql"
)

// Preinstalled automations (reference §2.1, §2.7) belong to an app, not to a site: the app creates,
// updates, deletes and queries them with the /v2/preinstalled-automation routes, and every site that
// installed it sees them among its own automations (pkg/preinstalled). A site's first edit stores an
// override under the site with the same id; deleting the override brings the app's version back.

// preinstalledID is the automation id of an app's component: the same on every site, and distinct for
// two apps that happen to use the same component id.
func preinstalledID(appID, componentID string) string {
	return uuid.NewSHA1(uuid.MustParse(appID), []byte("preinstalled:"+componentID)).String()
}

// isTemplate reports whether a is an app's preinstalled automation as the app published it (not a
// site's override of it).
// Sites cannot store such an automation themselves: every path that creates one sets its origin from the
// caller (applyOrigin), and a site's edit of an app's version is marked as an override.
func isTemplate(a *automation.Automation) bool {
	return a.Origin == automation.OriginPreinstalled && a.DraftInfo == nil && a.PreinstalledInfo != nil &&
		(a.PreinstalledInfo.Override == nil || !*a.PreinstalledInfo.Override)
}

// callerApp is the app a preinstalled-automation request acts for: the caller's own app, or, for the
// admin, the app named in the request.
func (s *server) callerApp(r *http.Request, p access.Principal, named string) (string, error) {
	switch {
	case p.IsApp():
		if named != "" && named != p.AppID {
			return "", errs.New(errs.PermissionDenied, "APP_MISMATCH", "an app manages only its own preinstalled automations")
		}
		return p.AppID, nil
	case p.Admin:
		if named == "" {
			return "", errs.Violation("appId", "REQUIRED_FIELD", "the admin must name the app")
		}
		if !automation.IsGUID(named) {
			return "", errs.Violation("appId", "FORMAT", "must be a GUID")
		}
		if _, err := s.store.GetApp(r.Context(), named); errors.Is(err, errs.ErrNotFound) {
			return "", errs.New(errs.NotFound, "APP_NOT_FOUND", "app %s not found", named)
		} else if err != nil {
			return "", err
		}
		return named, nil
	}
	return "", errs.New(errs.PermissionDenied, "APP_REQUIRED", "only an app (or the admin naming one) manages preinstalled automations")
}

type preinstalledRequest struct {
	Automation           *automation.Automation `json:"automation"`
	AppID                string                 `json:"appId"`
	SpecInfo             map[string]any         `json:"specInfo"`
	OriginAutomationInfo map[string]any         `json:"originAutomationInfo"`
}

// decodePreinstalled reads a create or update request: the app it acts for and its automation.
func (s *server) decodePreinstalled(r *http.Request, p access.Principal) (string, *automation.Automation, error) {
	var req preinstalledRequest
	if err := s.decode(r, &req); err != nil {
		return "", nil, err
	}
	app, err := s.callerApp(r, p, req.AppID)
	if err != nil {
		return "", nil, err
	}
	a := req.Automation
	if a == nil {
		return "", nil, errs.Violation("automation", "REQUIRED_FIELD", "must not be empty")
	}
	if a.Origin != "" && a.Origin != automation.OriginPreinstalled {
		return "", nil, errs.New(errs.Invalid, "INVALID_ORIGIN_TYPE", "a preinstalled automation has origin PREINSTALLED, not %s", a.Origin)
	}
	return app, a, nil
}

func (s *server) createPreinstalledAutomation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	app, a, err := s.decodePreinstalled(r, p)
	if err != nil {
		return err
	}
	info := automation.PreinstalledInfo{AppID: app, ComponentID: s.newID(), ComponentVersion: 1}
	if in := a.PreinstalledInfo; in != nil {
		if in.ComponentID != "" {
			if !automation.IsGUID(in.ComponentID) {
				return errs.Violation("automation.preinstalledInfo.componentId", "FORMAT", "must be a GUID")
			}
			info.ComponentID = in.ComponentID
		}
		if in.ComponentVersion > 0 {
			info.ComponentVersion = in.ComponentVersion
		}
	}
	a.Origin, a.PreinstalledInfo, a.ApplicationInfo, a.DraftInfo = automation.OriginPreinstalled, &info, nil, nil
	automation.Normalize(a)
	if err := automation.ValidateForSave(a); err != nil {
		return err
	}
	now := s.now().UTC()
	a.ID, a.Revision = preinstalledID(app, info.ComponentID), "1"
	a.CreatedDate, a.UpdatedDate = &now, &now
	a.CreatedBy, a.UpdatedBy = auditInfo(p), auditInfo(p)
	if p.Admin {
		a.CreatedBy, a.UpdatedBy = &automation.AuditInfo{AppID: app}, &automation.AuditInfo{AppID: app}
	}
	if err := s.store.CreateAutomation(r.Context(), automation.PreinstalledTenant(app), a); errors.Is(err, errs.ErrConflict) {
		return errs.New(errs.Conflict, "COMPONENT_ALREADY_EXISTS", "app %s already has a preinstalled automation for component %s", app, info.ComponentID)
	} else if err != nil {
		return err
	}
	s.okAutomation(w, r, a)
	return nil
}

// updatePreinstalledAutomation publishes a new version of a component: every site that has not overridden
// it runs the new version from now on.
func (s *server) updatePreinstalledAutomation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	app, in, err := s.decodePreinstalled(r, p)
	if err != nil {
		return err
	}
	if in.PreinstalledInfo == nil || !automation.IsGUID(in.PreinstalledInfo.ComponentID) {
		return errs.Violation("automation.preinstalledInfo.componentId", "REQUIRED_FIELD", "must be the component's GUID")
	}
	if in.PreinstalledInfo.ComponentVersion < 1 {
		return errs.Violation("automation.preinstalledInfo.componentVersion", "REQUIRED_FIELD", "must be a positive version")
	}
	tenant := automation.PreinstalledTenant(app)
	cur, err := s.store.GetAutomation(r.Context(), tenant, preinstalledID(app, in.PreinstalledInfo.ComponentID))
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.NotFound, "AUTOMATION_NOT_FOUND", "app %s has no preinstalled automation for component %s", app, in.PreinstalledInfo.ComponentID)
	} else if err != nil {
		return err
	}
	if in.PreinstalledInfo.ComponentVersion < cur.PreinstalledInfo.ComponentVersion {
		return errs.New(errs.Conflict, "COMPONENT_VERSION_OUTDATED", "component %s is at version %d, not older %d",
			in.PreinstalledInfo.ComponentID, cur.PreinstalledInfo.ComponentVersion, in.PreinstalledInfo.ComponentVersion)
	}
	next := mergeAutomation(cur, in, nil)
	info := *cur.PreinstalledInfo
	info.ComponentVersion = in.PreinstalledInfo.ComponentVersion
	next.PreinstalledInfo = &info
	automation.Normalize(next)
	if err := automation.ValidateForSave(next); err != nil {
		return err
	}
	expected, _ := strconv.ParseInt(cur.Revision, 10, 64)
	now := s.now().UTC()
	next.Revision = strconv.FormatInt(expected+1, 10)
	next.UpdatedDate, next.UpdatedBy = &now, &automation.AuditInfo{AppID: app}
	if err := s.store.UpdateAutomation(r.Context(), tenant, next, expected); errors.Is(err, errs.ErrConflict) {
		return errs.New(errs.Conflict, "REVISION_MISMATCH", "component %s changed meanwhile; retry", info.ComponentID)
	} else if err != nil {
		return err
	}
	s.okAutomation(w, r, next)
	return nil
}

// deletePreinstalledAutomation removes a component from every site that has not overridden it; overrides
// stay, as the sites' own automations.
func (s *server) deletePreinstalledAutomation(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	app, err := s.callerApp(r, p, r.URL.Query().Get("appId"))
	if err != nil {
		return err
	}
	component := r.PathValue("componentId")
	if !automation.IsGUID(component) {
		return errs.Violation("componentId", "FORMAT", "must be a GUID")
	}
	err = s.store.DeleteAutomation(r.Context(), automation.PreinstalledTenant(app), preinstalledID(app, component))
	if errors.Is(err, errs.ErrNotFound) {
		return errs.New(errs.NotFound, "AUTOMATION_NOT_FOUND", "app %s has no preinstalled automation for component %s", app, component)
	} else if err != nil {
		return err
	}
	s.ok(w, map[string]any{})
	return nil
}

func (s *server) queryPreinstalledAutomationsForApp(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	var req struct {
		Query rawQuery `json:"query"`
		AppID string   `json:"appId"`
	}
	if err := s.decode(r, &req); err != nil {
		return err
	}
	app, err := s.callerApp(r, p, req.AppID)
	if err != nil {
		return err
	}
	q, err := wql.Parse(req.Query.orEmpty(), wql.AutomationSchema())
	if err != nil {
		return err
	}
	return s.queryPage(w, r, automation.SiteView(automation.PreinstalledTenant(app)), q, "")
}

// saveEdit stores next as the new revision of cur on site: an update of the site's automation, or — the
// first time a site edits an app's preinstalled automation — the site's override of it.
func (s *server) saveEdit(r *http.Request, site string, cur, next *automation.Automation, expected int64) error {
	var err error
	if isTemplate(cur) {
		info := *cur.PreinstalledInfo
		info.Override = new(bool)
		*info.Override = true
		next.PreinstalledInfo = &info
		err = s.store.CreateAutomation(r.Context(), site, next)
	} else {
		err = s.store.UpdateAutomation(r.Context(), site, next, expected)
	}
	if errors.Is(err, errs.ErrConflict) {
		return errs.New(errs.Conflict, "REVISION_MISMATCH", "automation %s changed meanwhile; fetch it and retry", cur.ID)
	}
	return err
}

// siteView is what the site's queries read: its automations and its apps' preinstalled ones.
func (s *server) siteView(r *http.Request, site string) (automation.View, error) {
	return preinstalled.View(r.Context(), s.store, site)
}

// applyOrigin sets a new automation's origin from its creator (reference §2.3): an app creates APPLICATION
// automations, with applicationInfo naming it; users create USER (or RECIPE) ones; the admin may create an
// APPLICATION automation for an app it names; PREINSTALLED ones come from CreatePreinstalledAutomation.
func (s *server) applyOrigin(r *http.Request, p access.Principal, a *automation.Automation) error {
	if a.PreinstalledInfo != nil || a.Origin == automation.OriginPreinstalled {
		return errs.New(errs.Invalid, "INVALID_ORIGIN_TYPE", "PREINSTALLED automations are created with CreatePreinstalledAutomation")
	}
	switch {
	case p.IsApp():
		if a.Origin != "" && a.Origin != automation.OriginApplication {
			return errs.New(errs.Invalid, "INVALID_ORIGIN_TYPE", "an app creates APPLICATION automations, not %s", a.Origin)
		}
		info := automation.ApplicationInfo{AppID: p.AppID}
		if a.ApplicationInfo != nil {
			if a.ApplicationInfo.AppID != "" && a.ApplicationInfo.AppID != p.AppID {
				return errs.New(errs.PermissionDenied, "APP_MISMATCH", "applicationInfo.appId must be the calling app")
			}
			info.AppDefinedExternalID = a.ApplicationInfo.AppDefinedExternalID
		}
		a.Origin, a.ApplicationInfo = automation.OriginApplication, &info
	case a.Origin == automation.OriginApplication:
		if !p.Admin {
			return errs.New(errs.PermissionDenied, "INVALID_ORIGIN_TYPE", "only an app creates APPLICATION automations")
		}
		if a.ApplicationInfo == nil || !automation.IsGUID(a.ApplicationInfo.AppID) {
			return errs.Violation("automation.applicationInfo.appId", "REQUIRED_FIELD", "must name the app (a GUID)")
		}
		if _, err := s.store.GetApp(r.Context(), a.ApplicationInfo.AppID); errors.Is(err, errs.ErrNotFound) {
			return errs.New(errs.NotFound, "APP_NOT_FOUND", "app %s not found", a.ApplicationInfo.AppID)
		} else if err != nil {
			return err
		}
	default:
		if a.ApplicationInfo != nil {
			return errs.Violation("automation.applicationInfo", "NOT_ALLOWED", "only APPLICATION automations carry applicationInfo")
		}
		if a.Origin == "" {
			a.Origin = automation.OriginUser
		}
	}
	return nil
}
