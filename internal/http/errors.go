package http

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/accountd/accountd/internal/account"
)

// apiError is how one domain error is answered.
type apiError struct {
	status int
	code   string
	detail string
}

// errorTable maps each domain error to its status, stable code and text.
var errorTable = []struct {
	err error
	apiError
}{
	{account.ErrAccountExists, apiError{http.StatusConflict, "account_exists", "Account already exists"}},
	{account.ErrInvalidCredentials, apiError{http.StatusBadRequest, "invalid_credentials", "Incorrect username or password"}},
	{account.ErrAccountDisabled, apiError{http.StatusForbidden, "account_disabled", "Account is disabled"}},
	{account.ErrInvalidPassword, apiError{http.StatusBadRequest, "invalid_password", "Invalid password"}},
	{account.ErrPasswordUnchanged, apiError{http.StatusBadRequest, "password_unchanged", "New password must differ from the current one"}},
	{account.ErrNotAuthenticated, apiError{http.StatusUnauthorized, "not_authenticated", "Not authenticated"}},
	{account.ErrInvalidToken, apiError{http.StatusUnauthorized, "invalid_token", "Could not validate credentials"}},
	{account.ErrTokenExpired, apiError{http.StatusUnauthorized, "token_expired", "Token has expired"}},
	{account.ErrTokenRevoked, apiError{http.StatusUnauthorized, "token_revoked", "Token has been revoked"}},
	{account.ErrTokenReused, apiError{http.StatusUnauthorized, "refresh_token_reused", "Refresh token was already used; the session has been revoked"}},
	{account.ErrSessionExpired, apiError{http.StatusUnauthorized, "session_expired", "Session has reached its maximum lifetime; log in again"}},
	{account.ErrSessionNotFound, apiError{http.StatusNotFound, "session_not_found", "Session not found"}},
	{account.ErrMFARequired, apiError{http.StatusUnauthorized, "mfa_required", "A second factor is required: finish the login at /api/v1/accounts/token/mfa"}},
	{account.ErrInvalidMFACode, apiError{http.StatusBadRequest, "invalid_mfa_code", "Invalid code"}},
	{account.ErrTOTPEnabled, apiError{http.StatusConflict, "totp_already_enabled", "TOTP is already enabled"}},
	{account.ErrTOTPNotPending, apiError{http.StatusConflict, "totp_not_pending", "No TOTP enrolment to confirm"}},
	{account.ErrTOTPNotEnabled, apiError{http.StatusConflict, "totp_not_enabled", "TOTP is not enabled"}},
	{account.ErrNotFound, apiError{http.StatusNotFound, "not_found", "Not Found"}},
	{account.ErrRateLimited, apiError{http.StatusTooManyRequests, "too_many_attempts", "Too many attempts, try again later"}},
	{account.ErrInvalidPasskey, apiError{http.StatusBadRequest, "invalid_passkey", "Passkey could not be verified"}},
	{account.ErrNoCeremony, apiError{http.StatusBadRequest, "invalid_passkey", "No passkey ceremony in progress, or it expired; begin again"}},
	{account.ErrPasskeyExists, apiError{http.StatusConflict, "passkey_exists", "Passkey is already registered"}},
	{account.ErrPasskeyNotFound, apiError{http.StatusNotFound, "passkey_not_found", "Passkey not found"}},
}

// Errors the HTTP layer makes itself.
var (
	errNotFound         = apiError{http.StatusNotFound, "not_found", "Not Found"}
	errMethodNotAllowed = apiError{http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed"}
	errTooLarge         = apiError{http.StatusRequestEntityTooLarge, "payload_too_large", "Request body is larger than 64 KiB"}
	errMediaType        = apiError{http.StatusUnsupportedMediaType, "unsupported_media_type", "Unsupported content type"}
	errInternal         = apiError{http.StatusInternalServerError, "internal_error", "Internal Server Error"}
	// errUnavailable answers what account.Unavailable reports: a
	// dependency that failed or was too slow.
	errUnavailable = apiError{http.StatusServiceUnavailable, "service_unavailable", "Service temporarily unavailable"}
)

// retryAfterSeconds is what a 503 asks clients to wait.
const retryAfterSeconds = "5"

type errorBody struct {
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// writeError answers err with the contract's error body. Errors that
// account.Unavailable reports are a 503; errors not in the table are a 500
// whose cause goes only to the log. When the client has gone away (the
// request's own context was cancelled), nothing is written: the access log
// and metrics record the request as a 499 at INFO, whatever err says.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if clientGone(r) {
		log.LogAttrs(r.Context(), slog.LevelDebug, "client closed request",
			slog.String("request_id", requestID(r.Context())), slog.String("error", err.Error()))
		return
	}
	var verr *account.ValidationError
	if errors.As(err, &verr) {
		writeValidation(w, "body", verr)
		return
	}
	e, ok := lookupError(err)
	if !ok {
		log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("request_id", requestID(r.Context())), slog.String("error", err.Error()))
		writeAPIError(w, errInternal)
		return
	}
	var rl *account.RateLimitError
	switch {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(max(rl.RetryAfterSeconds, 1)))
	case e.status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds)
		log.LogAttrs(r.Context(), slog.LevelWarn, "dependency unavailable",
			slog.String("request_id", requestID(r.Context())), slog.String("error", err.Error()))
	case e.status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", authenticateHeader(e.code))
	}
	writeAPIError(w, e)
}

// lookupError finds how err is answered: by the table, else a 503 when
// account.Unavailable says so; ok is false for an error that is neither.
func lookupError(err error) (e apiError, ok bool) {
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			return row.apiError, true
		}
	}
	if account.Unavailable(err) {
		return errUnavailable, true
	}
	return apiError{}, false
}

// clientGone reports whether the client gave up on r: the server cancels a
// request's context when its connection goes away. A request that ran out
// of time has a context that ended with DeadlineExceeded instead, which is
// answered 503.
func clientGone(r *http.Request) bool { return account.Canceled(r.Context().Err()) }

func authenticateHeader(code string) string {
	if code == "not_authenticated" {
		return "Bearer"
	}
	return `Bearer error="invalid_token"`
}

func writeAPIError(w http.ResponseWriter, e apiError) {
	writeJSON(w, e.status, errorBody{Detail: e.detail, Code: e.code})
}

// validationItem is one entry of a FastAPI-style 422 body.
type validationItem struct {
	Type string `json:"type"`
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
}

type validationBody struct {
	Detail []validationItem `json:"detail"`
	Code   string           `json:"code"`
}

// writeValidation answers 422 with one entry per problem, located in where
// ("body", "query", "path"). Input values are never echoed.
func writeValidation(w http.ResponseWriter, where string, verr *account.ValidationError) {
	items := make([]validationItem, 0, len(verr.Fields))
	for _, f := range verr.Fields {
		loc := []any{where}
		if f.Field != "" {
			loc = append(loc, f.Field)
		}
		items = append(items, validationItem{Type: f.Type, Loc: loc, Msg: f.Message})
	}
	code := verr.Code
	if code == "" {
		code = "validation_error"
	}
	writeJSON(w, http.StatusUnprocessableEntity, validationBody{Detail: items, Code: code})
}
