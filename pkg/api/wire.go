package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// statusOf is the one place error kinds become HTTP statuses.
func statusOf(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.PermissionDenied:
		return http.StatusForbidden
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.FailedPrecondition:
		return http.StatusPreconditionRequired
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.ResourceExhausted:
		return http.StatusTooManyRequests
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Message string       `json:"message"`
	Details errorDetails `json:"details"`
}

type errorDetails struct {
	ApplicationError *applicationError `json:"applicationError,omitempty"`
	ValidationError  *validationError  `json:"validationError,omitempty"`
}

type applicationError struct {
	Code        string         `json:"code"`
	Description string         `json:"description"`
	Data        map[string]any `json:"data"`
}

type validationError struct {
	FieldViolations []errs.FieldViolation `json:"fieldViolations"`
}

// writeError answers in the Wix error shape (DESIGN.md §4). Internal errors are logged, never shown.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind == errs.Internal {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &errs.Error{Kind: errs.Internal, Code: "INTERNAL_ERROR", Message: "internal error"}
	}
	body := errorBody{Message: e.Message}
	if len(e.Violations) > 0 {
		body.Details.ValidationError = &validationError{FieldViolations: e.Violations}
	} else {
		code := e.Code
		if code == "" {
			code = defaultCode(e.Kind)
		}
		data := e.Data
		if data == nil {
			data = map[string]any{}
		}
		body.Details.ApplicationError = &applicationError{Code: code, Description: e.Message, Data: data}
	}
	writeJSON(w, statusOf(e.Kind), body, s.log)
}

func defaultCode(k errs.Kind) string {
	switch k {
	case errs.Invalid:
		return "INVALID_ARGUMENT"
	case errs.Unauthenticated:
		return "UNAUTHENTICATED"
	case errs.PermissionDenied:
		return "PERMISSION_DENIED"
	case errs.NotFound:
		return "NOT_FOUND"
	case errs.Conflict:
		return "ALREADY_EXISTS"
	case errs.FailedPrecondition:
		return "FAILED_PRECONDITION"
	case errs.TooLarge:
		return "PAYLOAD_TOO_LARGE"
	case errs.ResourceExhausted:
		return "RESOURCE_EXHAUSTED"
	case errs.Unavailable:
		return "UNAVAILABLE"
	}
	return "INTERNAL_ERROR"
}

// writeJSON answers status with v as JSON. Success is always 200: the Wix SDK treats 201/204 as errors.
func writeJSON(w http.ResponseWriter, status int, v any, log *slog.Logger) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Error("encoding response failed", "err", err)
		status = http.StatusInternalServerError
		b = []byte(`{"message":"internal error","details":{"applicationError":{"code":"INTERNAL_ERROR","description":"internal error","data":{}}}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func (s *server) ok(w http.ResponseWriter, v any) { writeJSON(w, http.StatusOK, v, s.log) }

// decodeOptional is decode for requests whose body may be empty.
func (s *server) decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return s.decode(r, v)
}

// decode reads a JSON request body into v: 413 past the size limit, 400 for malformed JSON or a value
// of the wrong type (naming the field).
func (s *server) decode(r *http.Request, v any) error {
	body := http.MaxBytesReader(nil, r.Body, s.maxBody)
	dec := json.NewDecoder(body)
	var raw json.RawMessage
	err := dec.Decode(&raw)
	if err == nil {
		if dec.More() {
			return errs.New(errs.Invalid, "MALFORMED_JSON", "request body holds more than one JSON value")
		}
		if err = json.Unmarshal(raw, v); err == nil {
			noteRequestedFields(r, raw)
			return nil
		}
	}
	var maxErr *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &maxErr):
		return errs.New(errs.TooLarge, "PAYLOAD_TOO_LARGE", "request body is larger than %d bytes", s.maxBody)
	case errors.Is(err, io.EOF):
		return errs.New(errs.Invalid, "MALFORMED_JSON", "request body is empty; a JSON object is required")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "(body)"
		}
		return errs.Violation(field, "TYPE", "must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.New(errs.Invalid, "MALFORMED_JSON", "request body is not valid JSON: %v", err)
	}
	return errs.New(errs.Invalid, "MALFORMED_JSON", "request body could not be read: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	case "int", "int32", "int64", "float64":
		return "a number"
	}
	return fmt.Sprintf("of type %s", goKind)
}
