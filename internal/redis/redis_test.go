package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/redis"
)

func TestUnavailable(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	if err := redis.Ping(context.Background(), c); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("Ping with Redis down: err = %v, want ErrUnavailable", err)
	}
	v := redis.NewRevocationView(c, "x:", &record{}, time.Hour, quiet)
	// The durable record holds revocations; the announcement waits for Redis.
	if err := v.RevokeSessions(context.Background(), []string{"s1"}, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("RevokeSessions with Redis down: err = %v, want nil (announcement deferred)", err)
	}
	if _, err := v.SessionRevoked(context.Background(), "s1"); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("SessionRevoked before the view ever loaded: err = %v, want ErrUnavailable", err)
	}
}

// TestEmbedded runs the revocation view on the in-process server used when
// REDIS_URL is unset: one code path either way.
func TestEmbedded(t *testing.T) {
	e, err := redis.StartEmbedded()
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	defer e.Close()
	c, err := redis.Open(context.Background(), e.URL())
	if err != nil {
		t.Fatalf("Open(embedded): %v", err)
	}
	defer c.Close()
	v := startView(t, c, "accountd:", &record{})
	if err := v.RevokeSessions(context.Background(), []string{"s"}, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("RevokeSessions on the embedded server: %v", err)
	}
	time.Sleep(1500 * time.Millisecond) // the feed must stay alive on its pings
	if r, err := v.SessionRevoked(context.Background(), "s"); err != nil || !r {
		t.Fatalf("SessionRevoked on the embedded server = %v, %v; want true, nil", r, err)
	}
}
