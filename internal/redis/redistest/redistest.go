// Package redistest gives tests the machine's Redis with a key prefix of
// their own, so that tests sharing one server run in parallel. Tests fail,
// never skip, when the server cannot be reached.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable that points the tests at a Redis.
const EnvURL = "ACCOUNTD_TEST_REDIS_URL"

// DefaultURL is the Redis the tests use when EnvURL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// startHint says how to start the machine's Redis.
const startHint = `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no`

// URL returns the URL of the Redis the tests use.
func URL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// New returns a client of the test Redis and a fresh key prefix. When the
// test ends, the keys under the prefix are deleted and the client closed.
func New(t testing.TB) (*goredis.Client, string) {
	t.Helper()
	opts, err := goredis.ParseURL(URL())
	if err != nil {
		t.Fatalf("redistest: %s: %v", EnvURL, err)
	}
	c := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("redistest: Redis at %s does not answer (%v); start it with: %s", opts.Addr, err, startHint)
	}
	prefix := "test:" + randomHex() + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		_ = c.Close()
	})
	return c, prefix
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
