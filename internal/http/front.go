package http

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/accountd/accountd/internal/security"
)

// frontDoor is the first handler of every request, in front of the chi
// router it embeds (so it still lists the routes as a chi.Routes). In one
// place and one allocation it does what every request needs: an id, the
// client, a deadline, the headers every response carries, the status that
// logs and metrics report, the access-log line, the metrics and the
// recovery from a panic.
//
// The profile of `GET /me` under load showed the usual middleware stack to
// cost as much as the handler itself: a context.WithTimeout per request (a
// timer, a goroutine-free but allocating cancel propagation), a copy of the
// request per context value (ours and chi's), two response-writer wrappers
// and two clocks. Here the request's context is one value that answers for
// the deadline, the request's info and chi's routing context, and only
// makes a real timer when someone waits on Done (a database or Redis call),
// which `/me` never does.
type frontDoor struct {
	*chi.Mux
	clients clientSource
	timeout time.Duration
	metrics RequestObserver
	log     *slog.Logger
	labels  routeLabels
	exact   exactRoutes
	// states recycles the state of requests that made no derived context
	// (see release).
	states sync.Pool
}

// requestState is all that frontDoor keeps for one request.
type requestState struct {
	ctx   requestContext
	sw    statusWriter
	info  requestInfo
	route chi.Context
}

func (f *frontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st, _ := f.states.Get().(*requestState)
	if st == nil {
		st = new(requestState)
	}
	id := r.Header.Get("X-Request-ID")
	if !saneRequestID(id) {
		id = newRequestID()
	}
	st.info = requestInfo{id: id, request: r, clients: f.clients}
	st.route.Routes = f.Mux
	if r.URL.Path == accountsPath && r.URL.RawPath == "" {
		// The account API's root, without its trailing slash (as the
		// sub-router it used to be mounted on took it).
		st.route.RoutePath = accountsPath + "/"
	}
	st.ctx.init(r.Context(), start.Add(f.timeout), st)
	defer f.release(st)

	h := w.Header()
	h["X-Request-Id"] = []string{id}
	h["X-Content-Type-Options"] = nosniffValue
	h["Referrer-Policy"] = noReferrerValue
	h["X-Frame-Options"] = frameDenyValue
	if strings.HasPrefix(r.URL.Path, accountsPath) {
		// The account API hands out tokens and account data, and answers
		// about them (its 404s and 405s included): nothing of it is cached.
		h["Cache-Control"] = noStoreValue
		h["Pragma"] = noCacheValue
	}
	st.sw.ResponseWriter = w
	r = r.WithContext(&st.ctx)
	defer f.finish(st, r, start)
	if e, ok := f.exact.find(r, st.route.RoutePath); ok {
		st.route.RoutePatterns = e.patterns
		e.handler.ServeHTTP(&st.sw, r)
		return
	}
	f.Mux.ServeHTTP(&st.sw, r)
}

// exactRoutes are the routes without parameters or wildcards, by method
// and path, each with its whole chain of middleware, as chi would run it:
// frontDoor serves a request for one of them (GET /me, POST /refresh, ...)
// with one map lookup instead of a walk down chi's tree and its handler
// chains. Everything else goes through chi.
type exactRoutes map[string]map[string]exactRoute

type exactRoute struct {
	handler  http.Handler
	patterns []string // chi's RoutePatterns for the route, for its label
}

// learnExactRoutes lists the exact routes of mux, once every route is
// registered.
func learnExactRoutes(mux *chi.Mux) exactRoutes {
	routes := exactRoutes{}
	_ = chi.Walk(mux, func(method, route string, h http.Handler, mws ...func(http.Handler) http.Handler) error {
		if strings.ContainsAny(route, "{*") {
			return nil
		}
		if routes[method] == nil {
			routes[method] = map[string]exactRoute{}
		}
		routes[method][route] = exactRoute{handler: chi.Chain(mws...).Handler(h), patterns: []string{route}}
		return nil
	})
	return routes
}

// find returns the exact route of r: its method and its path (routePath
// when set, as chi would use it). Escaped paths go through chi.
func (e exactRoutes) find(r *http.Request, routePath string) (exactRoute, bool) {
	if r.URL.RawPath != "" {
		return exactRoute{}, false
	}
	path := r.URL.Path
	if routePath != "" {
		path = routePath
	}
	route, ok := e[r.Method][path]
	return route, ok
}

// release ends the request's context and recycles its state, unless the
// request made a derived context (it waited on Done: a database or Redis
// call): contexts made from that one may be held a little longer by what
// made them, so its state is left to the garbage collector. A request that
// never waited (GET /me, the hot path) left nothing that refers to it.
func (f *frontDoor) release(st *requestState) {
	if !st.ctx.end() {
		return
	}
	*st = requestState{}
	f.states.Put(st)
}

// finish turns a panic into a 500 whose cause goes only to the log, then
// reports the request to the metrics and the access log.
func (f *frontDoor) finish(st *requestState, r *http.Request, start time.Time) {
	if p := recover(); p != nil {
		if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			panic(p)
		}
		f.log.LogAttrs(r.Context(), slog.LevelError, "panic",
			slog.String("request_id", st.info.id),
			slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
		if st.sw.status == 0 {
			writeAPIError(&st.sw, errInternal)
		}
	}
	status := st.sw.answered(r)
	took := time.Since(start)
	if f.metrics != nil {
		f.metrics.ObserveRequest(f.labels.of(r), r.Method, status, took)
	}
	if !f.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	f.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("request_id", st.info.id),
		slog.String("method", r.Method), slog.String("route", f.labels.of(r)),
		slog.String("path", loggedPath(r)),
		slog.Int("status", status), slog.Int("bytes", st.sw.bytes),
		slog.Duration("duration", took),
		slog.String("client_ip", st.info.clientInfo().IPAddress))
}

// newRequestID returns a random id in the form of a UUID (version 4) for a
// request that brought none. A request id only ties log lines together and
// is echoed to the client; nothing trusts it, so it comes from math/rand/v2's
// generator (seeded by the runtime from the OS) rather than from
// crypto/rand, which cost a getrandom call per request on this path.
func newRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64()) //nolint:gosec // G404: a log correlation id, not a secret
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64()) //nolint:gosec // G404: a log correlation id, not a secret
	return security.UUIDv4(b)
}

// requestContext is a request's context: its parent's values and
// cancellation, the request's deadline, and the request's info and chi
// routing context as values. It behaves as context.WithDeadline(parent,
// deadline) with those two values added, and is cancelled when the request
// ends, but makes that derived context (and its timer) only when Done is
// first called; until then Err works out the same answer from the parent
// and the clock.
type requestContext struct {
	context.Context // the parent
	deadline        time.Time
	state           *requestState

	mu      sync.Mutex
	derived context.Context // nil until Done is called
	cancel  context.CancelFunc
	ended   bool
}

func (c *requestContext) init(parent context.Context, deadline time.Time, st *requestState) {
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.Context, c.deadline, c.state = parent, deadline, st
}

// end cancels the context: the request is over. It reports whether the
// derived context was never made.
func (c *requestContext) end() (underived bool) {
	c.mu.Lock()
	c.ended = true
	cancel := c.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return cancel == nil
}

// real returns the derived context, making it on first use.
func (c *requestContext) real() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.derived == nil {
		c.derived, c.cancel = context.WithDeadline(c.Context, c.deadline)
		if c.ended {
			c.cancel()
		}
	}
	return c.derived
}

func (c *requestContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *requestContext) Done() <-chan struct{} { return c.real().Done() }

func (c *requestContext) Err() error {
	c.mu.Lock()
	derived, ended := c.derived, c.ended
	c.mu.Unlock()
	switch {
	case derived != nil:
		return derived.Err()
	case c.Context.Err() != nil:
		return c.Context.Err()
	case ended:
		return context.Canceled
	case !time.Now().Before(c.deadline):
		return context.DeadlineExceeded
	}
	return nil
}

// Value answers for the request's info and chi's routing context; any
// other key goes to the derived context once it exists (so that contexts
// made from this one find its cancellation), else to the parent.
func (c *requestContext) Value(key any) any {
	switch key {
	case infoKey{}:
		return &c.state.info
	case chi.RouteCtxKey:
		return &c.state.route
	}
	c.mu.Lock()
	derived := c.derived
	c.mu.Unlock()
	if derived != nil {
		return derived.Value(key)
	}
	return c.Context.Value(key)
}

func (c *requestContext) String() string { return "accountd request context" }
