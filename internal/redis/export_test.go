package redis

import (
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
)

// PollStaleAfter is how long the view answers without a good poll.
const PollStaleAfter = pollStaleAfter

// NewRevocationViewOnClock is NewRevocationView with the view's clock set to
// now, so that a test decides when time passes.
func NewRevocationViewOnClock(client goredis.UniversalClient, prefix string, source account.RevocationSource,
	window time.Duration, log *slog.Logger, now func() time.Time) *RevocationView {
	v := NewRevocationView(client, prefix, source, window, log)
	v.now = now
	return v
}

// LastHeard returns when, on its clock, the view last heard from its feed.
func LastHeard(v *RevocationView) time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.lastHeard
}
