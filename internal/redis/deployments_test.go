package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/enginetest"
	"github.com/accountd/accountd/internal/redis"
)

// sentinelURL and clusterURL are the REDIS_URL forms of the private
// deployments.
func sentinelURL(s *enginetest.Sentinel) string {
	return "redis+sentinel://" + strings.Join(s.Addrs(), ",") + "/" + enginetest.SentinelMaster
}

func clusterURL(c *enginetest.Cluster) string {
	return "redis+cluster://" + strings.Join(c.Addrs(), ",")
}

// open opens url as accountd does, closed when the test ends.
func open(t *testing.T, url string) goredis.UniversalClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := redis.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestSentinelDeployment runs the revocation feed, the rate limiter and the
// health ping through Sentinel (one primary, one replica, three sentinels).
func TestSentinelDeployment(t *testing.T) {
	t.Parallel()
	s := enginetest.StartSentinel(t)
	checkDeployment(t, sentinelURL(s))
}

// TestClusterDeployment does the same on a Redis Cluster of three primaries.
func TestClusterDeployment(t *testing.T) {
	t.Parallel()
	c := enginetest.StartCluster(t)
	checkDeployment(t, clusterURL(c))
}

// checkDeployment checks, on the deployment that url names, that two
// instances (each with its own client) share revocations within a second
// and rate limits, and that the health ping answers.
func checkDeployment(t *testing.T, url string) {
	ctx := context.Background()
	a, b := open(t, url), open(t, url)
	if err := redis.Ping(ctx, a); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	prefix := "deploy:"
	rec := &record{}
	rec.add("before")
	va, vb := startView(t, a, prefix, rec), startView(t, b, prefix, rec)
	if r, err := revoked(vb, "before"); err != nil || !r {
		t.Fatalf("revocation made before start: %v, %v; want true", r, err)
	}
	rec.add("s1")
	if err := va.RevokeSessions(ctx, []string{"s1"}, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("RevokeSessions: %v", err)
	}
	if !eventually(time.Second, func() bool { r, _ := revoked(vb, "s1"); return r }) {
		t.Fatal("the other instance did not hear the revocation within one second")
	}
	time.Sleep(1500 * time.Millisecond) // an idle feed stays fresh on its pings
	if r, err := revoked(vb, "never"); err != nil || r {
		t.Fatalf("idle feed: SessionRevoked = %v, %v; want false, nil", r, err)
	}

	// Limits are shared: a's three events exhaust the burst for b. Keys
	// land on different cluster slots, so every shard takes part.
	la, lb := redis.NewLimiter(a, prefix), redis.NewLimiter(b, prefix)
	limit := account.PerWindow(3, time.Minute)
	for k := range 8 {
		key := fmt.Sprintf("ip:10.0.0.%d", k)
		for i := range 3 {
			wantAllowed(t, fmt.Sprintf("%s Allow #%d", key, i+1), la.Allow(ctx, key, limit))
		}
		wantRefused(t, key+" Allow #4 on the other instance", lb.Allow(ctx, key, limit))
		wantRefused(t, key+" Check on the other instance", lb.Check(ctx, key, limit))
	}
}
