package http

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/accountd/accountd/internal/account"
)

// sessionBody is one entry of the session list.
type sessionBody struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IPAddress  string    `json:"ip_address"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"`
}

func handleSessions(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principal(r.Context())
		list, err := svc.Sessions(r.Context(), p)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		out := make([]sessionBody, len(list))
		for i, s := range list {
			out[i] = sessionBody{
				ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC(), ExpiresAt: s.ExpiresAt.UTC(),
				IPAddress: s.IPAddress, UserAgent: s.UserAgent, Current: s.ID == p.SessionID,
			}
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func handleRevokeSession(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := svc.RevokeSession(r.Context(), principal(r.Context()), chi.URLParam(r, "id"), clientFrom(r.Context()))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, messageBody{Message: "Session revoked"})
	})
}

// currentSessionBody is the answer of GET /session.
type currentSessionBody struct {
	SessionID        string     `json:"session_id"`
	AccountUUID      string     `json:"account_uuid"`
	AccessExpiresAt  *time.Time `json:"access_expires_at"`
	RefreshExpiresAt time.Time  `json:"refresh_expires_at"`
	SessionExpiresAt time.Time  `json:"session_expires_at"`
}

// handleCurrentSession answers by the access token or, failing that, the
// refresh cookie, which it does not rotate; it is not behind requireAuth.
func handleCurrentSession(svc *account.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := svc.CurrentSession(r.Context(), accessToken(r), cookieValue(r, refreshCookie))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		body := currentSessionBody{
			SessionID: st.SessionID, AccountUUID: st.AccountUUID,
			RefreshExpiresAt: st.RefreshExpiresAt.UTC(), SessionExpiresAt: st.SessionExpiresAt.UTC(),
		}
		if !st.AccessExpiresAt.IsZero() {
			at := st.AccessExpiresAt.UTC()
			body.AccessExpiresAt = &at
		}
		writeJSON(w, http.StatusOK, body)
	})
}
