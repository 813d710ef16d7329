package redis_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/redis/redistest"
)

// wantAllowed fails unless err is nil.
func wantAllowed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s = %v, want allowed", what, err)
	}
}

// wantRefused fails unless err is a *account.RateLimitError, and returns
// its retry time in seconds.
func wantRefused(t *testing.T, what string, err error) int {
	t.Helper()
	var rl *account.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, account.ErrRateLimited) {
		t.Fatalf("%s = %v, want a *RateLimitError", what, err)
	}
	if rl.RetryAfterSeconds < 1 {
		t.Fatalf("%s: RetryAfterSeconds = %d, want at least 1", what, rl.RetryAfterSeconds)
	}
	return rl.RetryAfterSeconds
}

func TestLimiterPerWindowTripsAndRefills(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.New(t)
	l := redis.NewLimiter(c, prefix)
	ctx := context.Background()
	// 3 per window refills one every window/3: the calls up to the refusal
	// must come within those 5s, however slow the machine.
	const window = 15 * time.Second
	limit := account.PerWindow(3, window)

	for i := range 3 {
		wantAllowed(t, fmt.Sprintf("Allow #%d", i+1), l.Allow(ctx, "k", limit))
	}
	wantRefused(t, "Allow #4", l.Allow(ctx, "k", limit))
	wantRefused(t, "Check after the burst", l.Check(ctx, "k", limit))
	wantAllowed(t, "Allow on another key", l.Allow(ctx, "other", limit))

	time.Sleep(window + 50*time.Millisecond) // the whole window: the burst is back
	for i := range 3 {
		wantAllowed(t, fmt.Sprintf("Allow #%d after the window", i+1), l.Allow(ctx, "k", limit))
	}
	wantRefused(t, "Allow #4 after the window", l.Allow(ctx, "k", limit))
}

func TestLimiterLockoutHoldsForTheWindow(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.New(t)
	l := redis.NewLimiter(c, prefix)
	ctx := context.Background()
	// Generous: the checks up to half-way must come within half the
	// window, however slow the machine.
	const window = 10 * time.Second
	limit := account.LockoutAfter(2, window)

	wantAllowed(t, "Check before any failure", l.Check(ctx, "acct", limit))
	wantAllowed(t, "failure #1", l.Allow(ctx, "acct", limit))
	first := time.Now() // no earlier than Redis recorded failure #1
	wantAllowed(t, "Check after one failure", l.Check(ctx, "acct", limit))
	wantAllowed(t, "failure #2", l.Allow(ctx, "acct", limit))
	got := wantRefused(t, "Check after two failures", l.Check(ctx, "acct", limit))
	if got < 5 || got > 10 {
		t.Fatalf("Retry-After right after the lock-out = %ds, want about the whole window (5s to 10s)", got)
	}
	time.Sleep(window / 2)
	if half := wantRefused(t, "Check half-way through the window", l.Check(ctx, "acct", limit)); half >= got || half > 5 {
		t.Fatalf("Retry-After half-way = %ds (%ds before), want it counted down to 5s or less", half, got)
	}
	time.Sleep(time.Until(first.Add(window + 100*time.Millisecond)))
	wantAllowed(t, "Check after the window", l.Check(ctx, "acct", limit))
}

func TestLimiterCheckRecordsNothing(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.New(t)
	l := redis.NewLimiter(c, prefix)
	ctx := context.Background()
	limit := account.LockoutAfter(2, time.Minute)
	for range 10 {
		wantAllowed(t, "Check", l.Check(ctx, "k", limit))
	}
	wantAllowed(t, "Allow #1", l.Allow(ctx, "k", limit))
	wantAllowed(t, "Allow #2", l.Allow(ctx, "k", limit))
	wantRefused(t, "Allow #3", l.Allow(ctx, "k", limit))
}

func TestLimiterKeysUnderPrefix(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.New(t)
	l := redis.NewLimiter(c, prefix)
	ctx := context.Background()
	wantAllowed(t, "Allow", l.Allow(ctx, "ip:token:192.0.2.1", account.PerWindow(5, time.Minute)))
	if n, err := c.Exists(ctx, prefix+"rate:ip:token:192.0.2.1").Result(); err != nil || n != 1 {
		t.Fatalf("key %q exists = %d (%v), want 1", prefix+"rate:ip:token:192.0.2.1", n, err)
	}
	if n, _ := c.Exists(ctx, "rate:"+prefix+"rate:ip:token:192.0.2.1").Result(); n != 0 {
		t.Fatal("the library's own rate: prefix is still in front of the key")
	}
	ttl, err := c.PTTL(ctx, prefix+"rate:ip:token:192.0.2.1").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("key TTL = %v (%v), want it to expire within the window", ttl, err)
	}
}

func TestLimiterSharedByInstances(t *testing.T) {
	t.Parallel()
	c1, prefix := redistest.New(t)
	c2 := goredis.NewClient(c1.Options())
	t.Cleanup(func() { _ = c2.Close() })
	a, b := redis.NewLimiter(c1, prefix), redis.NewLimiter(c2, prefix)
	ctx := context.Background()
	limit := account.LockoutAfter(3, time.Minute)

	wantAllowed(t, "instance A, failure #1", a.Allow(ctx, "login:alice", limit))
	wantAllowed(t, "instance B, failure #2", b.Allow(ctx, "login:alice", limit))
	wantAllowed(t, "instance A, failure #3", a.Allow(ctx, "login:alice", limit))
	wantRefused(t, "instance B, check", b.Check(ctx, "login:alice", limit))
	wantRefused(t, "instance A, check", a.Check(ctx, "login:alice", limit))
}

func TestLimiterOff(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.New(t)
	l := redis.NewLimiter(c, prefix)
	ctx := context.Background()
	for _, limit := range []account.Limit{account.PerWindow(0, time.Minute), account.LockoutAfter(0, time.Minute), {}} {
		for range 5 {
			wantAllowed(t, "Allow with the limit off", l.Allow(ctx, "k", limit))
		}
	}
	if n, _ := c.Exists(ctx, prefix+"rate:k").Result(); n != 0 {
		t.Fatal("a limit that is off stored a key")
	}
}

func TestLimiterRedisDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	l := redis.NewLimiter(c, "down:")
	ctx := context.Background()
	for name, err := range map[string]error{
		"Allow": l.Allow(ctx, "k", account.PerWindow(5, time.Minute)),
		"Check": l.Check(ctx, "k", account.LockoutAfter(5, time.Minute)),
	} {
		if !errors.Is(err, account.ErrUnavailable) || errors.Is(err, account.ErrRateLimited) {
			t.Fatalf("%s with Redis down = %v, want ErrUnavailable", name, err)
		}
	}
}

// The in-process server that runs when REDIS_URL is unset must run the
// limiter's Lua script too.
func TestLimiterOnEmbedded(t *testing.T) {
	t.Parallel()
	e, err := redis.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	ctx := context.Background()
	c, err := redis.Open(ctx, e.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	l := redis.NewLimiter(c, "accountd:")
	limit := account.LockoutAfter(2, time.Minute)
	wantAllowed(t, "failure #1", l.Allow(ctx, "login:bob", limit))
	wantAllowed(t, "failure #2", l.Allow(ctx, "login:bob", limit))
	if got := wantRefused(t, "Check", l.Check(ctx, "login:bob", limit)); got < 50 || got > 60 {
		t.Fatalf("Retry-After = %ds, want about 60s", got)
	}
}
