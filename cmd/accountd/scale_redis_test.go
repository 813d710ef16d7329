//go:build scale

package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/enginetest"
)

// The Redis failover tests run two accountd instances on a Sentinel or
// Cluster deployment under load, crash the primary that carries the
// revocation feed, and hold every response to the fault tests' contract:
// a 2xx, or a 503 service_unavailable while the feed is down; never a 500.
// Service returns by itself within a few seconds of the promotion, and no
// revocation is lost, whether it was made before the crash, during it
// through the API, or in PostgreSQL alone.

// failoverRecovery bounds how long after the promotion the instances may
// take to accept tokens and report healthy again: generous, for a loaded
// machine; the log shows what it took.
const failoverRecovery = 15 * time.Second

// TestSentinelFailover kills the Sentinel-monitored primary; a sentinel
// promotes the replica.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	s := enginetest.StartSentinel(t)
	url := "redis+sentinel://" + strings.Join(s.Addrs(), ",") + "/" + enginetest.SentinelMaster
	checkRedisFailover(t, url, func(string) func() {
		old := s.KillPrimary()
		return func() { s.WaitPromoted(old, 30*time.Second) }
	})
}

// TestClusterFailover kills the Cluster primary that serves the revocation
// channel's slot; its replica takes over.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	c := enginetest.StartCluster(t)
	url := "redis+cluster://" + strings.Join(c.Addrs(), ",")
	checkRedisFailover(t, url, func(channel string) func() {
		old := c.PrimaryOf(channel)
		old.Kill()
		return func() { c.WaitPromoted(old, channel, 30*time.Second) }
	})
}

// checkRedisFailover runs the scenario on the deployment that redisURL
// names; crash kills the primary of the revocation channel and returns a
// func that waits for the promotion.
func checkRedisFailover(t *testing.T, redisURL string, crash func(channel string) (waitPromoted func())) {
	env := faultEnv(t, "REDIS_URL="+redisURL)
	dbURL := envValue(env, "DATABASE_URL")
	a, b := start(t, env), start(t, env)
	users := newLoadUsers(t, a.URL, 6)
	live := loginAgain(t, a.URL, users[0])
	revokedBefore, revokedDuring, revokedInDB := loginAgain(t, b.URL, users[1]),
		loginAgain(t, a.URL, users[2]), loginAgain(t, a.URL, users[3])
	o, _ := probeRequest(opLogout, http.MethodDelete, b.URL+"/api/v1/accounts/logout",
		"Authorization", "Bearer "+revokedBefore.access)
	wantStatus(t, "logout on B before the failover", o.status, http.StatusOK, nil)

	rec := newOutcomeLog()
	ldA, ldB := startLoad(a.URL, faultLoad(users[:3], rec)), startLoad(b.URL, faultLoad(users[3:], rec))
	t.Cleanup(ldA.Stop)
	t.Cleanup(ldB.Stop)
	warmUp(t, rec, 50)

	faultFrom := time.Now()
	waitPromoted := crash(envValue(env, "REDIS_KEY_PREFIX") + "revocations")
	// During the failover: a logout on B by refresh token (PostgreSQL
	// records it; its announcement waits for Redis), and a revocation that
	// only PostgreSQL knows.
	if o, _ := probeRequest(opLogout, http.MethodDelete, b.URL+"/api/v1/accounts/logout",
		"Cookie", "refresh_token="+revokedDuring.refresh); o.status != http.StatusOK {
		t.Errorf("logout by refresh token during the failover: %s, want 200", o)
	}
	revokeInDB(t, dbURL, revokedInDB.refresh)
	waitPromoted()
	promoted := time.Now()
	t.Logf("replica promoted %v after the crash", promoted.Sub(faultFrom).Round(time.Millisecond))

	for name, in := range map[string]*instance{"A": a, "B": b} {
		took, ok := pollUntil(failoverRecovery, func() bool {
			h, _ := healthChecks(in.URL)
			return probeMe(in.URL, live.access).status == http.StatusOK && h.status == http.StatusOK
		})
		if !ok {
			h, checks := healthChecks(in.URL)
			t.Fatalf("instance %s: tokens (%s) and /health (%s %v) not back %v after the promotion\n%s", name, probeMe(in.URL, live.access), h, checks, took, tail(in.Logs.String(), 3000))
		}
		t.Logf("instance %s: tokens accepted and /health ok %v after the promotion", name, took.Round(time.Millisecond))
	}
	recovered := time.Now()
	if o := loginProbe(a.URL, users[4]); o.status != http.StatusOK {
		t.Errorf("login after the failover: %s, want 200", o)
	}
	for what, u := range map[string]*loadUser{
		"revoked before the failover": revokedBefore, "logged out during the failover": revokedDuring,
		"revoked in PostgreSQL alone during the failover": revokedInDB,
	} {
		for name, in := range map[string]*instance{"A": a, "B": b} {
			if o := probeMe(in.URL, u.access); o.status != http.StatusUnauthorized || o.code != "token_revoked" {
				t.Errorf("instance %s: /me with a token %s: %s, want 401 token_revoked", name, what, o)
			}
		}
	}
	// After the failover, a logout on one instance is refused on the other
	// within a second.
	fresh := loginAgain(t, a.URL, users[5])
	if o, _ := probeRequest(opLogout, http.MethodDelete, a.URL+"/api/v1/accounts/logout",
		"Authorization", "Bearer "+fresh.access); o.status != http.StatusOK {
		t.Fatalf("logout on A after the failover: %s, want 200", o)
	}
	if took, ok := pollUntil(time.Second, func() bool { return probeMe(b.URL, fresh.access).status == http.StatusUnauthorized }); !ok {
		t.Errorf("a logout on A after the failover still accepted on B %v later", took)
	}

	time.Sleep(settle + time.Second) // the load runs on, healthy
	ldA.Stop()
	ldB.Stop()
	checkLoad(t, rec, faultTimeout, faultFrom, recovered.Add(settle))
	checkUsersLive(t, a.URL, users)
	checkRotations(t, dbURL)
	checkLogClean(t, a)
	checkLogClean(t, b)
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
