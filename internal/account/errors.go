package account

import (
	"context"
	"errors"
	"strings"
)

// Errors the service returns; internal/http maps each to a status and a code.
var (
	ErrNotFound           = errors.New("not found")
	ErrAccountExists      = errors.New("account already exists")
	ErrInvalidCredentials = errors.New("incorrect username or password")
	ErrAccountDisabled    = errors.New("account disabled")
	ErrInvalidPassword    = errors.New("invalid password")
	ErrPasswordUnchanged  = errors.New("new password equals the old one")
	ErrNotAuthenticated   = errors.New("not authenticated")
	ErrInvalidToken       = errors.New("invalid token")
	ErrTokenExpired       = errors.New("token expired")
	ErrTokenRevoked       = errors.New("token revoked")
	ErrTokenReused        = errors.New("refresh token reused")
	ErrSessionExpired     = errors.New("session expired")
	ErrSessionNotFound    = errors.New("session not found")
	ErrRateLimited        = errors.New("too many attempts")
	ErrUnavailable        = errors.New("dependency unavailable")
)

// Unavailable reports whether err means that the work could not be done
// now, through no fault of the input or of the code: a dependency failed or
// was too slow (ErrUnavailable, which the adapters translate their drivers'
// failures into, or a context deadline), or the work was given up because
// its context was cancelled. It is the one rule the whole code base uses to
// tell these from bugs; callers that must tell a client who went away from
// a failed dependency ask Canceled of the request's own context.
func Unavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || Canceled(err)
}

// Canceled reports whether err means that the work was given up because
// its context was cancelled: whoever asked for it no longer wants the
// answer, as when a client disconnects.
func Canceled(err error) bool { return errors.Is(err, context.Canceled) }

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string
	Type    string // FastAPI/pydantic error type, e.g. "string_too_short"
	Message string
}

// ValidationError lists what is wrong with an input.
type ValidationError struct {
	Fields []FieldError
	// Code is the stable code of the whole error when it is more telling
	// than the default, validation_error (e.g. CodePasswordBreached).
	Code string
}

// CodePasswordBreached is the code, and the field error type, of a new
// password that is in the list of breached passwords.
const CodePasswordBreached = "password_breached"

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		msgs[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(msgs, "; ")
}

func (e *ValidationError) add(field, typ, msg string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Type: typ, Message: msg})
}

// orNil returns e when it holds a problem, else nil.
func (e *ValidationError) orNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// RateLimitError says that a limit was hit and when to try again.
type RateLimitError struct {
	RetryAfterSeconds int
}

func (e *RateLimitError) Error() string { return ErrRateLimited.Error() }

// Is makes errors.Is(err, ErrRateLimited) true for a RateLimitError.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }
