package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Timing of the refresh of a Set.
const (
	// PollEvery is how often a Set asks the store whether the keys
	// changed: the backstop that makes every instance learn of a rotation
	// or a revocation within a second even without the feed.
	PollEvery = 500 * time.Millisecond
	// StaleAfter is how long a Set answers after it last confirmed that it
	// is up to date; after that it refuses to verify tokens.
	StaleAfter = time.Second
	// pollTimeout bounds one poll, so that a slow store cannot stall it.
	pollTimeout = 400 * time.Millisecond
	// maintainTimeout bounds one maintenance, which may make a key.
	maintainTimeout = 10 * time.Second
	// feedRetry is the pause before following the feed again after it broke.
	feedRetry = 200 * time.Millisecond
)

// freshness tracks when a Set last knew it was up to date, on the
// monotonic clock (the key life's clock may be a test's).
type freshness struct {
	born time.Time
	// lastSync is when the last successful poll started.
	lastSync atomic.Int64
	// feedHeard is when the feed last proved alive.
	feedHeard atomic.Int64
	// notified counts the feed's announcements; applied is the count the
	// last successful poll started after.
	notified, applied atomic.Int64
	// failing is set while the latest poll failed.
	failing atomic.Bool
}

func (f *freshness) init() {
	f.born = time.Now()
	f.lastSync.Store(-int64(forever))
	f.feedHeard.Store(-int64(forever))
}

func (f *freshness) elapsed() int64 { return int64(time.Since(f.born)) }

// ok reports whether the set is known to be up to date within StaleAfter:
// a poll confirmed it, or the feed is alive and every announcement it
// brought was followed by a successful poll.
func (f *freshness) ok() bool {
	now := f.elapsed()
	last := f.lastSync.Load()
	// Only a poll that failed makes the set stale, not one that is merely
	// late: on a machine starved of CPU the poller runs late like
	// everything else, and refusing every token then would turn load into
	// an outage.
	if now-last <= int64(StaleAfter) || (last >= 0 && !f.failing.Load() && f.applied.Load() >= f.notified.Load()) {
		return true
	}
	return now-f.feedHeard.Load() <= int64(StaleAfter) && f.applied.Load() >= f.notified.Load()
}

// Start loads the set, making the first key when the store has none, and
// keeps it fresh until ctx ends, also when that first load fails: its error
// is returned, and until a load succeeds the set neither signs nor
// verifies (security.ErrKeysUnavailable).
func (s *Set) Start(ctx context.Context) error {
	err := s.sync(ctx, maintainTimeout)
	go s.Run(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	return nil
}

// Run keeps the set fresh until ctx ends: it polls the store every
// PollEvery, at once when the feed announces a change, and runs the
// maintenance of the key life when it is due.
func (s *Set) Run(ctx context.Context) {
	if s.cfg.Feed != nil {
		go s.follow(ctx)
	}
	t := time.NewTicker(PollEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		err := s.sync(ctx, pollTimeout)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			s.cfg.Log.LogAttrs(ctx, slog.LevelWarn, "signing keys not refreshed; tokens get 503 once they may be stale",
				slog.String("error", err.Error()))
			failing = true
		case err == nil && failing:
			s.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "signing keys refreshed again")
			failing = false
		}
	}
}

// follow listens to the feed until ctx ends, again whenever it breaks.
func (s *Set) follow(ctx context.Context) {
	for ctx.Err() == nil {
		err := s.cfg.Feed.Follow(ctx, s.heard)
		if ctx.Err() != nil {
			return
		}
		s.cfg.Log.LogAttrs(ctx, slog.LevelDebug, "signing key feed broke", slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
		case <-time.After(feedRetry):
		}
	}
}

// heard is the feed's callback.
func (s *Set) heard(changed bool) {
	if changed {
		s.fresh.notified.Add(1)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	s.fresh.feedHeard.Store(s.fresh.elapsed())
}

// sync brings the set up to the store's version, and maintains the keys
// when the key life is due for a change.
func (s *Set) sync(ctx context.Context, timeout time.Duration) error {
	err := s.syncOnce(ctx, timeout)
	s.fresh.failing.Store(err != nil)
	return err
}

// syncOnce is sync without the bookkeeping of failures.
func (s *Set) syncOnce(ctx context.Context, timeout time.Duration) error {
	start, notified := s.fresh.elapsed(), s.fresh.notified.Load()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.refresh(pctx); err != nil {
		return err
	}
	if snap := s.snap.Load(); s.cfg.Policy.Due(snap.lives, s.cfg.Now()) {
		if err := s.maintain(ctx); err != nil {
			return err
		}
	}
	s.fresh.lastSync.Store(start)
	if notified > s.fresh.applied.Load() {
		s.fresh.applied.Store(notified)
	}
	return nil
}

// maintain runs the maintenance and reloads what it changed.
func (s *Set) maintain(ctx context.Context) error {
	mctx, cancel := context.WithTimeout(ctx, maintainTimeout)
	defer cancel()
	ch, err := s.manager.Maintain(mctx)
	if err != nil {
		return err
	}
	if ch.Empty() {
		return nil
	}
	return s.refresh(mctx)
}

// refresh loads the keys when the store's version differs from the set's.
func (s *Set) refresh(ctx context.Context) error {
	old := s.snap.Load()
	if old != nil {
		v, err := s.cfg.Store.Version(ctx)
		if err != nil {
			return fmt.Errorf("poll signing keys: %w", err)
		}
		if v == old.version {
			return nil
		}
	}
	records, version, err := s.cfg.Store.Records(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	snap := &snapshot{version: version, lives: lives(records), keys: make(map[string]Key, len(records))}
	var errs []error
	for _, r := range records {
		if old != nil {
			if k, ok := old.keys[r.ID]; ok {
				k.Life = r.Life
				snap.keys[r.ID] = k
				continue
			}
		}
		k, err := r.Open(s.cfg.Cipher)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		snap.keys[r.ID] = k
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.snap.Store(snap)
	return nil
}
