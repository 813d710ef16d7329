package accounttest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// Announcement is one call of Revocations.RevokeSessions: what every
// instance would hear.
type Announcement struct {
	SessionIDs []string
	Until      time.Time
}

// Revocations is an in-memory account.Revocations: the view of one
// instance, which hears its own announcements at once and records them for
// tests to inspect. It can be told to answer as a view whose feed is down.
// It is safe for concurrent use.
type Revocations struct {
	now func() time.Time

	mu          sync.Mutex
	revoked     map[string]time.Time // session id -> until
	announced   []Announcement
	unavailable bool
}

var _ account.Revocations = (*Revocations)(nil)

// NewRevocations returns a Revocations that revokes nothing yet and reads
// the time from now.
func NewRevocations(now func() time.Time) *Revocations {
	return &Revocations{now: now, revoked: make(map[string]time.Time)}
}

// RevokeSessions records the announcement and marks the sessions revoked
// until the given time. Like the Redis view, it succeeds even while the
// view is unavailable: the durable record already holds the revocation.
func (r *Revocations) RevokeSessions(_ context.Context, sessionIDs []string, until time.Time) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.announced = append(r.announced, Announcement{SessionIDs: slices.Clone(sessionIDs), Until: until})
	for _, id := range sessionIDs {
		if until.After(r.revoked[id]) {
			r.revoked[id] = until
		}
	}
	return nil
}

// SessionRevoked reports whether the session is revoked now. It returns
// account.ErrUnavailable while SetUnavailable(true) is in force.
func (r *Revocations) SessionRevoked(_ context.Context, sessionID string) (bool, error) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unavailable {
		return false, fmt.Errorf("check revocation: %w", account.ErrUnavailable)
	}
	until, ok := r.revoked[sessionID]
	return ok && now.Before(until), nil
}

// SetUnavailable makes SessionRevoked fail with account.ErrUnavailable (as
// while the revocation feed is down) or answer again.
func (r *Revocations) SetUnavailable(unavailable bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unavailable = unavailable
}

// Announcements returns every announcement made so far, oldest first.
func (r *Revocations) Announcements() []Announcement {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Announcement, len(r.announced))
	for i, a := range r.announced {
		out[i] = Announcement{SessionIDs: slices.Clone(a.SessionIDs), Until: a.Until}
	}
	return out
}
