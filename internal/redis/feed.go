package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Timing of the revocation feed.
const (
	// feedPing is how often an idle feed is pinged.
	feedPing = 300 * time.Millisecond
	// feedStaleAfter is how long a feed may stay silent before the view
	// stops answering: a revocation must reach every instance within a
	// second, so a view that may have missed one refuses to decide. A feed
	// silent for longer is dropped and subscribed again on a new connection.
	feedStaleAfter = 900 * time.Millisecond
	// feedRetry is the pause before resubscribing after the feed broke.
	feedRetry = 200 * time.Millisecond
)

// errSilent is why a feed whose connection still looks open is dropped.
var errSilent = errors.New("revocation feed silent")

// followFeed follows the feed until ctx ends, subscribing again on a new
// connection whenever it breaks or falls silent. It warns when the feed
// goes down and tells when it is up again; the failed attempts in between
// are logged at debug level.
func (v *RevocationView) followFeed(ctx context.Context) {
	down := false // whether the feed being down was reported
	for {
		up, err := v.follow(ctx)
		v.setFresh(false)
		if ctx.Err() != nil {
			return
		}
		level := slog.LevelDebug
		if up || !down {
			level, down = slog.LevelWarn, true
		}
		v.log.LogAttrs(ctx, level, "revocation feed down; refusing access tokens until it is back",
			slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
			return
		case <-time.After(feedRetry):
		}
	}
}

// follow runs one subscription of the feed until it breaks or falls silent,
// and reports whether the view was fresh on it. The moment it sees the
// feed fail, it marks the view stale, before anything else.
func (v *RevocationView) follow(ctx context.Context) (bool, error) {
	// Neither the dial nor the confirmation may hang on a Redis that does
	// not answer.
	sctx, cancel := context.WithTimeout(ctx, feedStaleAfter)
	defer cancel()
	ps := v.client.Subscribe(sctx, v.channel)
	defer func() { _ = ps.Close() }()
	// The subscription is confirmed before the load, so that a revocation
	// made during the load is heard even if the load misses it.
	if _, err := ps.ReceiveTimeout(sctx, feedStaleAfter); err != nil {
		return false, fmt.Errorf("subscribe: %w", err)
	}
	if err := v.load(ctx); err != nil {
		return false, err
	}
	v.heard()
	v.setFresh(true)
	v.log.LogAttrs(ctx, slog.LevelInfo, "revocation feed up", slog.Int("revoked_sessions", v.Len()))
	for {
		msg, err := v.receive(ctx, ps)
		var ne net.Error
		switch {
		case err == nil:
			v.hear(ctx, msg)
			continue
		case ctx.Err() != nil:
			return true, ctx.Err()
		case !errors.As(err, &ne) || !ne.Timeout():
			v.setFresh(false)
			return true, fmt.Errorf("receive: %w", err)
		}
		// A ping is answered on the feed itself: a connection that went
		// silent without closing (its peer vanished) answers nothing, and
		// would do so until the kernel gives up on it, minutes later.
		if silent := v.now().Sub(v.heardAt()); silent > feedStaleAfter {
			v.setFresh(false)
			return true, fmt.Errorf("%w for %v; dropping its connection to subscribe on a new one",
				errSilent, silent.Round(time.Millisecond))
		}
		if err := ps.Ping(ctx); err != nil {
			v.setFresh(false)
			return true, fmt.Errorf("ping: %w", err)
		}
	}
}

// receive waits up to feedPing for what the feed says. When the connection
// broke, go-redis dials again inside ReceiveTimeout before it returns the
// error; the deadline bounds that dial too (with ContextTimeoutEnabled, as
// Open sets it), so that the loop learns of the break at once rather than
// after the client's dial and read timeouts. The new connection is of no
// use: follow starts over.
func (v *RevocationView) receive(ctx context.Context, ps *goredis.PubSub) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, feedPing)
	defer cancel()
	return ps.ReceiveTimeout(ctx, feedPing)
}

// hear applies what the feed said, if it is an announcement, and marks the
// feed alive.
func (v *RevocationView) hear(ctx context.Context, msg any) {
	if m, ok := msg.(*goredis.Message); ok {
		var a announcement
		if err := json.Unmarshal([]byte(m.Payload), &a); err != nil {
			v.log.LogAttrs(ctx, slog.LevelWarn, "bad revocation announcement", slog.String("error", err.Error()))
		} else {
			v.apply(a.Sessions, time.UnixMilli(a.Until))
		}
	}
	v.heard()
}

// heard marks the feed alive and drops revocations that have run out.
func (v *RevocationView) heard() {
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lastHeard = now
	for id, until := range v.revoked {
		if !now.Before(until) {
			delete(v.revoked, id)
		}
	}
}

// heardAt returns when the feed was last heard.
func (v *RevocationView) heardAt() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.lastHeard
}

func (v *RevocationView) setFresh(fresh bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fresh = fresh
}
