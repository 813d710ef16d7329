package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/redis/redistest"
)

func TestRevocations(t *testing.T) {
	c, prefix := redistest.New(t)
	r := redis.NewRevocations(c, prefix)
	ctx := context.Background()

	if revoked, err := r.SessionRevoked(ctx, "s1"); err != nil || revoked {
		t.Fatalf("SessionRevoked(s1) before revoking = %v, %v; want false, nil", revoked, err)
	}
	if err := r.RevokeSessions(ctx, []string{"s1", "s2"}, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("RevokeSessions: %v", err)
	}
	for _, id := range []string{"s1", "s2"} {
		if revoked, err := r.SessionRevoked(ctx, id); err != nil || !revoked {
			t.Fatalf("SessionRevoked(%s) = %v, %v; want true, nil", id, revoked, err)
		}
	}
	if revoked, _ := r.SessionRevoked(ctx, "s3"); revoked {
		t.Fatal("SessionRevoked(s3) = true for a session never revoked")
	}
	ttl, err := c.PTTL(ctx, prefix+"revoked:sid:s1").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("revocation key TTL = %v (%v), want it to expire within a minute", ttl, err)
	}
	// Another prefix is another deployment: it does not see these revocations.
	if revoked, _ := redis.NewRevocations(c, prefix+"other:").SessionRevoked(ctx, "s1"); revoked {
		t.Fatal("a revocation leaked across key prefixes")
	}
}

func TestRevocationsUnavailable(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	r := redis.NewRevocations(c, "x:")
	if _, err := r.SessionRevoked(context.Background(), "s1"); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("SessionRevoked with Redis down: err = %v, want ErrUnavailable", err)
	}
	if err := r.RevokeSessions(context.Background(), []string{"s1"}, time.Now().Add(time.Minute)); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("RevokeSessions with Redis down: err = %v, want ErrUnavailable", err)
	}
	if err := redis.Ping(context.Background(), c); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("Ping with Redis down: err = %v, want ErrUnavailable", err)
	}
}

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
	r := redis.NewRevocations(c, "accountd:")
	if err := r.RevokeSessions(context.Background(), []string{"s"}, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("RevokeSessions on the embedded server: %v", err)
	}
	if revoked, err := r.SessionRevoked(context.Background(), "s"); err != nil || !revoked {
		t.Fatalf("SessionRevoked on the embedded server = %v, %v; want true, nil", revoked, err)
	}
}
