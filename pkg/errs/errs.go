// Package errs is Switchyard's one error type: a kind that maps once to an HTTP status (in pkg/api), an
// application code for the Wix error shape, and field violations for validation failures.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error the way a client must react to it.
type Kind int

const (
	Internal           Kind = iota // 500: a bug or an unavailable dependency
	Invalid                        // 400: the request itself is wrong
	Unauthenticated                // 401: no or unknown key
	PermissionDenied               // 403: a key outside its scope
	NotFound                       // 404
	Conflict                       // 409: stale revision, duplicate id
	FailedPrecondition             // 428: the request is well formed but the site is not ready for it
	TooLarge                       // 413
	ResourceExhausted              // 429
	Unavailable                    // 503: part of the work was done, the rest failed; the message says what to retry
)

// FieldViolation names one invalid field by its JSON path, as in Wix's validationError.
type FieldViolation struct {
	Field        string `json:"field"`
	Description  string `json:"description"`
	ViolatedRule string `json:"violatedRule,omitempty"`
}

// Error is the error every layer returns when a caller should see something more precise than a 500.
type Error struct {
	Kind       Kind
	Code       string // applicationError.code, e.g. AUTOMATION_NOT_FOUND
	Message    string
	Data       map[string]any
	Violations []FieldViolation
	Err        error // cause, never shown to clients
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Code != "" {
		fmt.Fprintf(&b, " [%s]", e.Code)
	}
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "; %s: %s", v.Field, v.Description)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an application error of the given kind and code.
func New(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Violation returns a 400 naming one field.
func Violation(field, rule, format string, args ...any) *Error {
	d := fmt.Sprintf(format, args...)
	return &Error{Kind: Invalid, Message: fmt.Sprintf("%q %s", field, d),
		Violations: []FieldViolation{{Field: field, Description: d, ViolatedRule: rule}}}
}

// Violations returns a 400 naming several fields; nil when vs is empty.
func Violations(vs []FieldViolation) error {
	if len(vs) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%q %s", vs[0].Field, vs[0].Description)
	if len(vs) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(vs)-1)
	}
	return &Error{Kind: Invalid, Message: msg, Violations: vs}
}

// KindOf reports the kind of err: Internal for anything that is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// ErrNotFound is what stores return for a missing record; callers wrap it into a coded error.
var ErrNotFound = &Error{Kind: NotFound, Code: "NOT_FOUND", Message: "not found"}

// ErrConflict is what stores return when a conditional write loses (duplicate key, stale version).
var ErrConflict = &Error{Kind: Conflict, Code: "CONFLICT", Message: "conflicting write"}
