package http

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// RequestObserver is told about every answered request, for metrics.
type RequestObserver interface {
	// ObserveRequest records one request: its route as the OpenAPI
	// document names it ("unmatched" when it matched none), the method, the
	// status (499 when the client went away first) and how long it took to
	// answer.
	ObserveRequest(route, method string, status int, d time.Duration)
}

// unmatchedRoute is the route label of a request that matched no route.
const unmatchedRoute = "unmatched"

// routeLabels names routes as the OpenAPI document (openapi.yaml) does, for
// logs and metrics, never by the raw path. It maps the pattern chi reports
// for a request (normalised by patternKey) to the route's label. It is
// filled by learn once every route is registered, before any request, and
// only read after that.
//
// chi's RoutePattern drops the trailing slash of a sub-router's "/" route
// ("/api/v1/accounts" for the document's "/api/v1/accounts/") and reports
// a request that only reached a mounted sub-router as the mount ("/*"), so
// it cannot be used as it is.
type routeLabels map[string]string

// learn records the label of every route of routes. A route is labelled as
// chi.Walk lists it, which is how the document names it ("/api/v1/accounts/"
// included), except that a wildcard route ("/docs/*", the docs page's
// assets) is labelled by its root ("/docs").
func (l routeLabels) learn(routes chi.Routes) {
	_ = chi.Walk(routes, func(_, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		label := route
		if root, ok := strings.CutSuffix(route, "/*"); ok {
			label = cmp.Or(root, "/")
		}
		l[patternKey(route)] = label
		return nil
	})
}

// patternKey is a route pattern without its trailing slash, as chi's
// RoutePattern reports it.
func patternKey(pattern string) string {
	if pattern == "/" {
		return pattern
	}
	return strings.TrimSuffix(pattern, "/")
}

// label returns the label of route, a pattern as chi.Walk or Mux.Find gives
// it, or unmatchedRoute.
func (l routeLabels) label(route string) string {
	if label, ok := l[patternKey(route)]; ok {
		return label
	}
	return unmatchedRoute
}

// of returns the label of the route that served r. It is worked out once
// and kept in the request's info for its other observers.
func (l routeLabels) of(r *http.Request) string {
	ri := infoFrom(r.Context())
	if ri.route == "" {
		ri.route = unmatchedRoute
		if rc := chi.RouteContext(r.Context()); rc != nil {
			ri.route = l.label(rc.RoutePattern())
		}
	}
	return ri.route
}
