package http_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	accounthttp "github.com/accountd/accountd/internal/http"
)

// routeLabelOf returns the route= of the request's access-log line.
func routeLabelOf(t *testing.T, logs *logBuffer, requestID string) string {
	t.Helper()
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, " msg=request ") && strings.Contains(line, "request_id="+requestID+" ") {
			if m := regexp.MustCompile(` route=(\S+) `).FindStringSubmatch(line); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no access-log line with a route for request %s in:\n%s", requestID, logs.String())
	return ""
}

// Every route the router knows is labelled, in the access log and in the
// metrics, by a path of the OpenAPI document: the one that documents it.
// Paths that match no route are "unmatched", and a 405 is labelled by the
// route of its path.
func TestRouteLabelsAreOpenAPIPaths(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	obs := &requestLog{}
	logs := &logBuffer{}
	// No service: the handlers are not what is tested, only the labels,
	// which the middleware gives even to a handler that panics.
	h := accounthttp.NewHandler(accounthttp.Config{
		Logger: slog.New(slog.NewTextHandler(logs, nil)), MetricsHandler: http.NotFoundHandler(),
		RequestTimeout: time.Second, Metrics: obs,
	})
	type probe struct{ method, path, want string }
	var probes []probe
	err := chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		// A path that the route matches: parameters and wildcards
		// filled in.
		path := regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(route, "x")
		path = strings.Replace(path, "/*", "/x.js", 1)
		want := route
		if root, ok := strings.CutSuffix(route, "/*"); ok {
			want = root // the docs page's assets are part of /docs
		}
		probes = append(probes, probe{method, path, want})
		if route != "/" && strings.HasSuffix(route, "/") {
			// chi also routes the path without its trailing slash here.
			probes = append(probes, probe{method, strings.TrimSuffix(path, "/"), want})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk routes: %v", err)
	}
	if len(probes) < 15 {
		t.Fatalf("walked %d routes, want every route of the API", len(probes))
	}
	probes = append(probes,
		probe{http.MethodGet, "/nope", "unmatched"},
		probe{http.MethodGet, "/api/v1/accounts/nope", "unmatched"},
		probe{http.MethodGet, "/api/v1/accounts/me/", "unmatched"},
		probe{http.MethodGet, "/api/v1/accounts/token", "/api/v1/accounts/token"}, // 405
		probe{http.MethodGet, "/api/v1/accounts/", "/api/v1/accounts/"},           // 405
		probe{http.MethodPatch, "/api/v1/accounts/sessions/x", "/api/v1/accounts/sessions/{id}"},
	)
	for i, p := range probes {
		rid := "label-" + randomHex(6)
		req := httptest.NewRequestWithContext(t.Context(), p.method, p.path, nil)
		req.Header.Set("X-Request-ID", rid)
		h.ServeHTTP(httptest.NewRecorder(), req)

		logged := routeLabelOf(t, logs, rid)
		obs.mu.Lock()
		counted := obs.seen[i]
		obs.mu.Unlock()
		if logged != p.want || counted.route != p.want {
			t.Errorf("%s %s: access log route=%q, metrics route=%q, want %q", p.method, p.path, logged, counted.route, p.want)
		}
		if p.want != "unmatched" && doc.Paths.Value(p.want) == nil {
			t.Errorf("%s %s: label %q is not a path of openapi.yaml", p.method, p.path, p.want)
		}
	}
}

// The access log shows the path of every request, even one that matched no
// route, without its query string and bounded in length.
func TestAccessLogShowsPath(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	long := "/" + strings.Repeat("a", 5000)
	cases := []struct{ path, want string }{
		{"/api/v1/nope?token=query-secret&x=1", "/api/v1/nope"},
		{"/api/v1/accounts/exist/some%0Aid?password=query-secret", "/api/v1/accounts/exist/some%0Aid"},
		{long, long[:256] + "..."},
	}
	for _, c := range cases {
		rid := "path-" + randomHex(6)
		api.do(t, http.MethodGet, c.path, nil, header("X-Request-ID", rid))
		line := api.accessLine(t, rid)
		if !strings.Contains(line, " path="+c.want+" ") {
			t.Errorf("GET %.60s: access line %q, want path=%.60s", c.path, line, c.want)
		}
		if strings.Contains(line, "query-secret") {
			t.Errorf("GET %.60s: access line %q shows the query string", c.path, line)
		}
	}
}
