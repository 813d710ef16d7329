package http

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/cors"
)

// corsMaxAge is how long browsers may cache a preflight answer, in seconds.
const corsMaxAge = 600

// errCrossOrigin answers a state-changing request that a browser sent from
// an origin that is not trusted.
var errCrossOrigin = apiError{http.StatusForbidden, "cross_origin_rejected", "Cross-origin request refused"}

// normalizeOrigins lower-cases the configured origins, as browsers send
// them, and drops empty ones.
func normalizeOrigins(origins []string) map[string]bool {
	set := make(map[string]bool, len(origins))
	for _, o := range origins {
		if o = strings.ToLower(strings.TrimSpace(o)); o != "" {
			set[o] = true
		}
	}
	return set
}

// withCORS lets pages on the allowed origins call every endpoint with their
// cookies. Origins match exactly; there is no wildcard and never "*". With
// no allowed origin it adds nothing, since go-chi/cors would then allow all.
func withCORS(origins []string) func(http.Handler) http.Handler {
	allowed := normalizeOrigins(origins)
	if len(allowed) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return exceptIntrospection(cors.Handler(cors.Options{
		AllowOriginFunc:  func(_ *http.Request, origin string) bool { return allowed[origin] },
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete},
		AllowedHeaders:   []string{"Content-Type", "Authorization", "X-Request-ID"},
		ExposedHeaders:   []string{"X-Request-ID", "Retry-After"},
		AllowCredentials: true,
		MaxAge:           corsMaxAge,
	}))
}

// exceptIntrospection keeps a middleware off the introspection endpoint,
// which servers call with client credentials, never browsers with cookies.
func exceptIntrospection(mw func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		wrapped := mw(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == introspectPath {
				next.ServeHTTP(w, r)
				return
			}
			wrapped.ServeHTTP(w, r)
		})
	}
}

// withCSRF refuses state-changing requests that a browser sends from
// another origin, unless it is an allowed one: the check of
// net/http.CrossOriginProtection on Sec-Fetch-Site and Origin. Requests
// without those headers (curl, servers) pass; they carry no ambient cookies.
// An origin that is not scheme://host[:port] (config.Load refuses those) is
// logged and not trusted.
func withCSRF(origins []string, log *slog.Logger) func(http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	// Introspection reads no cookie: servers call it with client credentials.
	p.AddInsecureBypassPattern(http.MethodPost + " " + introspectPath)
	for o := range normalizeOrigins(origins) {
		if err := p.AddTrustedOrigin(o); err != nil {
			log.Error("CORS_ALLOWED_ORIGINS: origin not trusted", slog.String("error", err.Error()))
		}
	}
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.LogAttrs(r.Context(), slog.LevelWarn, "cross-origin request refused",
			slog.String("event", "cross_origin_rejected"), slog.String("request_id", requestID(r.Context())),
			slog.String("origin", truncate(r.Header.Get("Origin"), 256)),
			slog.String("sec_fetch_site", truncate(r.Header.Get("Sec-Fetch-Site"), 32)))
		writeAPIError(w, errCrossOrigin)
	}))
	return p.Handler
}

// truncate bounds a client-supplied string before it is logged.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
