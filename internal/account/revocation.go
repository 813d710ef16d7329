package account

import (
	"context"
	"fmt"
	"time"
)

// ClockSkew is how far apart the clocks of instances (and of PostgreSQL) may
// be. Every margin that covers skew uses it: how long a revocation is kept
// beyond the lifetime of the access tokens it voids, and how far back each
// instance polls the durable record.
const ClockSkew = time.Minute

// RevocationWindow is how long after its revocation a session must stay
// revoked in every instance's view: as long as an access token issued just
// before the revocation may live, plus ClockSkew.
func RevocationWindow(accessTTL time.Duration) time.Duration { return accessTTL + ClockSkew }

// Revocations tells every instance which sessions' access tokens are revoked.
type Revocations interface {
	// RevokeSessions marks the sessions' access tokens revoked until the
	// given time, when every access token they hold has expired anyway.
	RevokeSessions(ctx context.Context, sessionIDs []string, until time.Time) error
	// SessionRevoked reports whether the session's access tokens are revoked.
	// It returns ErrUnavailable when it cannot tell.
	SessionRevoked(ctx context.Context, sessionID string) (bool, error)
}

// Revocation is a session revoked at a time: every access token of the
// session issued before then is void.
type Revocation struct {
	SessionID string
	RevokedAt time.Time
}

// RevocationSource is the durable record of revocations, from which the
// shared view of revoked sessions is rebuilt when it may have missed some.
type RevocationSource interface {
	// RevokedSince lists the sessions revoked at or after since.
	RevokedSince(ctx context.Context, since time.Time) ([]Revocation, error)
}

// revokeAccess makes the sessions' access tokens fail on every instance
// until the longest-lived of them has expired.
func (s *Service) revokeAccess(ctx context.Context, sessionIDs []string) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	until := s.cfg.Now().Add(RevocationWindow(s.tokens.TTL()))
	if err := s.revocations.RevokeSessions(ctx, sessionIDs, until); err != nil {
		return fmt.Errorf("revoke access tokens: %w", err)
	}
	return nil
}
