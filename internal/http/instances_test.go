package http_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TestTwoInstances runs two instances on the same PostgreSQL, Redis prefix
// and signing key, as behind a load balancer.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	b := newTestAPI(t, sharingBackendsWith(a))
	id := a.newAccount(t, "Twin")

	t.Run("logout on A revokes on B", func(t *testing.T) {
		l := a.login(t, id, testPassword)
		b.wantAccess(t, "token from A on B before logout", l.access, http.StatusOK, "")
		wantStatus(t, a.do(t, http.MethodDelete, logoutPath, nil, bearer(l.access)), http.StatusOK, "")
		b.wantAccessSoon(t, "token from A on B after logout on A", l.access, http.StatusUnauthorized, "token_revoked")
		b.wantRefresh(t, "refresh token from A on B after logout on A", l.refresh, http.StatusUnauthorized, "invalid_token")
	})

	t.Run("refresh on B within grace of a rotation on A", func(t *testing.T) {
		l := a.login(t, id, testPassword)
		onA := tokensOf(t, a.wantRefresh(t, "rotation on A", l.refresh, http.StatusOK, ""))
		onB := tokensOf(t, b.wantRefresh(t, "same token on B", l.refresh, http.StatusOK, ""))
		if onB.refresh != onA.refresh {
			t.Fatalf("B gave refresh token %q, want the child A issued, %q", onB.refresh, onA.refresh)
		}
		if n := a.countRefreshTokens(t, l.sessionID); n != 2 {
			t.Fatalf("session has %d refresh tokens, want 2", n)
		}
		a.wantAccess(t, "access token from B on A", onB.access, http.StatusOK, "")
	})

	t.Run("password change on B revokes on A", func(t *testing.T) {
		other := newAccountID("TwinPw")
		a.register(t, other, testPassword)
		caller, victim := b.login(t, other, testPassword), a.login(t, other, testPassword)
		r := b.do(t, http.MethodPut, accountsPath+"/password", map[string]string{"old_password": testPassword, "new_password": "changed-on-B-1"},
			bearer(caller.access))
		wantStatus(t, r, http.StatusOK, "")
		a.wantAccessSoon(t, "other session on A", victim.access, http.StatusUnauthorized, "token_revoked")
		a.wantAccess(t, "caller's session on A", caller.access, http.StatusOK, "")
	})
}

// wantAccessSoon is wantAccess for a revocation made on another instance:
// it reaches this one through Redis, within moments, so /me is asked again
// until it answers status (for at most 10s, for a busy machine).
func (a *testAPI) wantAccessSoon(t *testing.T, what, access string, status int, code string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r := a.me(t, access); r.Status == status && (code == "" || r.code() == code) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.wantAccess(t, what, access, status, code)
}

// want503 fails unless r is the contract's answer to a dependency outage.
func want503(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("%s: status = %d, want 503 (body %s)", what, r.Status, r.Body)
	}
	wantErrorBody(t, r, "service_unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("%s: 503 without Retry-After", what)
	}
}

// timed runs f and fails if it takes longer than the request timeout.
func timed(t *testing.T, what string, f func() response) response {
	t.Helper()
	start := time.Now()
	r := f()
	if d := time.Since(start); d > requestTimeout {
		t.Fatalf("%s took %v, want an answer within the request timeout %v", what, d, requestTimeout)
	}
	return r
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	up := newTestAPI(t)
	down := newTestAPI(t, sharingBackendsWith(up), withRedisAddr(closedAddr(t)))
	id := up.newAccount(t, "NoRedis")
	l := up.login(t, id, testPassword)

	// go-redis retries a refused connection with backoff, as in production,
	// so each answer takes a while: the requests go out at once.
	calls := []struct {
		name, method, path string
		body               any
	}{
		{"me", http.MethodGet, accountsPath + "/me", nil},
		{"sessions", http.MethodGet, accountsPath + "/sessions", nil},
		{"verify_password", http.MethodPost, accountsPath + "/verify_password", map[string]string{"password": testPassword}},
		{"logout", http.MethodDelete, logoutPath, nil},
		{"health", http.MethodGet, "/health", nil},
	}
	answers := make([]response, len(calls))
	took := make([]time.Duration, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			start := time.Now()
			answers[i] = down.do(t, c.method, c.path, c.body, bearer(l.access))
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i, c := range calls {
		if took[i] > requestTimeout {
			t.Fatalf("%s took %v, want an answer within the request timeout %v", c.name, took[i], requestTimeout)
		}
		if c.name == "logout" {
			// A local logout needs only PostgreSQL: the session ends.
			wantStatus(t, answers[i], http.StatusOK, "")
			continue
		}
		if c.name != "health" {
			want503(t, c.name+" with a valid token and Redis down", answers[i])
			continue
		}
		r := answers[i]
		wantStatus(t, r, http.StatusServiceUnavailable, "")
		if got := strings.TrimSpace(string(r.Body)); got != `{"status":"unavailable","checks":{"postgres":"ok","redis":"unavailable"}}` {
			t.Fatalf("health body = %s, want status unavailable naming redis", got)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("health 503 without Retry-After")
		}
	}
	wantStatus(t, down.do(t, http.MethodGet, "/livez", nil), http.StatusOK, "")
	// The logout made with Redis down holds on the instance that has Redis
	// (its view polls PostgreSQL for it).
	up.wantAccessSoon(t, "access token after a logout made with Redis down", l.access, http.StatusUnauthorized, "token_revoked")
	up.wantRefresh(t, "refresh token after a logout made with Redis down", l.refresh, http.StatusUnauthorized, "invalid_token")
}

// TestLogoutOthersNeedsACheckedToken shows that while revocation cannot be
// checked, an access token alone cannot end the account's other sessions:
// it might be one that was revoked.
func TestLogoutOthersNeedsACheckedToken(t *testing.T) {
	t.Parallel()
	up := newTestAPI(t)
	down := newTestAPI(t, sharingBackendsWith(up), withRedisAddr(closedAddr(t)))
	id := up.newAccount(t, "NoRedisGlobal")
	l := up.login(t, id, testPassword)
	other := up.login(t, id, testPassword)
	want503(t, "global logout with only an access token and Redis down",
		down.do(t, http.MethodDelete, logoutPath+"?scope=global", nil, bearer(l.access)))
	up.wantSessionAlive(t, "other session after the refused global logout", other)
}

func TestPostgresDown(t *testing.T) {
	t.Parallel()
	up := newTestAPI(t)
	pool, err := pgxpool.New(context.Background(), fmt.Sprintf("postgres://postgres@%s/accountd?sslmode=disable&connect_timeout=2", closedAddr(t)))
	if err != nil {
		t.Fatalf("pool on a closed port: %v", err)
	}
	t.Cleanup(pool.Close)
	down := newTestAPI(t, sharingBackendsWith(up), withPool(pool))
	id := up.newAccount(t, "NoPostgres")
	l := up.login(t, id, testPassword)

	for _, c := range []struct {
		name, method, path string
		body               any
		opts               []reqOpt
	}{
		{"register", http.MethodPost, accountsPath + "/", map[string]string{"account_id": newAccountID("new"), "password": testPassword}, nil},
		{"token", http.MethodPost, accountsPath + "/token", loginForm(id, testPassword), nil},
		{"refresh", http.MethodPost, accountsPath + "/refresh", nil, []reqOpt{refreshCookie(l.refresh)}},
		{"exist", http.MethodGet, accountsPath + "/exist/" + id, nil, nil},
		{"me", http.MethodGet, accountsPath + "/me", nil, []reqOpt{bearer(l.access)}},
		{"sessions", http.MethodGet, accountsPath + "/sessions", nil, []reqOpt{bearer(l.access)}},
	} {
		r := timed(t, c.name, func() response { return down.do(t, c.method, c.path, c.body, c.opts...) })
		want503(t, c.name+" with PostgreSQL down", r)
		wantNoSecret(t, c.name+" answer", r.Body, testPassword)
	}
	r := timed(t, "health", func() response { return down.do(t, http.MethodGet, "/health", nil) })
	wantStatus(t, r, http.StatusServiceUnavailable, "")
	if got := strings.TrimSpace(string(r.Body)); got != `{"status":"unavailable","checks":{"postgres":"unavailable","redis":"ok"}}` {
		t.Fatalf("health body = %s, want status unavailable naming postgres", got)
	}
	// The refresh that failed used nothing up.
	up.wantSessionAlive(t, "session after the failed refresh", l)
}
