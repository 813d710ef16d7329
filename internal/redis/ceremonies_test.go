package redis_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/redis/redistest"
)

func TestCeremonies(t *testing.T) {
	t.Parallel()
	rdb, prefix := redistest.New(t)
	c := redis.NewCeremonies(rdb, prefix)
	ctx := t.Context()

	if _, err := c.Take(ctx, "none"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Take of nothing = %v, want ErrNotFound", err)
	}
	if err := c.Put(ctx, "k", []byte("state"), time.Minute); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if ttl := rdb.TTL(ctx, prefix+"webauthn:k").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL of the key = %v, want at most a minute", ttl)
	}
	if got, err := c.Take(ctx, "k"); err != nil || string(got) != "state" {
		t.Fatalf("Take = %q, %v; want the state", got, err)
	}
	if _, err := c.Take(ctx, "k"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("second Take = %v, want ErrNotFound", err)
	}

	// Of racing takes, exactly one gets the state.
	if err := c.Put(ctx, "race", []byte("state"), time.Minute); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	wins := 0
	for range 16 {
		wg.Go(func() {
			_, err := c.Take(ctx, "race")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, account.ErrNotFound):
				t.Errorf("Take: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d racing takes got the state, want 1", wins)
	}
}

func TestCeremoniesUnavailable(t *testing.T) {
	t.Parallel()
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	c := redis.NewCeremonies(rdb, "x:")
	if err := c.Put(t.Context(), "k", []byte("s"), time.Minute); !account.Unavailable(err) {
		t.Fatalf("Put with Redis down = %v, want unavailable", err)
	}
	if _, err := c.Take(t.Context(), "k"); !account.Unavailable(err) {
		t.Fatalf("Take with Redis down = %v, want unavailable", err)
	}
}

// The in-process server that stands in for Redis when REDIS_URL is unset
// takes ceremonies too (GETDEL).
func TestCeremoniesEmbedded(t *testing.T) {
	t.Parallel()
	e, err := redis.StartEmbedded()
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	defer e.Close()
	rdb, err := redis.Open(t.Context(), e.URL())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rdb.Close()
	c := redis.NewCeremonies(rdb, "accountd:")
	if err := c.Put(t.Context(), "k", []byte("state"), time.Minute); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, err := c.Take(t.Context(), "k"); err != nil || string(got) != "state" {
		t.Fatalf("Take = %q, %v; want the state", got, err)
	}
	if _, err := c.Take(t.Context(), "k"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("second Take = %v, want ErrNotFound", err)
	}
}
