package http

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/accountd/accountd/internal/account"
)

// accountsPath is the root of the account API.
const accountsPath = "/api/v1/accounts"

// addRoutes lists the whole API surface of accountd. It returns the routes'
// labels, for frontDoor.
func addRoutes(r *chi.Mux, c Config) routeLabels {
	svc, log := c.Service, c.Logger
	ck := cookies{CookieConfig: c.Cookies, proxies: c.TrustedProxies}
	auth := requireAuth(svc, log)
	limit := func(a account.Action) func(http.Handler) http.Handler { return limitClient(svc, a, log) }

	labels := routeLabels{}
	defer labels.learn(r) // once every route below is registered
	r.Use(withCORS(c.CORSAllowedOrigins), withCSRF(c.CORSAllowedOrigins, log))
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) { writeAPIError(w, errNotFound) })
	r.MethodNotAllowed(methodNotAllowed(r, labels).ServeHTTP)

	r.Method(http.MethodGet, "/", handleRoot(c.Version))
	r.Method(http.MethodGet, "/health", handleHealth(c.Health, log))
	r.Method(http.MethodGet, "/livez", handleLivez())
	r.Method(http.MethodGet, "/openapi.json", handleOpenAPI(c.Version))
	docs := handleDocs()
	r.Method(http.MethodGet, "/docs", docs)
	r.Method(http.MethodGet, "/docs/*", docs)
	if c.MetricsHandler != nil {
		r.Method(http.MethodGet, "/metrics", c.MetricsHandler)
	}
	r.Method(http.MethodGet, jwksPath, handleJWKS(c.Keys, c.JWKSMaxAge, c.JWKSObserver))
	r.Method(http.MethodGet, discoveryPath, handleDiscovery(c.Issuer, c.PublicURL, c.JWKSMaxAge))

	// The account API, registered flat (no sub-router: one route lookup
	// per request); frontDoor marks all of it no-store.
	r.With(limit(account.ActionRegister)).Method(http.MethodPost, accountsPath+"/", handleRegister(svc, log))
	r.With(limit(account.ActionLogin)).Method(http.MethodPost, accountsPath+"/token", handleToken(svc, ck, log))
	r.Method(http.MethodPost, accountsPath+"/refresh", handleRefresh(svc, ck, log))
	r.Method(http.MethodDelete, accountsPath+"/logout", handleLogout(svc, ck, log))
	r.With(limit(account.ActionExists)).Method(http.MethodGet, accountsPath+"/exist/{account_id}", handleExists(svc, log))
	r.With(auth).Method(http.MethodGet, accountsPath+"/me", handleMe(svc, log))
	r.With(limit(account.ActionVerifyPassword), auth).Method(http.MethodPost, accountsPath+"/verify_password", handleVerifyPassword(svc, log))
	r.With(limit(account.ActionChangePassword), auth).Method(http.MethodPut, accountsPath+"/password", handleChangePassword(svc, log))
	r.With(auth).Method(http.MethodGet, accountsPath+"/sessions", handleSessions(svc, log))
	r.With(auth).Method(http.MethodDelete, accountsPath+"/sessions/{id}", handleRevokeSession(svc, log))
	r.Method(http.MethodPost, accountsPath+"/introspect", handleIntrospect(svc, c.IntrospectionClients, log))
	r.With(limit(account.ActionDeleteAccount), auth).Method(http.MethodDelete, accountsPath+"/me", handleDeleteMe(svc, ck, log))
	r.With(auth).Method(http.MethodGet, accountsPath+"/events", handleEvents(svc, log))
	r.Method(http.MethodGet, accountsPath+"/session", handleCurrentSession(svc, log))

	pk, on := c.Passkeys, passkeysOn(c.Passkeys)
	r.With(on, auth).Method(http.MethodGet, accountsPath+"/passkeys", handlePasskeys(pk, log))
	r.With(on, auth).Method(http.MethodPost, accountsPath+"/passkeys/register/begin", handlePasskeyRegisterBegin(pk, log))
	r.With(on, auth).Method(http.MethodPost, accountsPath+"/passkeys/register/finish", handlePasskeyRegisterFinish(pk, log))
	r.With(on, auth).Method(http.MethodDelete, accountsPath+"/passkeys/{id}", handleDeletePasskey(pk, log))
	r.With(on, limit(account.ActionPasskeyLogin)).Method(http.MethodPost, accountsPath+"/passkeys/login/begin", handlePasskeyLoginBegin(pk, ck, log))
	r.With(on, limit(account.ActionPasskeyLogin)).Method(http.MethodPost, accountsPath+"/passkeys/login/finish", handlePasskeyLoginFinish(pk, ck, log))
	r.With(limit(account.ActionLoginMFA)).Method(http.MethodPost, accountsPath+"/token/mfa", handleTokenMFA(svc, ck, log))
	r.With(auth).Method(http.MethodGet, accountsPath+"/mfa", handleMFAStatus(svc, log))
	r.With(limit(account.ActionMFA), auth).Method(http.MethodPost, accountsPath+"/mfa/totp", handleEnrollTOTP(svc, log))
	r.With(limit(account.ActionMFA), auth).Method(http.MethodPost, accountsPath+"/mfa/totp/confirm", handleConfirmTOTP(svc, log))
	r.With(limit(account.ActionMFA), auth).Method(http.MethodDelete, accountsPath+"/mfa/totp", handleDisableTOTP(svc, log))
	return labels
}
