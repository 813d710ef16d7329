package accounttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// errDuplicate is what the fakes return where PostgreSQL would report a
// unique violation that the domain has no error for.
var errDuplicate = errors.New("duplicate key")

// SessionStore is an in-memory account.SessionStore (and
// account.RevocationSource) with the semantics of the PostgreSQL one. It
// shares its state with the AccountStore it was made for, so that sessions
// start only for enabled accounts whose password hash is still the one the
// login verified, and a password change revokes sessions atomically. It is
// safe for concurrent use.
type SessionStore struct {
	db *db
}

var _ account.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns a SessionStore for the accounts of accounts.
func NewSessionStore(accounts *AccountStore) *SessionStore { return &SessionStore{db: accounts.db} }

// SetBeforeCreate makes every later Create call f first, before it looks at
// the account: a test can change the account there, as a request racing
// the login would. nil removes the hook.
func (s *SessionStore) SetBeforeCreate(f func(account.NewSession)) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	s.db.beforeCreate = f
}

// Create stores a session and its first refresh token, and ns.Event unless
// its Type is empty, atomically, if ns.PasswordHash is still the hash of the
// enabled account. It returns account.ErrNotFound otherwise.
func (s *SessionStore) Create(_ context.Context, ns account.NewSession) error {
	s.db.mu.Lock()
	hook := s.db.beforeCreate
	s.db.mu.Unlock()
	if hook != nil {
		hook(ns)
	}
	id, ok := canonicalUUID(ns.ID)
	accountUUID, ok2 := canonicalUUID(ns.AccountUUID)
	if !ok || !ok2 {
		return fmt.Errorf("create session: %w", errMalformedID)
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	a := s.db.accounts[accountUUID]
	if a == nil || a.PasswordHash != ns.PasswordHash || a.Disabled {
		return account.ErrNotFound
	}
	if s.db.sessions[id] != nil || s.db.tokens[string(ns.TokenHash)] != nil {
		return fmt.Errorf("create session: %w", errDuplicate)
	}
	created := dbTime(ns.CreatedAt)
	s.db.sessions[id] = &sessionRow{Session: account.Session{
		ID: id, AccountUUID: accountUUID, CreatedAt: created, LastUsedAt: created,
		ExpiresAt: dbTime(ns.ExpiresAt), IPAddress: ns.Client.IPAddress, UserAgent: ns.Client.UserAgent,
		AMR: amrOrPassword(ns.AMR),
	}}
	s.db.tokens[string(ns.TokenHash)] = &tokenRow{sessionID: id, expiresAt: dbTime(ns.ExpiresAt)}
	if ns.Event.Type != "" {
		e := ns.Event
		e.AccountUUID, e.SessionID = accountUUID, id
		s.db.addEvents(e)
	}
	return nil
}

// Rotate marks the live refresh token r.ParentHash used and stores its
// child in the same session, atomically, and clears the sealed copy of the
// token kept by its own parent. A token that was already used, in a live
// session, is reported as account.AlreadyRotated with its state. It returns
// account.ErrNotFound for a token that is unknown, expired, revoked or in a
// revoked session, and account.ErrAccountDisabled, changing nothing, when
// the account is disabled.
func (s *SessionStore) Rotate(_ context.Context, r account.Rotation) (account.RotationResult, error) {
	now := dbTime(r.Now)
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	t := s.db.tokens[string(r.ParentHash)]
	if t == nil {
		return account.RotationResult{}, account.ErrNotFound
	}
	sess := s.db.sessions[t.sessionID]
	disabled := s.db.accounts[sess.AccountUUID].Disabled
	// The PostgreSQL store reads the flag while it locks a live session,
	// before it looks at the token itself.
	ends := sess.CreatedAt.Add(r.SessionLifetime)
	if sess.revokedAt.IsZero() && disabled {
		return account.RotationResult{}, account.ErrAccountDisabled
	}
	if sess.revokedAt.IsZero() && r.SessionLifetime > 0 && !ends.After(now) {
		return account.RotationResult{}, account.ErrSessionExpired
	}
	switch {
	case !sess.revokedAt.IsZero(), !t.revokedAt.IsZero(), !t.expiresAt.After(now):
		return account.RotationResult{}, account.ErrNotFound
	case !t.usedAt.IsZero():
		return account.RotationResult{Status: account.AlreadyRotated, Session: sess.Session, Used: s.db.refreshToken(t)}, nil
	}
	if s.db.tokens[string(r.ChildHash)] != nil {
		return account.RotationResult{}, fmt.Errorf("rotate refresh token: %w", errDuplicate)
	}
	t.usedAt, t.childSealed = now, bytes.Clone(r.ChildSealed)
	if t.parent != nil {
		// The parent's grace is over for good once its child is used.
		t.parent.childSealed = nil
	}
	expires := dbTime(r.ExpiresAt)
	if r.SessionLifetime > 0 && ends.Before(expires) {
		expires = ends
	}
	s.db.tokens[string(r.ChildHash)] = &tokenRow{sessionID: sess.ID, parent: t, expiresAt: expires}
	sess.LastUsedAt, sess.ExpiresAt = now, expires
	sess.IPAddress, sess.UserAgent = r.Client.IPAddress, r.Client.UserAgent
	return account.RotationResult{Status: account.Rotated, Session: sess.Session}, nil
}

// ByTokenHash returns the state of a refresh token that is neither revoked
// nor expired, in a live session, used or not. It returns
// account.ErrNotFound when there is none.
func (s *SessionStore) ByTokenHash(_ context.Context, hash []byte, now time.Time) (account.RefreshToken, error) {
	now = dbTime(now)
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	t := s.db.tokens[string(hash)]
	if t == nil || !t.revokedAt.IsZero() || !t.expiresAt.After(now) || !s.db.sessions[t.sessionID].live(now) {
		return account.RefreshToken{}, account.ErrNotFound
	}
	return s.db.refreshToken(t), nil
}

// refreshToken is t as the domain sees it. The caller holds d.mu.
func (d *db) refreshToken(t *tokenRow) account.RefreshToken {
	return account.RefreshToken{
		SessionID: t.sessionID, AccountUUID: d.sessions[t.sessionID].AccountUUID,
		UsedAt: t.usedAt, ChildSealed: bytes.Clone(t.childSealed),
	}
}

// amrOrPassword is the amr a session is stored with, as the PostgreSQL
// store does: a login that names no method was a password login.
func amrOrPassword(amr []string) []string {
	if len(amr) == 0 {
		return []string{account.MethodPassword}
	}
	return slices.Clone(amr)
}
