package redis

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Timing of the polls of the durable record.
const (
	// pollEvery is how often the view also reads the revocations of the
	// last pollSpan from the durable record: an announcement that never
	// reached Redis (an instance cut off from Redis alone) still reaches
	// every instance within about a second. The partial index on
	// sessions.revoked_at makes this a cheap query.
	pollEvery = 500 * time.Millisecond
	// pollSpan covers clock skew between instances: revoked_at comes from
	// the revoking instance's clock.
	pollSpan = time.Minute
	// pollTimeout keeps a slow database from holding up the polls.
	pollTimeout = 250 * time.Millisecond
)

// pollRecord polls the durable record every pollEvery until ctx ends. A
// failure is logged, not fatal: no revocation can be made while the record
// is down.
func (v *RevocationView) pollRecord(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := v.poll(ctx); err != nil && ctx.Err() == nil {
			v.log.LogAttrs(ctx, slog.LevelDebug, "poll revocations", slog.String("error", err.Error()))
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
// into the view.
func (v *RevocationView) loadSince(ctx context.Context, span time.Duration) error {
	start := v.now()
	list, err := v.source.RevokedSince(ctx, start.Add(-span))
	if err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, r := range list {
		until := r.RevokedAt.Add(v.window)
		if until.After(v.revoked[r.SessionID]) {
			v.revoked[r.SessionID] = until
		}
	}
	return nil
}
