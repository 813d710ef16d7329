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

// VerifyPassword checks the caller's password. It returns
// ErrInvalidPassword when it is wrong. Wrong passwords count toward the
// account's lock-out, as at login, and a locked-out account gets a
// *RateLimitError even for the right one.
func (s *Service) VerifyPassword(ctx context.Context, p Principal, password string, c Client) error {
	a, err := s.current(ctx, p)
	if err != nil {
		return err
	}
	return s.confirmPassword(ctx, a, password, c)
}

// confirmPassword checks a signed-in caller's password against the account's
// hash, under the account's lock-out: ErrInvalidPassword when it is wrong,
// a *RateLimitError while the account id is locked out.
func (s *Service) confirmPassword(ctx context.Context, a Account, password string, c Client) error {
	if err := s.checkLockout(ctx, a.AccountID, c); err != nil {
		return err
	}
	err := s.compare(ctx, a.PasswordHash, password)
	if !errors.Is(err, ErrInvalidPassword) {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "password check failed", slog.String("event", "password_check_failed"),
		slog.String("account_uuid", a.UUID), slog.String("client_ip", c.IPAddress))
	if err := s.countFailure(ctx, a.AccountID, a.UUID, c); err != nil {
		return err
	}
	return ErrInvalidPassword
}

// ChangePassword replaces the caller's password and revokes every other
// session of the account, in one transaction; the caller's session goes on.
// It returns a *ValidationError for an unacceptable new password (code
// CodePasswordBreached for one in the list of breached passwords),
// ErrInvalidPassword when the old one is wrong (counted like a failed login)
// or was changed meanwhile, and ErrPasswordUnchanged when they are equal.
func (s *Service) ChangePassword(ctx context.Context, p Principal, oldPassword, newPassword string, c Client) error {
	a, err := s.current(ctx, p)
	if err != nil {
		return err
	}
	var v ValidationError
	checkPassword(&v, "new_password", newPassword, a.AccountID)
	if err := v.orNil(); err != nil {
		return err
	}
	if err := s.checkBreached(ctx, "new_password", newPassword); err != nil {
		return err
	}
	if err := s.confirmPassword(ctx, a, oldPassword, c); err != nil {
		return err
	}
	if newPassword == oldPassword {
		return ErrPasswordUnchanged
	}
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	ids, err := s.accounts.ChangePassword(ctx, PasswordChange{
		AccountUUID: a.UUID, OldHash: a.PasswordHash, NewHash: hash, KeepSession: p.SessionID, Now: s.cfg.Now(),
	})
	switch {
	case errors.Is(err, ErrNotFound):
		// Another change won the race: the old password is no longer it.
		return ErrInvalidPassword
	case err != nil:
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.revokeAccess(ctx, ids); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "password changed", slog.String("event", "password_changed"),
		slog.String("account_uuid", a.UUID), slog.Int("sessions_revoked", len(ids)))
	s.record(ctx, append([]Event{s.event(a.UUID, EventPasswordChanged, p.SessionID, c)},
		s.sessionEvents(a.UUID, EventSessionRevoked, ids, c)...)...)
	s.observer().SessionsRevoked(RevokePasswordChange, len(ids))
	return nil
}
