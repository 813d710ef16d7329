package http

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/accountd/accountd/internal/account"
)

// tokenBody is the OAuth2 token response.
type tokenBody struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

func writeTokens(w http.ResponseWriter, r *http.Request, c cookies, t account.Tokens) {
	c.set(w, r, t)
	writeJSON(w, http.StatusOK, tokenBody{
		AccessToken: t.AccessToken, TokenType: "bearer", ExpiresIn: int(t.AccessExpiresIn.Seconds()),
	})
}

// tokenRequest is the OAuth2 password grant form.
type tokenRequest struct {
	GrantType string `form:"grant_type,optional"`
	Username  string `form:"username"`
	Password  string `form:"password"`
	Scope     string `form:"scope,optional"`
	ClientID  string `form:"client_id,optional"`
}

func handleToken(svc *account.Service, c cookies, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req tokenRequest
		if decodeForm(w, r, &req) != nil {
			return
		}
		if req.GrantType != "" && req.GrantType != "password" {
			writeValidation(w, "body", &account.ValidationError{Fields: []account.FieldError{{
				Field: "grant_type", Type: "string_pattern_mismatch", Message: "String should match pattern '^password$'"}}})
			return
		}
		t, err := svc.Login(r.Context(), req.Username, req.Password, clientFrom(r.Context()))
		var mfa *account.MFARequiredError
		if errors.As(err, &mfa) {
			writeMFARequired(w, mfa)
			return
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeTokens(w, r, c, t)
	})
}

func handleRefresh(svc *account.Service, c cookies, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, err := svc.Refresh(r.Context(), cookieValue(r, refreshCookie), clientFrom(r.Context()))
		if err != nil {
			if errors.Is(err, account.ErrInvalidToken) || errors.Is(err, account.ErrTokenReused) ||
				errors.Is(err, account.ErrSessionExpired) {
				c.clear(w, r)
			}
			writeError(w, r, log, err)
			return
		}
		writeTokens(w, r, c, t)
	})
}

func handleLogout(svc *account.Service, c cookies, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := account.LogoutScope(r.URL.Query().Get("scope"))
		switch scope {
		case "":
			scope = account.ScopeLocal
		case account.ScopeLocal, account.ScopeOthers, account.ScopeGlobal:
		default:
			writeValidation(w, "query", &account.ValidationError{Fields: []account.FieldError{{
				Field: "scope", Type: "enum", Message: "Input should be 'local', 'others' or 'global'"}}})
			return
		}
		err := svc.Logout(r.Context(), accessToken(r), cookieValue(r, refreshCookie), scope, clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if scope != account.ScopeOthers {
			c.clear(w, r)
		}
		writeJSON(w, http.StatusOK, messageBody{Message: "Successfully logged out"})
	})
}
