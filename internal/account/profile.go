package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// current reads the caller's account, password hash included, from the
// store. A deleted account gives ErrInvalidToken and a disabled one
// ErrAccountDisabled.
func (s *Service) current(ctx context.Context, p Principal) (Account, error) {
	a, err := s.accounts.ByUUID(ctx, p.AccountUUID)
	switch {
	case errors.Is(err, ErrNotFound):
		return Account{}, ErrInvalidToken
	case err != nil:
		return Account{}, fmt.Errorf("find account: %w", err)
	case a.Disabled:
		return Account{}, ErrAccountDisabled
	}
	return a, nil
}

// VerifyPassword checks the caller's password. It returns ErrInvalidPassword
// when it is wrong.
func (s *Service) VerifyPassword(ctx context.Context, p Principal, password string) error {
	a, err := s.current(ctx, p)
	if err != nil {
		return err
	}
	return s.compare(ctx, a.PasswordHash, password)
}

// ChangePassword replaces the caller's password and revokes every other
// session of the account; the caller's session goes on. It returns a
// *ValidationError for an unacceptable new password, ErrInvalidPassword when
// the old one is wrong and ErrPasswordUnchanged when they are equal.
func (s *Service) ChangePassword(ctx context.Context, p Principal, oldPassword, newPassword string) error {
	a, err := s.current(ctx, p)
	if err != nil {
		return err
	}
	var v ValidationError
	checkPassword(&v, "new_password", newPassword, a.AccountID)
	if err := v.orNil(); err != nil {
		return err
	}
	if err := s.compare(ctx, a.PasswordHash, oldPassword); err != nil {
		return err
	}
	if newPassword == oldPassword {
		return ErrPasswordUnchanged
	}
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	if err := s.accounts.UpdatePasswordHash(ctx, a.UUID, hash); err != nil {
		return fmt.Errorf("update password: %w", err)
	}
	ids, err := s.sessions.RevokeAll(ctx, a.UUID, p.SessionID, s.cfg.Now())
	if err != nil {
		return fmt.Errorf("revoke other sessions: %w", err)
	}
	if err := s.revokeAccess(ctx, ids); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "password changed", slog.String("event", "password_changed"),
		slog.String("account_uuid", a.UUID), slog.Int("sessions_revoked", len(ids)))
	s.observer().SessionsRevoked(RevokePasswordChange, len(ids))
	return nil
}

// Sessions lists the caller's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, p Principal) ([]Session, error) {
	list, err := s.sessions.Active(ctx, p.AccountUUID, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return list, nil
}

// RevokeSession ends one of the caller's sessions. It returns
// ErrSessionNotFound when the caller has no such live session.
func (s *Service) RevokeSession(ctx context.Context, p Principal, sessionID string) error {
	err := s.sessions.Revoke(ctx, p.AccountUUID, sessionID, s.cfg.Now())
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrSessionNotFound
	case err != nil:
		return fmt.Errorf("revoke session: %w", err)
	}
	if err := s.revokeAccess(ctx, []string{sessionID}); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "session revoked", slog.String("event", "session_revoked"),
		slog.String("account_uuid", p.AccountUUID), slog.String("session_id", sessionID))
	s.observer().SessionsRevoked(RevokeSessionDelete, 1)
	return nil
}
