package http

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/accountd/accountd/internal/account"
)

// accessToken returns the access token of the request: the bearer token of
// the Authorization header first, else the access_token cookie.
func accessToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
	}
	return cookieValue(r, accessCookie)
}

// principal returns the caller that requireAuth let through.
func principal(ctx context.Context) account.Principal {
	return infoFrom(ctx).principal
}

// requireAuth lets a request through only with a valid, unrevoked access
// token; else it answers 401 (or 503 when revocation cannot be checked).
func requireAuth(svc *account.Service, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := svc.Authenticate(r.Context(), accessToken(r))
			if err != nil {
				writeError(w, r, log, err)
				return
			}
			infoFrom(r.Context()).principal = p
			next.ServeHTTP(w, r)
		})
	}
}
