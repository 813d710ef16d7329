package accounttest

import (
	"context"

	"github.com/accountd/accountd/internal/account"
)

// ByID returns the account's session with the id, in any case, unless it
// is revoked, expired or not. It returns account.ErrNotFound otherwise,
// including when either id is not a UUID.
func (s *SessionStore) ByID(_ context.Context, accountUUID, sessionID string) (account.Session, error) {
	accountUUID, ok := canonicalUUID(accountUUID)
	sessionID, ok2 := canonicalUUID(sessionID)
	if !ok || !ok2 {
		return account.Session{}, account.ErrNotFound
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	row := s.db.sessions[sessionID]
	if row == nil || row.AccountUUID != accountUUID || !row.revokedAt.IsZero() {
		return account.Session{}, account.ErrNotFound
	}
	return row.Session, nil
}

// SessionOf returns the session of a refresh token, whatever the state of
// either. It returns account.ErrNotFound for an unknown token.
func (s *SessionStore) SessionOf(_ context.Context, tokenHash []byte) (account.Session, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	t := s.db.tokens[string(tokenHash)]
	if t == nil {
		return account.Session{}, account.ErrNotFound
	}
	return s.db.sessions[t.sessionID].Session, nil
}
