package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/metrics"
	"github.com/accountd/accountd/internal/postgres/pgtest"
	"github.com/accountd/accountd/internal/redis/redistest"
)

func TestObserverCounts(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m := metrics.New(reg, "v-test")
	m.Login(account.LoginOK)
	m.Login(account.LoginInvalidCredentials)
	m.Login(account.LoginInvalidCredentials)
	m.Refresh(account.RefreshRotated)
	m.SessionsRevoked(account.RevokePasswordChange, 3)
	m.SessionsRevoked(account.RevokeLogout, 0)
	m.HashWaited("compare", 2*time.Millisecond, true)
	m.HashWaited("compare", time.Second, false)
	m.HashRan("compare", 3*time.Millisecond)
	m.ObserveRequest("/api/v1/accounts/token", http.MethodPost, http.StatusTooManyRequests, time.Millisecond)
	m.ObserveRequest("unmatched", "BREW", http.StatusNotFound, time.Millisecond)

	want := `
# HELP accountd_logins_total Login attempts, by outcome.
# TYPE accountd_logins_total counter
accountd_logins_total{outcome="disabled"} 0
accountd_logins_total{outcome="error"} 0
accountd_logins_total{outcome="invalid_credentials"} 2
accountd_logins_total{outcome="mfa_required"} 0
accountd_logins_total{outcome="ok"} 1
accountd_logins_total{outcome="rate_limited"} 0
accountd_logins_total{outcome="unavailable"} 0
# HELP accountd_rate_limited_total Requests refused by a rate limit (429), by route pattern.
# TYPE accountd_rate_limited_total counter
accountd_rate_limited_total{route="/api/v1/accounts/token"} 1
# HELP accountd_bcrypt_queue_timeouts_total bcrypt operations that gave up waiting for a slot, by operation.
# TYPE accountd_bcrypt_queue_timeouts_total counter
accountd_bcrypt_queue_timeouts_total{op="compare"} 1
accountd_bcrypt_queue_timeouts_total{op="hash"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"accountd_logins_total", "accountd_rate_limited_total", "accountd_bcrypt_queue_timeouts_total"); err != nil {
		t.Error(err)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"accountd_token_refreshes_total", []string{"rotated"}, 1},
		{"accountd_token_refreshes_total", []string{"ok"}, 0},
		{"accountd_sessions_revoked_total", []string{"password_change"}, 3},
		{"accountd_sessions_revoked_total", []string{"logout"}, 0},
	} {
		if got := gatheredValue(t, reg, c.name, c.labels[0]); got != c.want {
			t.Errorf("%s{%s} = %v, want %v", c.name, c.labels[0], got, c.want)
		}
	}
	// A method the service does not know gets no series of its own.
	if n := testutil.CollectAndCount(reg, "accountd_http_request_duration_seconds"); n != 2 {
		t.Errorf("request duration series = %d, want 2", n)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "method" && l.GetValue() == "BREW" {
					t.Errorf("%s has a series for method BREW, want OTHER", f.GetName())
				}
			}
		}
	}
}

// gatheredValue returns the counter value of the series of name whose only
// label has value.
func gatheredValue(t *testing.T, g prometheus.Gatherer, name, value string) float64 {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == value {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s{%q}", name, value)
	return 0
}

func TestPoolCollector(t *testing.T) {
	t.Parallel()
	_, pool := pgtest.NewDatabase(t)
	rdb, _ := redistest.New(t)
	if err := rdb.Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewPoolCollector(pool, rdb))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP accountd_pgx_pool_max_conns Most connections the pool opens.
# TYPE accountd_pgx_pool_max_conns gauge
accountd_pgx_pool_max_conns 16
`), "accountd_pgx_pool_max_conns"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg); n != 20 {
		t.Errorf("pool series = %d, want 20 (11 pgx, 9 redis)", n)
	}
	// Either pool may be missing.
	empty := prometheus.NewPedanticRegistry()
	empty.MustRegister(metrics.NewPoolCollector(nil, nil))
	if n := testutil.CollectAndCount(empty); n != 0 {
		t.Errorf("series without pools = %d, want 0", n)
	}
}

func TestHandlerServesTextFormat(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics.New(reg, "v-test")
	rec := httptest.NewRecorder()
	metrics.Handler(reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %q, want 200 text/plain", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(rec.Body.String(), `accountd_build_info{version="v-test"} 1`) {
		t.Errorf("/metrics has no build_info line:\n%s", rec.Body.String())
	}
}
