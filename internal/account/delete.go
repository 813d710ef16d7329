package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// DeleteAccount deletes the caller's account once its password is
// confirmed: every session of the account is revoked on every instance and
// its rows (sessions, refresh tokens, events) are deleted, in one
// transaction, so that its account id can be registered again. It returns
// ErrInvalidPassword for a wrong password (counted like a failed login), a
// *RateLimitError while the account id is locked out, and ErrInvalidToken
// when the account is already gone.
func (s *Service) DeleteAccount(ctx context.Context, p Principal, password string, c Client) error {
	a, err := s.current(ctx, p)
	if err != nil {
		return err
	}
	if err := s.confirmPassword(ctx, a, password, c); err != nil {
		return err
	}
	_, err = s.deleteAccount(ctx, a, c)
	if errors.Is(err, ErrNotFound) {
		return ErrInvalidToken // another deletion won the race
	}
	return err
}

// deleteAccount deletes a and makes the access tokens of every session it
// revoked fail on every instance. The store leaves the revocations in the
// durable record that every instance polls, so they hold even if the
// announcement is lost. It returns how many sessions it revoked, and
// ErrNotFound when the account is gone.
func (s *Service) deleteAccount(ctx context.Context, a Account, c Client) (int, error) {
	ids, err := s.accounts.Delete(ctx, a.UUID)
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, ErrNotFound
	case err != nil:
		return 0, fmt.Errorf("delete account: %w", err)
	}
	if err := s.revokeAccess(ctx, ids); err != nil {
		return 0, err
	}
	// The account's events went with it: this line is the deletion's record.
	s.log.LogAttrs(ctx, slog.LevelInfo, "account deleted", slog.String("event", "account_deleted"),
		slog.String("account_uuid", a.UUID), slog.Int("sessions_revoked", len(ids)),
		slog.String("client_ip", c.IPAddress), slog.String("user_agent", c.UserAgent))
	s.observer().SessionsRevoked(RevokeAccountDelete, len(ids))
	return len(ids), nil
}
