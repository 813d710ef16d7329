package redis_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/redis/redistest"
)

func challengeHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// testChallenges runs the MFAChallenges contract against c.
func testChallenges(t *testing.T, c goredis.UniversalClient, prefix string) {
	t.Helper()
	m := redis.NewMFAChallenges(c, prefix)
	ctx := context.Background()
	h := challengeHash("token-1")
	want := account.MFAChallenge{
		AccountUUID:         "5f0c9a8e-2a3b-4c5d-8e9f-0a1b2c3d4e5f",
		PasswordFingerprint: challengeHash("hash"),
		ExpiresAt:           time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC),
	}
	if _, err := m.Get(ctx, h); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Get before Put = %v, want ErrNotFound", err)
	}
	if err := m.Fail(ctx, h, 5); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Fail before Put = %v, want ErrNotFound", err)
	}
	if err := m.Put(ctx, h, want, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := m.Get(ctx, h)
	if err != nil || got.AccountUUID != want.AccountUUID || !bytes.Equal(got.PasswordFingerprint, want.PasswordFingerprint) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, want)
	}
	if ttl := c.PTTL(ctx, prefix+"mfa:"+hex.EncodeToString(h)).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL = %v, want up to a minute", ttl)
	}
	// The third failure of three burns it.
	for i := range 3 {
		if err := m.Fail(ctx, h, 3); err != nil {
			t.Fatalf("Fail %d = %v", i+1, err)
		}
	}
	if _, err := m.Get(ctx, h); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Get after 3 of 3 failures = %v, want ErrNotFound", err)
	}
	// Take: one winner among racers.
	h2 := challengeHash("token-2")
	if err := m.Put(ctx, h2, want, time.Minute); err != nil {
		t.Fatal(err)
	}
	const racers = 8
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() { errs[i] = m.Take(ctx, h2) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, account.ErrNotFound):
			t.Fatalf("Take = %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d Takes won, want 1", wins, racers)
	}
}

func TestMFAChallenges(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.New(t)
	testChallenges(t, c, prefix)
}

// The in-process server that runs when REDIS_URL is unset must run the
// failure script too.
func TestMFAChallengesOnEmbedded(t *testing.T) {
	t.Parallel()
	e, err := redis.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	c, err := redis.Open(context.Background(), e.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	testChallenges(t, c, "embedded:")
}

func TestMFAChallengesRedisDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	m := redis.NewMFAChallenges(c, "down:")
	ctx := context.Background()
	h := challengeHash("t")
	_, getErr := m.Get(ctx, h)
	for name, err := range map[string]error{
		"Put":  m.Put(ctx, h, account.MFAChallenge{AccountUUID: "a"}, time.Minute),
		"Get":  getErr,
		"Fail": m.Fail(ctx, h, 5),
		"Take": m.Take(ctx, h),
	} {
		if !errors.Is(err, account.ErrUnavailable) {
			t.Fatalf("%s with Redis down = %v, want ErrUnavailable", name, err)
		}
	}
}
