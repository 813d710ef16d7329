package http

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// RequestObserver is told about every answered request, for metrics.
type RequestObserver interface {
	// ObserveRequest records one request: the route pattern that matched
	// ("unmatched" when none did), the method, the status and how long it
	// took to answer.
	ObserveRequest(route, method string, status int, d time.Duration)
}

// withMetrics reports each request to o; a nil o adds nothing. It sits
// outside the access log's panic recovery so that a panic is counted as the
// 500 it is answered with.
func withMetrics(o RequestObserver) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if o == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			o.ObserveRequest(routePattern(r), r.Method, sw.answered(r), time.Since(start))
		})
	}
}

// routePattern is the chi pattern that served r, or "unmatched"; it is what
// logs and metrics name a route by, never the raw path.
// chi builds the pattern afresh on each call, so it is kept for the
// request's other observers.
func routePattern(r *http.Request) string {
	ri := infoFrom(r.Context())
	if ri.route != "" {
		return ri.route
	}
	ri.route = "unmatched"
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			ri.route = p
		}
	}
	return ri.route
}
