package http

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// addRoutes lists the whole API surface of accountd.
func addRoutes(r *chi.Mux, c Config) {
	svc, log := c.Service, c.Logger
	ck := cookies{CookieConfig: c.Cookies, proxies: c.TrustedProxies}
	auth := requireAuth(svc, log)

	r.Use(withRequestID, withClient(c.TrustedProxies), withAccessLog(log), withSecurityHeaders,
		withTimeout(c.RequestTimeout))
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) { writeAPIError(w, errNotFound) })
	r.MethodNotAllowed(methodNotAllowed(r).ServeHTTP)

	r.Method(http.MethodGet, "/", handleRoot(c.Version))
	r.Method(http.MethodGet, "/health", handleHealth(c.Health, log))
	r.Method(http.MethodGet, "/livez", handleLivez())

	r.Route("/api/v1/accounts", func(r chi.Router) {
		r.Use(noStore)
		r.Method(http.MethodPost, "/", handleRegister(svc, log))
		r.Method(http.MethodPost, "/token", handleToken(svc, ck, log))
		r.Method(http.MethodPost, "/refresh", handleRefresh(svc, ck, log))
		r.Method(http.MethodDelete, "/logout", handleLogout(svc, ck, log))
		r.Method(http.MethodGet, "/exist/{account_id}", handleExists(svc, log))
		r.With(auth).Method(http.MethodGet, "/me", handleMe(svc, log))
		r.With(auth).Method(http.MethodPost, "/verify_password", handleVerifyPassword(svc, log))
		r.With(auth).Method(http.MethodPut, "/password", handleChangePassword(svc, log))
		r.With(auth).Method(http.MethodGet, "/sessions", handleSessions(svc, log))
		r.With(auth).Method(http.MethodDelete, "/sessions/{id}", handleRevokeSession(svc, log))
	})
}
