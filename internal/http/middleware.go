package http

import (
	"context"
	"net/http"
	"sync"

	"github.com/accountd/accountd/internal/account"
)

// infoKey keys the request's *requestInfo in its context.
type infoKey struct{}

// requestInfo is what the middleware learns about a request. It is put in
// the request's context once, by withRequest, and filled in as the request
// goes down the chain, so that no middleware copies the request to add a
// value.
type requestInfo struct {
	id        string
	principal account.Principal
	route     string // set by routeLabels.of, or by methodNotAllowed

	// The client is worked out on first use (most requests never ask):
	// from request, by clients.
	request    *http.Request
	clients    clientSource
	clientOnce sync.Once
	client     account.Client
}

// clientInfo returns who sent the request: its address (or alias), its
// User-Agent and the request id.
func (ri *requestInfo) clientInfo() account.Client {
	ri.clientOnce.Do(func() {
		if ri.request != nil {
			ri.client = ri.clients.client(ri.request)
		}
		ri.client.RequestID = ri.id
	})
	return ri.client
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
