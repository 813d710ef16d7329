package http

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/accountd/accountd/internal/account"
)

// IntrospectionClients authenticates the clients of the introspection
// endpoint (config.Clients).
type IntrospectionClients interface {
	Authenticate(id, secret string) bool
}

// errInvalidClient answers a request to introspection without a known
// client's credentials.
var errInvalidClient = apiError{http.StatusUnauthorized, "invalid_client", "Client authentication failed"}

var basicChallengeValue = []string{`Basic realm="accountd", charset="UTF-8"`}

// introspectRequest is the RFC 7662 form.
type introspectRequest struct {
	Token         string `form:"token"`
	TokenTypeHint string `form:"token_type_hint,optional"`
}

// introspectionBody is the RFC 7662 answer; an inactive token shows only
// "active": false.
type introspectionBody struct {
	Active    bool     `json:"active"`
	Subject   string   `json:"sub,omitempty"`
	SessionID string   `json:"sid,omitempty"`
	TokenID   string   `json:"jti,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	ExpiresAt int64    `json:"exp,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Audience  string   `json:"aud,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Username  string   `json:"username,omitempty"`
	AMR       []string `json:"amr,omitempty"`
}

// inactive are the errors that mean a token is not active: anything else
// (a dependency down) is answered as an error, not as a verdict.
var inactive = []error{
	account.ErrNotAuthenticated, account.ErrInvalidToken, account.ErrTokenExpired,
	account.ErrTokenRevoked, account.ErrAccountDisabled,
}

// handleIntrospect answers RFC 7662 introspection of an access token for
// the clients in INTROSPECTION_CLIENTS (HTTP Basic). It reads no cookie:
// CSRF and CORS do not apply to it.
func handleIntrospect(svc *account.Service, clients IntrospectionClients, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !clientAuthenticated(r, clients) {
			w.Header()["Www-Authenticate"] = basicChallengeValue
			writeAPIError(w, errInvalidClient)
			return
		}
		var req introspectRequest
		if decodeForm(w, r, &req) != nil {
			return
		}
		in, err := svc.Introspect(r.Context(), req.Token)
		switch {
		case isAny(err, inactive):
			writeJSON(w, http.StatusOK, introspectionBody{Active: false})
		case err != nil:
			writeError(w, r, log, err)
		default:
			writeJSON(w, http.StatusOK, introspectionBody{
				Active: true, Subject: in.AccountUUID, SessionID: in.SessionID, TokenID: in.TokenID,
				IssuedAt: in.IssuedAt.Unix(), ExpiresAt: in.ExpiresAt.Unix(), Issuer: in.Issuer,
				Audience: in.Audience, TokenType: "access_token", Username: in.Username,
				AMR: in.AMR,
			})
		}
	})
}

// clientAuthenticated checks the request's HTTP Basic credentials, which
// RFC 6749 (2.3.1) form-urlencodes before the Basic encoding.
func clientAuthenticated(r *http.Request, clients IntrospectionClients) bool {
	id, secret, ok := r.BasicAuth()
	if !ok || clients == nil {
		return false
	}
	if u, err := url.QueryUnescape(id); err == nil {
		id = u
	}
	if u, err := url.QueryUnescape(secret); err == nil {
		secret = u
	}
	return clients.Authenticate(id, secret)
}

func isAny(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
