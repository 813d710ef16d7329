package http

import (
	"log/slog"
	"net/http"

	"github.com/accountd/accountd/internal/account"
)

// limitClient counts the request against the client address's limit for
// action and answers 429 (or 503 when the count cannot be kept) once the
// client is over it.
func limitClient(svc *account.Service, action account.Action, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := svc.AllowClient(r.Context(), action, clientFrom(r.Context())); err != nil {
				writeError(w, r, log, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
