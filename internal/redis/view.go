package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
)

var _ account.Revocations = (*RevocationView)(nil)

// Why the view refuses to decide.
var (
	// errStale is returned while the view may have missed an announcement.
	errStale = errors.New("revocation feed is down")
	// errRecordStale is returned while the view may have missed a
	// revocation whose announcement never reached Redis.
	errRecordStale = errors.New("revocation record cannot be read")
)

// RevocationView is each instance's in-memory view of the revoked sessions.
// It is loaded from the durable record (PostgreSQL) and kept fresh through a
// Redis pub/sub channel on which every instance announces the revocations it
// makes, and by polling the record for the revocations of the last minute.
// Checks cost no I/O. While the feed is down or silent, while the record
// cannot be read, or before the first load, the view fails closed:
// SessionRevoked returns account.ErrUnavailable rather than trust a view
// that may be stale. After every (re)subscription the view is rebuilt from
// the durable record, so nothing revoked while the feed was down, or before
// a restart, or while Redis lost its data, is lost.
type RevocationView struct {
	client  goredis.UniversalClient
	channel string
	source  account.RevocationSource
	// window is how long after its revocation a session must stay in the
	// view: the lifetime of the access tokens it may still hold.
	window time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu      sync.RWMutex
	revoked map[string]time.Time // session id -> until
	// fresh is whether the feed is subscribed and the view loaded since; the
	// feed loop clears it the moment it sees the feed break.
	fresh bool
	// lastHeard is when the feed last said anything (a pong will do), and
	// lastPolled when the last good read of the record started.
	lastHeard, lastPolled time.Time
	// pollFailing is set while the latest poll of the record failed.
	pollFailing bool
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

// announce sends again, every feedPing until ctx ends, the announcements
// Redis did not take; apart from the feed, so that a Redis slow to take
// them cannot delay the feed's noticing that it broke.
func (v *RevocationView) announce(ctx context.Context) {
	t := time.NewTicker(feedPing)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			v.flush(ctx)
		}
	}
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
	err := v.staleLocked(now)
	v.mu.RUnlock()
	if err != nil {
		return false, fmt.Errorf("check revocation: %w: %w", account.ErrUnavailable, err)
	}
	return found && now.Before(until), nil
}

// staleLocked returns why the view may be stale at now, or nil. v.mu must
// be held.
func (v *RevocationView) staleLocked(now time.Time) error {
	switch {
	case !v.fresh || now.Sub(v.lastHeard) > feedStaleAfter:
		return errStale
	case v.pollFailing && now.Sub(v.lastPolled) > pollStaleAfter:
		// Only a poll that failed counts, not one that is merely late: on
		// a machine starved of CPU the poller runs late like everything
		// else, and refusing every token then would turn load into an
		// outage.
		return errRecordStale
	}
	return nil
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

// Len returns how many revoked sessions the view holds.
func (v *RevocationView) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.revoked)
}

// readyPoll is how often Ready looks: the view is usually ready a few
// milliseconds after Run starts, and the server answers only after that,
// so a coarse tick would add to every start-up.
const readyPoll = time.Millisecond

// Ready waits until the view has loaded and its feed is up, or ctx ends.
func (v *RevocationView) Ready(ctx context.Context) error {
	t := time.NewTicker(readyPoll)
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

// Run keeps the view fresh until ctx ends: it follows the feed, starting
// over on a new connection whenever the feed breaks or falls silent, polls
// the durable record, and sends again the announcements Redis did not take.
func (v *RevocationView) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { v.pollRecord(ctx) })
	wg.Go(func() { v.announce(ctx) })
	v.followFeed(ctx)
	wg.Wait()
}
