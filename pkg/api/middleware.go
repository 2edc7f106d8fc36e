package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

type principalKey struct{}

// principalOf returns the caller resolved by authenticated.
func principalOf(ctx context.Context) access.Principal {
	p, _ := ctx.Value(principalKey{}).(access.Principal)
	return p
}

// authenticated resolves the Authorization header to a principal (401 when missing or unknown), binds
// the site (an admin names it with wix-site-id; any other key is bound to its own site, 403 when the header
// names another) and runs h, mapping its error to the Wix shape.
func (s *server) authenticated(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p))); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *server) authenticate(r *http.Request) (access.Principal, error) {
	secret := access.ParseAuthorization(r.Header.Get("Authorization"))
	if secret == "" {
		return access.Principal{}, errs.New(errs.Unauthenticated, "UNAUTHENTICATED", "an API key is required in the Authorization header")
	}
	hash := access.Hash(secret)
	site := r.Header.Get("wix-site-id")
	if s.adminHash != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(s.adminHash)) == 1 {
		if site != "" && !automation.IsGUID(site) {
			return access.Principal{}, errs.Violation("wix-site-id", "FORMAT", "must be a GUID")
		}
		return access.Principal{Admin: true, SiteID: site, KeyID: adminUserID}, nil
	}
	k, err := s.store.GetAPIKeyByHash(r.Context(), hash)
	if errors.Is(err, errs.ErrNotFound) {
		return access.Principal{}, errs.New(errs.Unauthenticated, "UNAUTHENTICATED", "unknown API key")
	}
	if err != nil {
		return access.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if site != "" && site != k.SiteID {
		return access.Principal{}, errs.New(errs.PermissionDenied, "SITE_MISMATCH", "this key belongs to another site")
	}
	return access.Principal{SiteID: k.SiteID, AppID: k.AppID, KeyID: k.ID}, nil
}

// requireAdmin allows only the operator key.
func requireAdmin(p access.Principal) error {
	if !p.Admin {
		return errs.New(errs.PermissionDenied, "ADMIN_REQUIRED", "only the admin key may do this")
	}
	return nil
}

// requireSite returns the site the request acts on; an admin must name it with wix-site-id.
func requireSite(p access.Principal) (string, error) {
	if p.SiteID == "" {
		return "", errs.New(errs.Invalid, "SITE_REQUIRED", "name the site with the wix-site-id header")
	}
	return p.SiteID, nil
}

// auditInfo is createdBy/updatedBy for the caller: the app it acts as, or the user (key) behind it.
func auditInfo(p access.Principal) *automation.AuditInfo {
	if p.AppID != "" {
		return &automation.AuditInfo{AppID: p.AppID}
	}
	return &automation.AuditInfo{UserID: p.KeyID}
}

func (s *server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Wix-Request-Id", s.newID())
		next.ServeHTTP(w, withRequestState(r))
	})
}

// recoverer turns a panic into a 500 in the Wix shape: a bug must never show a stack trace or drop the
// connection.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.answerPanic(w, r, s.writeError)
		next.ServeHTTP(w, r)
	})
}

// answerPanic, deferred by a handler, logs a panic and answers it through write as a 500 (write picks the
// error shape); http.ErrAbortHandler goes on up, as net/http wants.
func (s *server) answerPanic(w http.ResponseWriter, r *http.Request, write func(http.ResponseWriter, *http.Request, error)) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	write(w, r, fmt.Errorf("panic: %v", v))
}

// adminUserID stands for the operator in createdBy/updatedBy.
const adminUserID = "00000000-0000-0000-0000-000000000000"
