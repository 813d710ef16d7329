package http_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	accounthttp "github.com/accountd/accountd/internal/http"
)

// Every answer, refusals included, carries the headers that keep browsers
// from sniffing content types or leaking URLs in Referer.
func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withOrigins(appOrigin), withLimits(account.Limits{PerIP: account.PerWindow(1, time.Minute)}))
	id := api.newAccount(t, "headers")
	answers := map[string]response{
		"200":        api.do(t, http.MethodGet, "/", nil),
		"404":        api.do(t, http.MethodGet, "/nowhere", nil),
		"401":        api.do(t, http.MethodGet, accountsPath+"/me", nil),
		"403":        api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword), fromOrigin(evilOrigin, "cross-site")...),
		"preflight":  api.do(t, http.MethodOptions, tokenRoute, nil, preflight(appOrigin, http.MethodPost)...),
		"first 200":  api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword)),
		"second 429": api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword)),
	}
	for name, r := range answers {
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: X-Content-Type-Options %q, Referrer-Policy %q; want nosniff, no-referrer",
				name, r.Header.Get("X-Content-Type-Options"), r.Header.Get("Referrer-Policy"))
		}
		if r.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no X-Request-ID", name)
		}
	}
	for _, name := range []string{"first 200", "second 429"} {
		if cc := answers[name].Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s from /token: Cache-Control = %q, want no-store", name, cc)
		}
	}
	// About the minute of the limit; generous, for a busy machine.
	wantTooMany(t, "second login from one address", answers["second 429"], 30, 60)
}

// A slow client cannot hold a connection open: every server timeout is set.
func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	srv := accounthttp.NewServer(":0", http.NotFoundHandler(), 10*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= srv.ReadTimeout ||
		srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("server timeouts: header %v, read %v, write %v, idle %v, max header %d; want all set, write > read",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
}
