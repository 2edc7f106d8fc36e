package systemapp

import (
	"context"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
)

// InstallationReader reads installation records.
type InstallationReader interface {
	GetInstallation(ctx context.Context, siteID, appID string) (*catalog.Installation, error)
}

// GetInstallation is the one place that decides whether an app is installed on a site: the system
// app is installed on every site without a record (so no site ever needs a write for it); any other
// app needs its installation record, and errs.ErrNotFound means it is not installed. Every
// installation check (ReportEvent, the engine's action step, validation) goes through here.
func GetInstallation(ctx context.Context, s InstallationReader, siteID, appID string) (*catalog.Installation, error) {
	if appID == AppID {
		return &catalog.Installation{SiteID: siteID, AppID: AppID}, nil
	}
	return s.GetInstallation(ctx, siteID, appID)
}
