package redis

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// Timing of the polls of the durable record.
const (
	// pollEvery is how often the view also reads the revocations of the
	// last pollSpan from the durable record: an announcement that never
	// reached Redis (an instance cut off from Redis alone) still reaches
	// every instance within about a second. The partial index on
	// sessions.revoked_at makes this a cheap query.
	pollEvery = 500 * time.Millisecond
	// pollSpan covers the clock skew between this instance and PostgreSQL,
	// whose clock stamps revoked_at.
	pollSpan = account.ClockSkew
	// pollTimeout keeps a slow database from holding up the polls.
	pollTimeout = 250 * time.Millisecond
	// pollStaleAfter is how long the view answers without a good poll:
	// about a second, as for the feed, since a revocation whose
	// announcement was lost reaches the view through the polls alone. It
	// lets one poll fail, or run late, without refusing tokens.
	pollStaleAfter = 2*pollEvery + pollTimeout
)

// pollRecord polls the durable record every pollEvery until ctx ends. It
// warns once when the polls start failing and tells when they work again.
func (v *RevocationView) pollRecord(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := v.poll(ctx)
		v.mu.Lock()
		v.pollFailing = err != nil && ctx.Err() == nil
		v.mu.Unlock()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			failing = true
			v.log.LogAttrs(ctx, slog.LevelWarn, "revocation poll failing; refusing access tokens while it fails",
				slog.Duration("refusing_after", pollStaleAfter), slog.String("error", err.Error()))
		case err == nil && failing:
			failing = false
			v.log.LogAttrs(ctx, slog.LevelInfo, "revocation poll works again")
		}
	}
}

// poll reads the revocations of the last pollSpan from the durable record.
func (v *RevocationView) poll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	return v.loadSince(ctx, pollSpan)
}

// load rebuilds the view from the durable record.
func (v *RevocationView) load(ctx context.Context) error {
	return v.loadSince(ctx, v.window)
}

// loadSince reads the revocations of the last span from the durable record
// into the view; when that works, the view is polled as of the read's start.
func (v *RevocationView) loadSince(ctx context.Context, span time.Duration) error {
	start := v.now()
	list, err := v.source.RevokedSince(ctx, start.Add(-span))
	if err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if start.After(v.lastPolled) {
		v.lastPolled = start
	}
	for _, r := range list {
		until := r.RevokedAt.Add(v.window)
		if until.After(v.revoked[r.SessionID]) {
			v.revoked[r.SessionID] = until
		}
	}
	return nil
}
