// Package http is accountd's HTTP interface: the chi router, the handlers
// that decode requests, call the account service and encode its answers, and
// the middleware around them.
package http

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/accountd/accountd/internal/account"
)

// Config is what NewHandler needs.
type Config struct {
	Service        *account.Service
	Logger         *slog.Logger
	Health         map[string]Check
	Cookies        CookieConfig
	TrustedProxies []netip.Prefix
	// ClientIPHeader is the header that a trusted proxy names the client
	// in (CLIENT_IP_HEADER); the zero value is ForwardedFor.
	ClientIPHeader ClientIPHeader
	// CORSAllowedOrigins are the browser origins (scheme://host[:port]) that
	// may call the API with credentials; cross-origin state-changing
	// requests from any other origin are refused.
	CORSAllowedOrigins []string
	RequestTimeout     time.Duration
	Version            string
	// Metrics, when set, is told about every request.
	Metrics RequestObserver
	// MetricsHandler, when set, serves GET /metrics on this router; leave
	// it nil when the metrics have a listener of their own (METRICS_ADDR).
	MetricsHandler http.Handler
	// Keys publishes the JWKS; nil publishes none (HS*).
	Keys JWKSSource
	// JWKSMaxAge is how long verifiers may cache the JWKS and the
	// discovery document.
	JWKSMaxAge time.Duration
	// JWKSObserver, when set, is told about JWKS requests.
	JWKSObserver JWKSObserver
	// Issuer is the iss of access tokens; PublicURL, when set, makes the
	// discovery document's URLs absolute.
	Issuer, PublicURL string
	// IntrospectionClients may call the introspection endpoint; nil: none.
	IntrospectionClients IntrospectionClients
	// Passkeys are the passkey use cases; nil: passkeys are off and their
	// endpoints answer 404 passkeys_disabled.
	Passkeys *account.Passkeys
}

// NewHandler returns the whole HTTP API of accountd.
func NewHandler(c Config) http.Handler {
	r := chi.NewRouter()
	labels := addRoutes(r, c)
	return &frontDoor{Mux: r, labels: labels, exact: learnExactRoutes(r), timeout: c.RequestTimeout, metrics: c.Metrics, log: c.Logger,
		clients: clientSource{proxies: c.TrustedProxies, header: c.ClientIPHeader}}
}

// NewServer returns an http.Server for h with timeouts that fit a request
// timeout of requestTimeout.
func NewServer(addr string, h http.Handler, requestTimeout time.Duration, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       requestTimeout,
		WriteTimeout:      requestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// methodNotAllowed answers 405 with the Allow header that lists what the
// path does take. The routes are listed once, on first use, since they are
// all registered by then; matching against that list, not against the
// router alone, keeps chi's mount stubs out of Allow. The request is
// labelled with the route of its path, which chi does not report for a 405.
func methodNotAllowed(mux *chi.Mux, labels routeLabels) http.Handler {
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions}
	var once sync.Once
	routes := make(map[string]bool)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			_ = chi.Walk(mux, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
				routes[method+" "+route] = true
				return nil
			})
		})
		path := r.URL.Path
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePath != "" {
			path = rc.RoutePath // see frontDoor
		}
		var allow []string
		for _, m := range methods {
			if route := mux.Find(chi.NewRouteContext(), m, path); routes[m+" "+route] {
				allow = append(allow, m)
				infoFrom(r.Context()).route = labels.label(route)
			}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeAPIError(w, errMethodNotAllowed)
	})
}
