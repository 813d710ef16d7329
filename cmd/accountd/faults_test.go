package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/internal/faultproxy"
	"github.com/accountd/accountd/internal/redis/redistest"
	"github.com/accountd/accountd/internal/security"
)

// The fault tests run accountd in-process under a small load of logins,
// refreshes, /me and logouts while a dependency fails, and hold every
// response to the contract: a 2xx, or a 503 service_unavailable with
// Retry-After while the fault lasts, always within REQUEST_TIMEOUT; never a
// 500, never a hang. Afterwards every token the users hold still works and
// PostgreSQL holds no half-done rotation. Redis faults use a private
// redis-server; PostgreSQL faults put toxiproxy between accountd and the
// machine's PostgreSQL. Neither shared server is ever stopped.

// faultTimeout is REQUEST_TIMEOUT in the fault tests. It is generous: a
// login's bcrypt runs on low-priority threads, one at a time in the test
// process, and on a loaded machine (with -race) each takes up to a second;
// with 2s, logins queued outside the faults timed out into 503s.
const faultTimeout = 8 * time.Second

// slowLatency is what the slow-dependency tests add to every answer of the
// dependency: longer than any answer the contract allows, so that a request
// that waited for the dependency instead of timing out shows as a hang.
const slowLatency = faultTimeout + hangSlack + 2*time.Second

// settle is how long after the service answers again the fault tests still
// accept a 503: requests that were already waiting on the broken
// dependency, and pool connections found dead on their next use.
const settle = time.Second

// faultEnv is the environment of a fault test: REQUEST_TIMEOUT, which a
// login also waits for a hash slot (BCRYPT_QUEUE_TIMEOUT=0s), and a per-IP
// rate limit (still kept in Redis) high enough for a load that comes from
// one address.
func faultEnv(t *testing.T, extra ...string) []string {
	// A client whose refresh got a 503 retries with the same token; the
	// grace must outlast the slowest fault's answer for the retry to get
	// the child a committed rotation made.
	return append(append(baseEnv(t), "REQUEST_TIMEOUT="+faultTimeout.String(), "BCRYPT_QUEUE_TIMEOUT=0s",
		"REFRESH_REUSE_GRACE="+(3*slowLatency).String(), "RATE_LIMIT_IP_REQUESTS=1000000", "LOG_LEVEL=info"), extra...)
}

// faultLoad is the load of a fault test: users that keep each other busy
// for at most two minutes (the test stops it sooner).
func faultLoad(users []*loadUser, rec *outcomeLog) loadOptions {
	return loadOptions{users: users, think: 10 * time.Millisecond, maxRequests: 5000, maxDuration: 2 * time.Minute,
		refreshPct: 30, logoutPct: 8, loginPct: 4, record: rec.add}
}

// envValue returns the last value env gives key.
func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// loginAgain logs in once more as the user and returns the new session's tokens.
func loginAgain(t *testing.T, base string, u *loadUser) *loadUser {
	t.Helper()
	c := newClient(t)
	st, body, _ := c.do(http.MethodPost, base+"/api/v1/accounts/token", formType, loginBody(u.id, u.password))
	wantStatus(t, "login "+u.id, st, http.StatusOK, body)
	access, _ := body["access_token"].(string)
	return &loadUser{id: u.id, password: u.password, access: access, refresh: c.cookie(base, "refresh_token")}
}

// warmUp waits until the load has had n answers.
func warmUp(t *testing.T, rec *outcomeLog, n int) {
	t.Helper()
	if _, ok := pollUntil(10*time.Second, func() bool { return rec.tally.count(func(int) bool { return true }) >= n }); !ok {
		t.Fatalf("the load did not make %d requests within 10s", n)
	}
}

// holdFault lets the load run under the fault until it has had n more 503s
// and at least d has passed.
func holdFault(t *testing.T, rec *outcomeLog, n int, d time.Duration) {
	t.Helper()
	is503 := func(st int) bool { return st == http.StatusServiceUnavailable }
	want := rec.tally.count(is503) + n
	start := time.Now()
	// Generous: under a slow dependency each 503 takes REQUEST_TIMEOUT.
	if _, ok := pollUntil(60*time.Second, func() bool { return rec.tally.count(is503) >= want && time.Since(start) >= d }); !ok {
		t.Errorf("the load got fewer than %d 503s during the fault", n)
	}
}

// want503 fails the test unless o is a 503 service_unavailable with
// Retry-After, answered within REQUEST_TIMEOUT.
func want503(t *testing.T, what string, o outcome) {
	t.Helper()
	if o.status != http.StatusServiceUnavailable || o.code != "service_unavailable" || o.retryAfter == "" ||
		o.took() > faultTimeout+hangSlack {
		t.Errorf("%s: %s; want 503 service_unavailable with Retry-After within %v", what, o, faultTimeout)
	}
}

// wantHealth fails the test unless /health answers status with checks.
func wantHealth(t *testing.T, what, base string, status int, checks map[string]string) {
	t.Helper()
	o, got := healthChecks(base)
	if o.status != status || o.took() > faultTimeout+hangSlack {
		t.Errorf("%s: /health %s, want %d within %v", what, o, status, faultTimeout)
	}
	for name, want := range checks {
		if got[name] != want {
			t.Errorf("%s: /health checks = %v, want %s %s", what, got, name, want)
		}
	}
}

// TestRedisOutage stops the Redis that accountd uses while the load runs,
// and starts it again empty. Meanwhile every token check fails closed (503
// within the request timeout), /health names Redis, and afterwards the
// service recovers by itself; revocations made before and during the outage
// hold after it, rebuilt from PostgreSQL.
func TestRedisOutage(t *testing.T) {
	rs := redistest.StartServer(t)
	env := faultEnv(t, "REDIS_URL="+rs.URL())
	dbURL := envValue(env, "DATABASE_URL")
	in := start(t, env)
	users := newLoadUsers(t, in.URL, 6)
	live := loginAgain(t, in.URL, users[0])
	revokedBefore, revokedDuring, revokedInDB := loginAgain(t, in.URL, users[1]), loginAgain(t, in.URL, users[2]), loginAgain(t, in.URL, users[3])

	o, _ := probeRequest(opLogout, http.MethodDelete, in.URL+"/api/v1/accounts/logout", "Authorization", "Bearer "+revokedBefore.access)
	wantStatus(t, "logout before the outage", o.status, http.StatusOK, nil)
	if o := probeMe(in.URL, revokedBefore.access); o.code != "token_revoked" {
		t.Fatalf("/me with a token revoked before the outage: %s, want 401 token_revoked", o)
	}

	rec := newOutcomeLog()
	ld := startLoad(in.URL, faultLoad(users, rec))
	t.Cleanup(ld.Stop)
	warmUp(t, rec, 50)

	faultFrom := time.Now()
	rs.Stop()
	// The revocation feed falls silent: within about a second, tokens get
	// 503 rather than a check against a view that may be stale (the test
	// allows 10s, for a busy machine).
	took, ok := pollUntil(10*time.Second, func() bool { return probeMe(in.URL, live.access).status == http.StatusServiceUnavailable })
	if !ok {
		t.Fatalf("/me still answers without Redis %v after it stopped", took)
	}
	t.Logf("tokens refused (fail closed) %v after Redis stopped", took.Round(time.Millisecond))
	failedClosed := time.Now()
	want503(t, "/me without Redis", probeMe(in.URL, live.access))
	wantHealth(t, "Redis down", in.URL, http.StatusServiceUnavailable, map[string]string{"redis": "unavailable", "postgres": "ok"})

	// A logout by refresh token alone needs no token check: PostgreSQL
	// records it, and its announcement waits for Redis.
	o, _ = probeRequest(opLogout, http.MethodDelete, in.URL+"/api/v1/accounts/logout", "Cookie", "refresh_token="+revokedDuring.refresh)
	if o.status != http.StatusOK {
		t.Errorf("logout by refresh token while Redis is down: %s, want 200", o)
	}
	// Another instance revokes a session and dies before it could announce
	// it: only PostgreSQL knows.
	revokeInDB(t, dbURL, revokedInDB.refresh)
	holdFault(t, rec, 20, 2*time.Second)

	restarted := time.Now()
	rs.Start() // empty: no key, no subscriber, nothing to replay
	// Tokens work again once the revocation feed is back and the view
	// rebuilt; logins once the client's pool dials Redis again (go-redis
	// probes a server that refused too many dials once a second).
	tokensBack, ok := pollUntil(10*time.Second, func() bool { return probeMe(in.URL, live.access).status == http.StatusOK })
	if !ok {
		t.Fatalf("/me did not recover within %v of Redis coming back", tokensBack)
	}
	took, ok = pollUntil(10*time.Second, func() bool { o, _ := healthChecks(in.URL); return o.status == http.StatusOK })
	if !ok {
		t.Fatalf("/health did not recover within %v of Redis coming back", took)
	}
	recovered := time.Now()
	took = recovered.Sub(restarted)
	t.Logf("after Redis came back (outage %v): tokens accepted again in %v, /health ok in %v",
		restarted.Sub(faultFrom).Round(time.Millisecond), tokensBack.Round(time.Millisecond), took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("recovery took %v, want a few seconds (at most 10s on a busy machine)", took)
	}
	if o := loginProbe(in.URL, users[4]); o.status != http.StatusOK {
		t.Errorf("login after Redis came back: %s, want 200", o)
	}
	for what, u := range map[string]*loadUser{
		"revoked before the outage": revokedBefore, "logged out during the outage": revokedDuring,
		"revoked in PostgreSQL alone during the outage": revokedInDB,
	} {
		if o := probeMe(in.URL, u.access); o.status != http.StatusUnauthorized || o.code != "token_revoked" {
			t.Errorf("/me with a token %s, after Redis came back empty: %s, want 401 token_revoked", what, o)
		}
	}

	time.Sleep(settle + 1500*time.Millisecond) // the load runs on, healthy
	ld.Stop()
	outs := checkLoad(t, rec, faultTimeout, faultFrom, recovered.Add(settle))
	// Failing closed: no token was accepted while the feed was down.
	if n := countWhere(outs, func(o outcome) bool {
		return o.op == opMe && o.status == http.StatusOK && o.start.After(failedClosed) && o.end.Before(restarted)
	}); n > 0 {
		t.Errorf("%d /me requests got 200 while Redis was down, want 503", n)
	}
	if n := countWhere(outs, func(o outcome) bool { return o.status == http.StatusServiceUnavailable }); n == 0 {
		t.Error("the load got no 503 while Redis was down")
	}
	checkUsersLive(t, in.URL, users)
	checkRotations(t, dbURL)
	checkLogClean(t, in)
}

// revokeInDB revokes the session of a refresh token in PostgreSQL alone.
func revokeInDB(t *testing.T, dbURL, refresh string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	tag, err := conn.Exec(ctx, `
WITH s AS (
    UPDATE sessions SET revoked_at = now()
    WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1) RETURNING id)
UPDATE refresh_tokens SET revoked_at = now() WHERE session_id IN (SELECT id FROM s)`, security.HashToken(refresh))
	if err != nil || tag.RowsAffected() == 0 {
		t.Fatalf("revoke a session in PostgreSQL: %v (%d tokens)", err, tag.RowsAffected())
	}
}

// TestRedisSlow delays every answer of Redis by more than REQUEST_TIMEOUT
// while the load runs: token checks fail closed once the revocation feed
// falls silent, rate-limited endpoints get 503 at the request deadline
// rather than waiting for Redis, /health names Redis within its own
// deadline, and once the latency is gone everything works again.
func TestRedisSlow(t *testing.T) {
	rs := redistest.StartServer(t)
	u, err := url.Parse(rs.URL())
	if err != nil {
		t.Fatalf("parse redis url: %v", err)
	}
	px := faultproxy.Start(t, u.Host)
	env := faultEnv(t, "REDIS_URL=redis://"+px.Addr()+"/0")
	in := start(t, env)
	users := newLoadUsers(t, in.URL, 6)
	live := loginAgain(t, in.URL, users[0])
	rec := newOutcomeLog()
	ld := startLoad(in.URL, faultLoad(users, rec))
	t.Cleanup(ld.Stop)
	warmUp(t, rec, 50)

	faultFrom := time.Now()
	px.AddLatency("slow", slowLatency)
	took, ok := pollUntil(10*time.Second, func() bool { return probeMe(in.URL, live.access).status == http.StatusServiceUnavailable })
	if !ok {
		t.Fatalf("/me still answers %v after Redis turned slow", took)
	}
	t.Logf("tokens refused (fail closed) %v after Redis turned slow", took.Round(time.Millisecond))
	want503(t, "/me with Redis slow", probeMe(in.URL, live.access))
	want503(t, "login with Redis slow", loginProbe(in.URL, users[1]))
	wantHealth(t, "Redis slow", in.URL, http.StatusServiceUnavailable, map[string]string{"redis": "unavailable", "postgres": "ok"})
	holdFault(t, rec, 10, 3*time.Second)

	px.RemoveToxic("slow")
	took, ok = pollUntil(15*time.Second, func() bool {
		o, _ := healthChecks(in.URL)
		return o.status == http.StatusOK && probeMe(in.URL, live.access).status == http.StatusOK
	})
	if !ok {
		t.Fatalf("accountd did not recover within %v of the latency going", took)
	}
	recovered := time.Now()
	t.Logf("recovered %v after the latency went", took.Round(time.Millisecond))

	time.Sleep(settle + 1500*time.Millisecond)
	ld.Stop()
	checkLoad(t, rec, faultTimeout, faultFrom, recovered.Add(settle))
	checkUsersLive(t, in.URL, users)
	checkRotations(t, envValue(env, "DATABASE_URL"))
	checkLogClean(t, in)
}
