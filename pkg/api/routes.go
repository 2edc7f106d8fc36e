package api

import (
	"net/http"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// routes lists every route of the API in one place.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(pattern, s.authenticated(h))
	}

	// Catalog and access (Switchyard's own API).
	handle("POST /v1/apps", s.createApp)
	handle("POST /v1/triggers", s.createTrigger)
	handle("POST /v1/actions", s.createAction)
	handle("POST /v1/installations", s.createInstallation)
	handle("POST /v1/api-keys", s.createAPIKey)
	handle("GET /v1/apps", s.listApps)
	handle("GET /v1/apps/{appId}", s.getApp)
	handle("POST /v1/triggers/query", s.queryTriggers)
	handle("POST /v1/actions/query", s.queryActions)
	handle("POST /v1/apps/{appId}/rotate-signing-secret", s.rotateSigningSecret)
	handle("GET /v1/platform/public-key", s.getPlatformPublicKey)

	// Automations V2, under both published prefixes (reference §1).
	for _, p := range []string{"", "/automations-service"} {
		handle("POST "+p+"/v2/automations", s.createAutomation)
		handle("GET "+p+"/v2/automations/{automationId}", s.getAutomation)
		handle("PATCH "+p+"/v2/automations/{automationId}", s.updateAutomation)
		handle("DELETE "+p+"/v2/automations/{automationId}", s.deleteAutomation)
		handle("POST "+p+"/v2/bulk/automations/delete", s.bulkDeleteAutomations)
		handle("POST "+p+"/v2/automations/query", s.queryAutomations)
		handle("POST "+p+"/v2/automations/{automationId}/copy", s.copyAutomation)
		handle("POST "+p+"/v2/automations/drafts", s.createDraftAutomation)
		handle("POST "+p+"/v2/automations/drafts/get-or-create/original-automation-id/{originalAutomationId}", s.getOrCreateDraftAutomation)
		handle("PATCH "+p+"/v2/automations/drafts/{automationId}", s.updateDraftAutomation)
		handle("DELETE "+p+"/v2/automations/drafts/{automationId}", s.deleteDraftAutomation)
		handle("POST "+p+"/v2/automations/drafts/{automationId}/publish", s.publishDraftAutomation)
		handle("POST "+p+"/v2/automations/query-with-drafts", s.queryAutomationsWithDrafts)
		handle("POST "+p+"/v2/automations/validate", s.validateAutomation)
		handle("GET "+p+"/v2/automations/actions/quota", s.getActionsQuotaInfo)
		handle("POST "+p+"/v2/automations/{automationId}/validate", s.validateAutomationByID)
		handle("GET "+p+"/v2/automations/schema/{automationId}/{actionId}", s.getAutomationActionSchema)
		handle("POST "+p+"/v2/preinstalled-automation", s.createPreinstalledAutomation)
		handle("PATCH "+p+"/v2/preinstalled-automation", s.updatePreinstalledAutomation)
		handle("DELETE "+p+"/v2/preinstalled-automation/{componentId}", s.deletePreinstalledAutomation)
		handle("POST "+p+"/v2/preinstalled-automations/query", s.queryPreinstalledAutomationsForApp)
	}

	handle("GET /v1/automation-revisions/{automationId}", s.getAutomationRevision)
	handle("GET /automations-service/v1/automation-revisions/{automationId}", s.getAutomationRevision)

	// Events and run logs.
	handle("POST /automations/v1/events/report", s.reportEvent)
	handle("POST /automations/v1/events/bulk-report", s.bulkReportEvent)
	handle("POST /automations/v1/events/cancel", s.cancelEvent)
	handle("POST /automations/v1/events/bulk-cancel", s.bulkCancelEvent)
	handle("POST /automations/v1/events/test-automation", s.testAutomation)
	handle("POST /automations/v1/activations/{activationId}/rerun", s.rerunActivation)
	handle("POST /automations_runtime/v1/report-action-invocation-completed", s.reportActionInvocationCompleted)
	handle("GET /v2/activation-logs", s.listActivationLogs)
	handle("GET /v2/activation-logs/{activationId}", s.getActivationLog)
	handle("GET /v2/activation-action-logs", s.listActionLogs)

	// Contacts (Switchyard's own; updating one reports the system trigger contact_updated).
	handle("POST /v1/contacts", s.createContact)
	handle("GET /v1/contacts/{contactId}", s.getContact)
	handle("PATCH /v1/contacts/{contactId}", s.updateContact)
	handle("DELETE /v1/contacts/{contactId}", s.deleteContact)
	handle("POST /v1/contacts/query", s.queryContacts)

	// Piggy-compatible automations (seed 004): Piggy's auth use and error shape (piggy.go).
	mux.Handle("GET /api/v3/oauth/clients/automations", s.piggy(s.piggyListAutomations))
	mux.Handle("POST /api/v3/oauth/clients/automations/runs", s.piggy(s.piggyCreateRun))

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { s.ok(w, map[string]string{"status": "ok"}) })

	return s.withRequestID(s.recoverer(s.notFoundAsJSON(mux)))
}

// notFoundAsJSON answers unknown paths and wrong methods in the Wix error shape instead of the mux's text.
func (s *server) notFoundAsJSON(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{header: http.Header{}}
		mux.ServeHTTP(rec, r)
		if isPiggyPath(r.URL.Path) {
			status := http.StatusNotFound
			if rec.status == http.StatusMethodNotAllowed {
				status = rec.status
			}
			s.piggyRouteError(w, r, status, rec.header.Get("Allow"))
			return
		}
		if rec.status == http.StatusMethodNotAllowed {
			if allow := rec.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			msg := r.Method + " is not allowed on " + r.URL.Path
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Message: msg, Details: errorDetails{
				ApplicationError: &applicationError{Code: "METHOD_NOT_ALLOWED", Description: msg, Data: map[string]any{}}}}, s.log)
			return
		}
		s.writeError(w, r, errs.New(errs.NotFound, "ROUTE_NOT_FOUND", "no route for %s %s", r.Method, r.URL.Path))
	})
}

// statusRecorder captures the status the mux would have answered, discarding its text body.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(code int)        { r.status = code }
