package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
)

var _ account.Revocations = (*RevocationView)(nil)

// Timing of the revocation feed.
const (
	// feedPing is how often an idle feed is pinged.
	feedPing = 300 * time.Millisecond
	// feedStaleAfter is how long a feed may stay silent before the view
	// stops answering: a revocation must reach every instance within a
	// second, so a view that may have missed one refuses to decide.
	feedStaleAfter = 900 * time.Millisecond
	// feedRetry is the pause before resubscribing after the feed broke.
	feedRetry = 200 * time.Millisecond
	// pollEvery is how often a healthy view also reads the revocations of
	// the last pollSpan from the durable record: an announcement that
	// never reached Redis (an instance cut off from Redis alone) still
	// reaches every instance within about a second. The partial index on
	// sessions.revoked_at makes this a cheap query.
	pollEvery = 500 * time.Millisecond
	// pollSpan covers clock skew between instances: revoked_at comes from
	// the revoking instance's clock.
	pollSpan = time.Minute
	// pollTimeout keeps a slow database from stalling the feed's pings.
	pollTimeout = 250 * time.Millisecond
)

// errStale is returned while the view may have missed a revocation.
var errStale = errors.New("revocation feed is down")

// RevocationView is each instance's in-memory view of the revoked sessions.
// It is loaded from the durable record (PostgreSQL) and kept fresh through a
// Redis pub/sub channel on which every instance announces the revocations it
// makes. Checks cost no I/O. While the feed is down, or before the first
// load, the view fails closed: SessionRevoked returns account.ErrUnavailable
// rather than trust a view that may be stale. After every (re)subscription
// the view is rebuilt from the durable record, so nothing revoked while the
// feed was down, or before a restart, or while Redis lost its data, is lost.
type RevocationView struct {
	client  goredis.UniversalClient
	channel string
	source  account.RevocationSource
	// window is how long after its revocation a session must stay in the
	// view: the lifetime of the access tokens it may still hold.
	window time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu        sync.RWMutex
	revoked   map[string]time.Time // session id -> until
	fresh     bool
	lastHeard time.Time
	// pending holds announcements that Redis did not take, sent again by
	// Run until it does.
	pending [][]byte
}

// NewRevocationView returns a view that announces and hears revocations on
// the channel named by prefix, rebuilds itself from source, and keeps each
// revocation for window (the access token lifetime). Run must be running
// for it to answer.
func NewRevocationView(client goredis.UniversalClient, prefix string, source account.RevocationSource,
	window time.Duration, log *slog.Logger) *RevocationView {
	return &RevocationView{
		client: client, channel: prefix + "revocations", source: source, window: window,
		now: time.Now, log: log, revoked: make(map[string]time.Time),
	}
}

// announcement is what goes over the channel.
type announcement struct {
	Sessions []string `json:"s"`
	Until    int64    `json:"u"` // unix milliseconds
}

// RevokeSessions records the sessions in this view at once and announces
// them to every other instance. The durable record must already hold them,
// so an announcement that Redis does not take is not an error: it is sent
// again until Redis takes it, and meanwhile every instance that cannot hear
// the feed refuses tokens and rebuilds its view from the durable record
// when the feed is back.
func (v *RevocationView) RevokeSessions(ctx context.Context, sessionIDs []string, until time.Time) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	v.apply(sessionIDs, until)
	msg, err := json.Marshal(announcement{Sessions: sessionIDs, Until: until.UnixMilli()})
	if err != nil {
		return fmt.Errorf("encode revocation: %w", err)
	}
	if err := v.client.Publish(ctx, v.channel, msg).Err(); err != nil {
		v.log.LogAttrs(ctx, slog.LevelWarn, "revocation announcement deferred until Redis answers",
			slog.Int("sessions", len(sessionIDs)), slog.String("error", err.Error()))
		v.mu.Lock()
		v.pending = append(v.pending, msg)
		v.mu.Unlock()
	}
	return nil
}

// flush sends the announcements Redis did not take before.
func (v *RevocationView) flush(ctx context.Context) {
	v.mu.Lock()
	pending := v.pending
	v.pending = nil
	v.mu.Unlock()
	for i, msg := range pending {
		if err := v.client.Publish(ctx, v.channel, msg).Err(); err != nil {
			v.mu.Lock()
			v.pending = append(pending[i:], v.pending...)
			v.mu.Unlock()
			return
		}
	}
}

// SessionRevoked reports whether the session is revoked. It returns
// account.ErrUnavailable while the view may be stale.
func (v *RevocationView) SessionRevoked(_ context.Context, sessionID string) (bool, error) {
	now := v.now()
	v.mu.RLock()
	until, found := v.revoked[sessionID]
	ok := v.fresh && now.Sub(v.lastHeard) <= feedStaleAfter
	v.mu.RUnlock()
	if !ok {
		return false, fmt.Errorf("check revocation: %w: %w", account.ErrUnavailable, errStale)
	}
	return found && now.Before(until), nil
}

func (v *RevocationView) apply(sessionIDs []string, until time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, id := range sessionIDs {
		if until.After(v.revoked[id]) {
			v.revoked[id] = until
		}
	}
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

func (v *RevocationView) setFresh(fresh bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fresh = fresh
}

// Len returns how many revoked sessions the view holds.
func (v *RevocationView) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.revoked)
}

// Ready waits until the view has loaded and its feed is up, or ctx ends.
func (v *RevocationView) Ready(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if _, err := v.SessionRevoked(ctx, ""); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("revocation view not ready: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Run keeps the view fresh until ctx ends: it subscribes to the feed,
// rebuilds the view from the durable record, applies what it hears, and
// starts over whenever the feed breaks.
func (v *RevocationView) Run(ctx context.Context) {
	for ctx.Err() == nil {
		err := v.follow(ctx)
		v.setFresh(false)
		if ctx.Err() != nil {
			return
		}
		v.log.LogAttrs(ctx, slog.LevelWarn, "revocation feed down; refusing access tokens until it is back",
			slog.String("error", err.Error()))
		select {
		case <-ctx.Done():
		case <-time.After(feedRetry):
		}
	}
}

// follow runs one subscription of the feed until it breaks.
func (v *RevocationView) follow(ctx context.Context) error {
	ps := v.client.Subscribe(ctx, v.channel)
	defer func() { _ = ps.Close() }()
	// The subscription is confirmed before the load, so that a revocation
	// made during the load is heard even if the load misses it.
	if _, err := ps.ReceiveTimeout(ctx, feedStaleAfter); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if err := v.load(ctx); err != nil {
		return err
	}
	v.heard()
	v.setFresh(true)
	wasStale := true
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	for ctx.Err() == nil {
		v.flush(ctx)
		select {
		case <-poll.C:
			v.poll(ctx)
		default:
		}
		msg, err := ps.ReceiveTimeout(ctx, feedPing)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return fmt.Errorf("receive: %w", err)
			}
			if err := ps.Ping(ctx); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		}
		if m, ok := msg.(*goredis.Message); ok {
			var a announcement
			if err := json.Unmarshal([]byte(m.Payload), &a); err != nil {
				v.log.LogAttrs(ctx, slog.LevelWarn, "bad revocation announcement", slog.String("error", err.Error()))
			} else {
				v.apply(a.Sessions, time.UnixMilli(a.Until))
			}
		}
		v.heard()
		if wasStale {
			v.log.LogAttrs(ctx, slog.LevelInfo, "revocation feed up", slog.Int("revoked_sessions", v.Len()))
			wasStale = false
		}
	}
	return ctx.Err()
}

// load rebuilds the view from the durable record.
func (v *RevocationView) load(ctx context.Context) error {
	return v.loadSince(ctx, v.now().Add(-v.window))
}

// poll reads the latest revocations from the durable record. A failure is
// logged, not fatal: no revocation can be made while the record is down.
func (v *RevocationView) poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	if err := v.loadSince(ctx, v.now().Add(-pollSpan)); err != nil && ctx.Err() == nil {
		v.log.LogAttrs(ctx, slog.LevelDebug, "poll revocations", slog.String("error", err.Error()))
	}
}

func (v *RevocationView) loadSince(ctx context.Context, since time.Time) error {
	list, err := v.source.RevokedSince(ctx, since)
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
