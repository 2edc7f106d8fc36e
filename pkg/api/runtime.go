package api

import (
	"net/http"

	"github.com/switchyard-dev/switchyard/pkg/engine"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

type invocationCompletedRequest struct {
	InvocationToken string `json:"invocationToken"`
	Status          string `json:"status"`
	SuccessInfo     *struct {
		Result map[string]any `json:"result"`
	} `json:"successInfo"`
	FailureInfo *struct {
		ErrorDescription string `json:"errorDescription"`
	} `json:"failureInfo"`
}

// reportActionInvocationCompleted resumes an async action (reference §3.2).
func (s *server) reportActionInvocationCompleted(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r.Context())
	if !p.IsApp() {
		return errs.New(errs.PermissionDenied, "APP_IDENTITY_REQUIRED", "only the app whose action was invoked may report its completion")
	}
	var req invocationCompletedRequest
	if err := s.decode(r, &req); err != nil {
		return err
	}
	var vs []errs.FieldViolation
	checkLen(&vs, "invocationToken", req.InvocationToken, 1, 500)
	c := engine.Completion{SiteID: p.SiteID, AppID: p.AppID, Token: req.InvocationToken}
	switch req.Status {
	case "SUCCESS":
		c.Success = true
		if req.SuccessInfo != nil {
			c.Result = req.SuccessInfo.Result
		}
	case "FAILURE":
		c.ErrorDescription = "the provider reported failure"
		if req.FailureInfo != nil && req.FailureInfo.ErrorDescription != "" {
			c.ErrorDescription = req.FailureInfo.ErrorDescription
		}
		if len(c.ErrorDescription) > 1000 {
			vs = append(vs, errs.FieldViolation{Field: "failureInfo.errorDescription", Description: "must be at most 1000 characters", ViolatedRule: "MAX_LENGTH"})
		}
	default:
		vs = append(vs, errs.FieldViolation{Field: "status", Description: "must be SUCCESS or FAILURE", ViolatedRule: "ENUM"})
	}
	if err := errs.Violations(vs); err != nil {
		return err
	}
	already, err := s.engine.Complete(r.Context(), c)
	if err != nil {
		return err
	}
	if already {
		s.ok(w, map[string]any{"alreadyCompleted": true})
		return nil
	}
	s.ok(w, map[string]any{})
	return nil
}
