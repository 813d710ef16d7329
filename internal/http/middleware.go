package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/security"
)

// infoKey keys the request's *requestInfo in its context.
type infoKey struct{}

// requestInfo is what the middleware learns about a request. It is put in
// the request's context once, by withRequest, and filled in as the request
// goes down the chain, so that no middleware copies the request to add a
// value.
type requestInfo struct {
	id        string
	client    account.Client
	principal account.Principal
	route     string // set by routeLabels.of, or by methodNotAllowed
}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(infoKey{}).(*requestInfo)
	if ri == nil {
		return &requestInfo{}
	}
	return ri
}

// maxRequestIDLength bounds a client's X-Request-ID that is passed on.
const maxRequestIDLength = 128

// requestID returns the id of the request that ctx belongs to.
func requestID(ctx context.Context) string { return infoFrom(ctx).id }

// saneRequestID reports whether a client's X-Request-ID may be echoed and
// logged: short, and only letters, digits and . _ : -.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !requestIDByte(id[i]) {
			return false
		}
	}
	return true
}

func requestIDByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	default:
		return c == '.' || c == '_' || c == ':' || c == '-'
	}
}

// withRequest starts every request: it gives it an id (X-Request-ID when
// the client's is sane), records the client's address and User-Agent, and
// sets the request's deadline; dependencies that pass the deadline make the
// request answer 503. All of it goes into the context at once.
func withRequest(clients clientSource, timeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-ID")
			if !saneRequestID(id) {
				id = security.NewID()
			}
			w.Header()["X-Request-Id"] = []string{id}
			ri := &requestInfo{id: id, client: clients.client(r)}
			ri.client.RequestID = id
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, infoKey{}, ri)))
		})
	}
}

// Values of the headers that every response carries, made once: setting a
// header to a shared slice saves an allocation per header per request.
// Nothing appends to or edits these in place.
var (
	nosniffValue     = []string{"nosniff"}
	noReferrerValue  = []string{"no-referrer"}
	frameDenyValue   = []string{"DENY"}
	noStoreValue     = []string{"no-store"}
	noCacheValue     = []string{"no-cache"}
	jsonContentValue = []string{"application/json"}
)

// withSecurityHeaders sets the headers every response carries.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniffValue
		h["Referrer-Policy"] = noReferrerValue
		h["X-Frame-Options"] = frameDenyValue
		next.ServeHTTP(w, r)
	})
}

// noStore marks responses that carry tokens or account data uncacheable.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Cache-Control"] = noStoreValue
		w.Header()["Pragma"] = noCacheValue
		next.ServeHTTP(w, r)
	})
}

// statusWriter records what a handler wrote, for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// statusClientClosed is the status that logs and metrics give a request
// whose client went away before it was answered (nginx's 499); it is never
// sent.
const statusClientClosed = 499

// answered returns the status r was answered with, for logs and metrics:
// what the handler wrote, else 499 when the client went away first, else
// the 200 that net/http sends for a handler that wrote nothing.
func (s *statusWriter) answered(r *http.Request) int {
	switch {
	case s.status != 0:
		return s.status
	case clientGone(r):
		return statusClientClosed
	default:
		return http.StatusOK
	}
}

// maxLoggedPathBytes bounds the path that the access log shows.
const maxLoggedPathBytes = 256

// loggedPath is r's URL path as the access log shows it: escaped as it came
// (so plain ASCII), without the query string, which may carry what a
// client should not have put there, and cut to maxLoggedPathBytes.
func loggedPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if len(p) > maxLoggedPathBytes {
		p = p[:maxLoggedPathBytes] + "..."
	}
	return p
}

// withAccessLog logs one line per request, with the route's label (see
// routeLabels) and the path, and turns a panic into a 500 whose cause goes
// only to the log.
func withAccessLog(log *slog.Logger, routes routeLabels) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				if p := recover(); p != nil {
					if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
						panic(p)
					}
					log.LogAttrs(r.Context(), slog.LevelError, "panic",
						slog.String("request_id", requestID(r.Context())),
						slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
					if sw.status == 0 {
						writeAPIError(sw, errInternal)
					}
				}
				if !log.Enabled(r.Context(), slog.LevelInfo) {
					return
				}
				log.LogAttrs(r.Context(), slog.LevelInfo, "request",
					slog.String("request_id", requestID(r.Context())),
					slog.String("method", r.Method), slog.String("route", routes.of(r)),
					slog.String("path", loggedPath(r)),
					slog.Int("status", sw.answered(r)), slog.Int("bytes", sw.bytes),
					slog.Duration("duration", time.Since(start)),
					slog.String("client_ip", clientFrom(r.Context()).IPAddress))
			}()
			next.ServeHTTP(sw, r)
		})
	}
}
