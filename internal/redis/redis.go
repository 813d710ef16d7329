// Package redis implements accountd's shared, short-lived state on Redis:
// the access-token revocation list, the rate limiter and the health check. When no Redis is
// configured, Embedded starts an in-process Redis-compatible server so that
// one code path serves both cases.
package redis

import (
	"context"
	"errors"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
)

// Open connects to the Redis deployment that url names -- one server
// (redis://), a Sentinel-monitored primary (redis+sentinel://) or a Cluster
// (redis+cluster://); see newClient for the forms -- and pings it.
func Open(ctx context.Context, url string) (goredis.UniversalClient, error) {
	c, err := newClient(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("ping redis: %w", err)
	}
	return c, nil
}

// Embedded is an in-process Redis-compatible server, enough for a single
// instance of accountd.
type Embedded struct {
	srv *miniredis.Miniredis
}

// StartEmbedded starts an in-process server on a free loopback port.
func StartEmbedded() (*Embedded, error) {
	srv := miniredis.NewMiniRedis()
	// Let keys expire on the wall clock, as Redis does, so that revocations
	// and rate-limit counts do not pile up for the life of the process.
	srv.ClockTTL(true)
	if err := srv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("start embedded redis: %w", err)
	}
	return &Embedded{srv: srv}, nil
}

// URL returns the redis:// URL of the embedded server.
func (e *Embedded) URL() string { return "redis://" + e.srv.Addr() }

// Close stops the embedded server.
func (e *Embedded) Close() { e.srv.Close() }

// wrapUnavailable translates a go-redis failure at the boundary: anything
// but goredis.Nil (no such key) becomes account.ErrUnavailable, with the
// cause kept, so that account.Unavailable and account.Canceled classify it;
// op says what was being done.
func wrapUnavailable(op string, err error) error {
	if err == nil || errors.Is(err, goredis.Nil) {
		return err
	}
	return fmt.Errorf("%s: %w: %w", op, account.ErrUnavailable, err)
}

// Ping reports whether Redis answers.
func Ping(ctx context.Context, c goredis.UniversalClient) error {
	return wrapUnavailable("ping redis", c.Ping(ctx).Err())
}
