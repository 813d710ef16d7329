package accounttest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// Limiter is an in-memory account.Limiter that runs the generic cell rate
// algorithm (GCRA) as the Redis limiter's script does, on an injected
// clock. It can be told to answer as a limiter that cannot reach its
// storage. It is safe for concurrent use.
type Limiter struct {
	now func() time.Time

	mu          sync.Mutex
	tat         map[string]time.Time // theoretical arrival time per key
	unavailable bool
}

var _ account.Limiter = (*Limiter)(nil)

// NewLimiter returns a Limiter with no counts that reads the time from now.
func NewLimiter(now func() time.Time) *Limiter {
	return &Limiter{now: now, tat: make(map[string]time.Time)}
}

// Allow records one event under key and returns nil when limit allows it.
// Otherwise it records nothing and returns a *account.RateLimitError that
// says when to retry. It returns account.ErrUnavailable while
// SetUnavailable(true) is in force.
func (l *Limiter) Allow(_ context.Context, key string, limit account.Limit) error {
	return l.take(key, limit, true)
}

// Check returns what Allow would return, without recording anything.
func (l *Limiter) Check(_ context.Context, key string, limit account.Limit) error {
	return l.take(key, limit, false)
}

func (l *Limiter) take(key string, limit account.Limit, record bool) error {
	if limit.Off() {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unavailable {
		return fmt.Errorf("rate limit: %w", account.ErrUnavailable)
	}
	tat := l.tat[key]
	if tat.Before(now) {
		tat = now
	}
	// One more event is allowed once the theoretical arrival time after it
	// is at most Burst intervals ahead of now.
	allowAt := tat.Add(limit.Interval - time.Duration(limit.Burst)*limit.Interval)
	if now.Before(allowAt) {
		wait := allowAt.Sub(now)
		return &account.RateLimitError{RetryAfterSeconds: max(1, int(math.Ceil(wait.Seconds())))}
	}
	if record {
		l.tat[key] = tat.Add(limit.Interval)
	}
	return nil
}

// SetUnavailable makes Allow and Check fail with account.ErrUnavailable
// (as while Redis cannot be reached) or answer again.
func (l *Limiter) SetUnavailable(unavailable bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unavailable = unavailable
}
