package http_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/app"
	accounthttp "github.com/accountd/accountd/internal/http"
	"github.com/accountd/accountd/internal/metrics"
	"github.com/accountd/accountd/internal/postgres/pgtest"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/redis/redistest"
	"github.com/accountd/accountd/internal/security"
)

// benchAPI is the production wiring (JSON access log at info, metrics on)
// on real PostgreSQL and Redis, with one logged-in account.
type benchAPI struct {
	handler http.Handler
	svc     *account.Service
	tokens  *security.JWT
	view    *redis.RevocationView
	access  string
}

func newBenchAPI(b *testing.B) *benchAPI {
	b.Helper()
	_, pool := pgtest.NewDatabase(b)
	rdb, prefix := redistest.New(b)
	log := slog.New(accounthttp.LogHandler(slog.NewJSONHandler(io.Discard, nil)))
	hasher, err := security.NewHasher(4, 2)
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := security.NewJWT(security.JWTConfig{Algorithm: "HS256", Key: []byte(strings.Repeat("k", 48)),
		Issuer: "accountd", TTL: 30 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	met := metrics.New(prometheus.NewRegistry(), "bench")
	in := startInstance(b, app.Deps{Pool: pool, Redis: rdb, KeyPrefix: prefix, Hasher: hasher, Tokens: tokens, Logger: log},
		account.Config{RefreshTTL: 7 * 24 * time.Hour, ReuseGrace: 10 * time.Second, Observer: met})
	if err := in.View.Ready(context.Background()); err != nil {
		b.Fatal(err)
	}
	svc, view := in.Service, in.View
	h := accounthttp.NewHandler(accounthttp.Config{
		Service: svc, Logger: log, RequestTimeout: 10 * time.Second, Version: "bench", Metrics: met,
		Cookies: accounthttp.CookieConfig{Secure: "auto", SameSite: http.SameSiteLaxMode},
	})
	ctx := context.Background()
	if _, err := svc.Register(ctx, "bench.user", "securepass123", account.Client{IPAddress: "127.0.0.1"}); err != nil {
		b.Fatal(err)
	}
	t, err := svc.Login(ctx, "bench.user", "securepass123", account.Client{IPAddress: "127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	return &benchAPI{handler: h, svc: svc, tokens: tokens, view: view, access: t.AccessToken}
}

// BenchmarkMe serves GET /me through the whole router, middleware and all,
// in parallel, as the server would.
func BenchmarkMe(b *testing.B) {
	api := newBenchAPI(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/accounts/me", nil)
		req.Header.Set("Authorization", "Bearer "+api.access)
		for pb.Next() {
			w := httptest.NewRecorder()
			api.handler.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("GET /me = %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkAuthenticate is the auth middleware's work: verify the JWT and
// check its session's revocation.
func BenchmarkAuthenticate(b *testing.B) {
	api := newBenchAPI(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := api.svc.Authenticate(ctx, api.access); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyJWT is the signature and claims check alone.
func BenchmarkVerifyJWT(b *testing.B) {
	api := newBenchAPI(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := api.tokens.Verify(api.access); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionRevoked is the revocation lookup alone.
func BenchmarkSessionRevoked(b *testing.B) {
	api := newBenchAPI(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if revoked, err := api.view.SessionRevoked(ctx, "0f8fad5b-d9cb-469f-a165-70867728950e"); err != nil || revoked {
			b.Fatal(revoked, err)
		}
	}
}
