package accounttest

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/accountd/accountd/internal/account"
)

var _ account.RevocationSource = (*SessionStore)(nil)

// Active lists the account's sessions that are neither revoked nor expired
// at now, newest first. An accountUUID that is not a UUID has none.
func (s *SessionStore) Active(_ context.Context, accountUUID string, now time.Time) ([]account.Session, error) {
	id, ok := canonicalUUID(accountUUID)
	if !ok {
		return []account.Session{}, nil
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	rows := s.db.liveSessions(id, "", dbTime(now))
	slices.SortFunc(rows, func(a, b *sessionRow) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	list := make([]account.Session, len(rows))
	for i, r := range rows {
		list[i] = r.Session
	}
	return list, nil
}

// Revoke revokes one live session of the account and all its refresh
// tokens, stamped now, and returns the session's id in its canonical
// (lower-case) form. It returns account.ErrNotFound when the account has no
// such live session, including when either id is not a UUID.
func (s *SessionStore) Revoke(_ context.Context, accountUUID, sessionID string, now time.Time) (string, error) {
	accountUUID, ok := canonicalUUID(accountUUID)
	sessionID, ok2 := canonicalUUID(sessionID)
	if !ok || !ok2 {
		return "", account.ErrNotFound
	}
	now = dbTime(now)
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	row := s.db.sessions[sessionID]
	if row == nil || row.AccountUUID != accountUUID || !row.live(now) {
		return "", account.ErrNotFound
	}
	return s.db.revokeSessions([]*sessionRow{row}, now)[0], nil
}

// RevokeAll revokes every live session of the account but the one named by
// except, which may be empty (or not a UUID) to revoke them all, together
// with their refresh tokens, stamped now. It returns the ids it revoked,
// sorted.
func (s *SessionStore) RevokeAll(_ context.Context, accountUUID, except string, now time.Time) ([]string, error) {
	accountUUID, ok := canonicalUUID(accountUUID)
	if !ok {
		return []string{}, nil
	}
	except, _ = canonicalUUID(except)
	now = dbTime(now)
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	ids := s.db.revokeSessions(s.db.liveSessions(accountUUID, except, now), now)
	slices.Sort(ids)
	return ids, nil
}

// RevokedSince lists the sessions revoked at or after since, those of
// deleted accounts included. A revocation is stamped with the now its caller passed (PostgreSQL stamps its own
// clock; the fakes have only the caller's).
func (s *SessionStore) RevokedSince(_ context.Context, since time.Time) ([]account.Revocation, error) {
	since = dbTime(since)
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	out := []account.Revocation{}
	for _, r := range s.db.sessions {
		if !r.revokedAt.IsZero() && !r.revokedAt.Before(since) {
			out = append(out, account.Revocation{SessionID: r.ID, RevokedAt: r.revokedAt})
		}
	}
	for id, at := range s.db.tombstones {
		if !at.Before(since) {
			out = append(out, account.Revocation{SessionID: id, RevokedAt: at})
		}
	}
	slices.SortFunc(out, func(a, b account.Revocation) int {
		return cmp.Or(a.RevokedAt.Compare(b.RevokedAt), cmp.Compare(a.SessionID, b.SessionID))
	})
	return out, nil
}

// liveSessions returns the account's sessions live at now but except
// (canonical ids; "" excepts none). The caller holds d.mu.
func (d *db) liveSessions(accountUUID, except string, now time.Time) []*sessionRow {
	var rows []*sessionRow
	for _, r := range d.sessions {
		if r.AccountUUID == accountUUID && r.ID != except && r.live(now) {
			rows = append(rows, r)
		}
	}
	return rows
}
