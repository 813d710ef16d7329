package http_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/app"
	accounthttp "github.com/accountd/accountd/internal/http"
	"github.com/accountd/accountd/internal/redis/redistest"
	"github.com/accountd/accountd/internal/security"
)

// guards are the abuse defences of an instance made by newGuardedAPI; the
// zero value turns them all off.
type guards struct {
	limits         account.Limits
	origins        []string // CORS_ALLOWED_ORIGINS
	hashSlots      int      // 0 for 2
	queueTimeout   time.Duration
	trustedProxies []string
	clientIPHeader accounthttp.ClientIPHeader // CLIENT_IP_HEADER
	reuseGrace     time.Duration
	redisAddr      string   // another Redis, e.g. a closed port
	shareWith      *testAPI // a second instance on the same backends
}

// newGuardedAPI starts an instance wired like cmd/accountd/serve.go, with
// the rate limiter on the test's Redis key prefix and the given guards.
func newGuardedAPI(t *testing.T, g guards) *testAPI {
	t.Helper()
	a := &testAPI{logs: &logBuffer{}}
	switch s := g.shareWith; {
	case s != nil:
		a.pool, a.key, a.prefix, a.clock, a.rdb = s.pool, s.key, s.prefix, s.clock, s.rdb
	default:
		a.key, a.clock, a.pool = []byte(randomHex(32)), &testClock{}, sharedPool(t)
		a.rdb, a.prefix = redistest.New(t)
	}
	if g.redisAddr != "" {
		a.rdb = goredis.NewClient(&goredis.Options{Addr: g.redisAddr, MaxRetries: -1})
		t.Cleanup(func() { _ = a.rdb.Close() })
	}
	slots := g.hashSlots
	if slots == 0 {
		slots = 2
	}
	var err error
	a.hasher, err = security.NewHasher(testBcryptCost, slots, security.WithQueueTimeout(g.queueTimeout))
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	jwt, err := security.NewJWT(security.JWTConfig{
		Algorithm: "HS256", Key: a.key, Issuer: testIssuer, TTL: accessTTL, Now: a.clock.Now,
	})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	var proxies []netip.Prefix
	for _, p := range g.trustedProxies {
		proxies = append(proxies, netip.MustParsePrefix(p))
	}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), a.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps := app.Deps{Pool: a.pool, Redis: a.rdb, KeyPrefix: a.prefix, Hasher: a.hasher, Tokens: jwt, Logger: log}
	in := startInstance(t, deps, account.Config{
		RefreshTTL: refreshTTL, ReuseGrace: g.reuseGrace, Now: a.clock.Now, Limits: g.limits,
	})
	a.handler = accounthttp.NewHandler(accounthttp.Config{
		Service: in.Service, Logger: log, Version: testVersion, TrustedProxies: proxies, ClientIPHeader: g.clientIPHeader,
		CORSAllowedOrigins: g.origins, RequestTimeout: requestTimeout,
		Cookies: accounthttp.CookieConfig{Secure: "auto", SameSite: http.SameSiteLaxMode},
		Health:  app.Checks(deps),
	})
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	a.URL, a.client = srv.URL, srv.Client()
	a.client.Timeout = 2 * requestTimeout
	return a
}

// wantTooMany fails unless r is a 429 too_many_attempts in the contract's
// shape whose Retry-After is a whole number of seconds from lo to hi.
func wantTooMany(t *testing.T, what string, r response, lo, hi int) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("%s: status = %d, want 429 (body %s)", what, r.Status, r.Body)
	}
	wantErrorBody(t, r, "too_many_attempts")
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < lo || ra > hi {
		t.Fatalf("%s: Retry-After = %q, want %d to %d seconds", what, r.Header.Get("Retry-After"), lo, hi)
	}
}

// wantUnavailable fails unless r is a 503 service_unavailable with a
// Retry-After.
func wantUnavailable(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("%s: status = %d, want 503 (body %s)", what, r.Status, r.Body)
	}
	wantErrorBody(t, r, "service_unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("%s: 503 without Retry-After", what)
	}
}

// redisKeys lists the keys under the instance's prefix that start with
// prefix+pattern (a SCAN pattern).
func (a *testAPI) redisKeys(t *testing.T, pattern string) []string {
	t.Helper()
	keys, err := a.rdb.Keys(context.Background(), a.prefix+pattern).Result()
	if err != nil {
		t.Fatalf("KEYS %s: %v", a.prefix+pattern, err)
	}
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, a.prefix)
	}
	return keys
}
