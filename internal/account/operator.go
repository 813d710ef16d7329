package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Bounds of ListAccounts' limit.
const (
	DefaultAccountListLimit = 50
	MaxAccountListLimit     = 1000
)

// OperatorResult is what an operator's command did to an account.
type OperatorResult struct {
	// Account is the account as the command found it, without its
	// password hash.
	Account Account
	// SessionsRevoked is how many sessions the command revoked.
	SessionsRevoked int
}

// AccountInfo is an account as an operator inspects it.
type AccountInfo struct {
	// Account has no password hash.
	Account Account
	// Sessions are the account's live sessions, newest first.
	Sessions []Session
}

// FindAccount finds the account that ref names: a UUID names the account
// with it, anything else (or a UUID that names none) an account id, in any
// case. The account comes without its password hash. It returns ErrNotFound
// when ref names no account.
func (s *Service) FindAccount(ctx context.Context, ref string) (Account, error) {
	a, err := s.findAccount(ctx, ref)
	a.PasswordHash = ""
	return a, err
}

// findAccount is FindAccount with the password hash.
func (s *Service) findAccount(ctx context.Context, ref string) (Account, error) {
	a, err := s.accounts.ByUUID(ctx, ref)
	if errors.Is(err, ErrNotFound) && ValidAccountID(ref) {
		a, err = s.accounts.ByAccountID(ctx, ref)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return Account{}, ErrNotFound
	case err != nil:
		return Account{}, fmt.Errorf("find account: %w", err)
	}
	return a, nil
}

// InspectAccount returns the account that ref names with its live
// sessions. It returns ErrNotFound when there is none.
func (s *Service) InspectAccount(ctx context.Context, ref string) (AccountInfo, error) {
	a, err := s.FindAccount(ctx, ref)
	if err != nil {
		return AccountInfo{}, err
	}
	list, err := s.sessions.Active(ctx, a.UUID, s.cfg.Now())
	if err != nil {
		return AccountInfo{}, fmt.Errorf("list sessions: %w", err)
	}
	return AccountInfo{Account: a, Sessions: list}, nil
}

// ListAccounts returns at most limit accounts whose account id contains
// query, ignoring case, in the order of their account ids; without their
// password hashes. It returns a *ValidationError for a limit outside 1 to
// MaxAccountListLimit.
func (s *Service) ListAccounts(ctx context.Context, query string, limit int) ([]Account, error) {
	if limit < 1 || limit > MaxAccountListLimit {
		var v ValidationError
		v.add("limit", "range", fmt.Sprintf("Input should be from 1 to %d", MaxAccountListLimit))
		return nil, &v
	}
	list, err := s.accounts.List(ctx, query, limit)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	for i := range list {
		list[i].PasswordHash = ""
	}
	return list, nil
}

// DisableAccount disables the account that ref names and revokes all its
// sessions, on every instance: its tokens stop working at once, and it
// cannot log in until enabled. c is the operator, for the events. It
// returns ErrNotFound when ref names no account.
func (s *Service) DisableAccount(ctx context.Context, ref string, c Client) (OperatorResult, error) {
	a, err := s.FindAccount(ctx, ref)
	if err != nil {
		return OperatorResult{}, err
	}
	ids, err := s.accounts.Disable(ctx, a.UUID)
	if err != nil {
		return OperatorResult{}, fmt.Errorf("disable account: %w", err)
	}
	if err := s.revokeAccess(ctx, ids); err != nil {
		return OperatorResult{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "account disabled", slog.String("event", "account_disabled"),
		slog.String("account_uuid", a.UUID), slog.Int("sessions_revoked", len(ids)))
	s.observer().SessionsRevoked(RevokeAccountDisable, len(ids))
	s.record(ctx, append([]Event{s.event(a.UUID, EventAccountDisabled, "", c)},
		s.sessionEvents(a.UUID, EventSessionRevoked, ids, c)...)...)
	a.Disabled = true
	return OperatorResult{Account: a, SessionsRevoked: len(ids)}, nil
}

// EnableAccount enables the account that ref names. Its sessions stay
// revoked: its user logs in again. It returns ErrNotFound when ref names no
// account.
func (s *Service) EnableAccount(ctx context.Context, ref string, c Client) (OperatorResult, error) {
	a, err := s.FindAccount(ctx, ref)
	if err != nil {
		return OperatorResult{}, err
	}
	if err := s.accounts.Enable(ctx, a.UUID); err != nil {
		return OperatorResult{}, fmt.Errorf("enable account: %w", err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "account enabled", slog.String("event", "account_enabled"),
		slog.String("account_uuid", a.UUID))
	s.record(ctx, s.event(a.UUID, EventAccountEnabled, "", c))
	a.Disabled = false
	return OperatorResult{Account: a}, nil
}

// RevokeAccountSessions revokes every live session of the account that ref
// names, on every instance. It returns ErrNotFound when ref names no
// account.
func (s *Service) RevokeAccountSessions(ctx context.Context, ref string, c Client) (OperatorResult, error) {
	a, err := s.FindAccount(ctx, ref)
	if err != nil {
		return OperatorResult{}, err
	}
	ids, err := s.sessions.RevokeAll(ctx, a.UUID, "", s.cfg.Now())
	if err != nil {
		return OperatorResult{}, fmt.Errorf("revoke sessions: %w", err)
	}
	if err := s.revokeAccess(ctx, ids); err != nil {
		return OperatorResult{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "sessions revoked by operator", slog.String("event", "session_revoked"),
		slog.String("account_uuid", a.UUID), slog.Int("sessions", len(ids)))
	s.observer().SessionsRevoked(RevokeOperator, len(ids))
	s.record(ctx, s.sessionEvents(a.UUID, EventSessionRevoked, ids, c)...)
	return OperatorResult{Account: a, SessionsRevoked: len(ids)}, nil
}

// errPasswordRaced is returned by SetPassword when the account's password
// changed while the new one was being hashed.
var errPasswordRaced = errors.New("the password changed meanwhile; try again")

// SetPassword gives the account that ref names a new password, under the
// same policy as registration (the breached list included), and revokes
// every session of the account. It returns a *ValidationError for an
// unacceptable password and ErrNotFound when ref names no account.
func (s *Service) SetPassword(ctx context.Context, ref, password string, c Client) (OperatorResult, error) {
	a, err := s.findAccount(ctx, ref)
	if err != nil {
		return OperatorResult{}, err
	}
	var v ValidationError
	checkPassword(&v, "password", password, a.AccountID)
	if err := v.orNil(); err != nil {
		return OperatorResult{}, err
	}
	if err := s.checkBreached(ctx, "password", password); err != nil {
		return OperatorResult{}, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return OperatorResult{}, err
	}
	ids, err := s.accounts.ChangePassword(ctx, PasswordChange{
		AccountUUID: a.UUID, OldHash: a.PasswordHash, NewHash: hash, Now: s.cfg.Now(),
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return OperatorResult{}, fmt.Errorf("set password: %w", errPasswordRaced)
	case err != nil:
		return OperatorResult{}, fmt.Errorf("set password: %w", err)
	}
	if err := s.revokeAccess(ctx, ids); err != nil {
		return OperatorResult{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "password set by operator", slog.String("event", "password_changed"),
		slog.String("account_uuid", a.UUID), slog.Int("sessions_revoked", len(ids)))
	s.observer().SessionsRevoked(RevokePasswordChange, len(ids))
	s.record(ctx, append([]Event{s.event(a.UUID, EventPasswordChanged, "", c)},
		s.sessionEvents(a.UUID, EventSessionRevoked, ids, c)...)...)
	a.PasswordHash = ""
	return OperatorResult{Account: a, SessionsRevoked: len(ids)}, nil
}

// RemoveAccount deletes the account that ref names as DeleteAccount does,
// without a password. It returns ErrNotFound when ref names no account.
func (s *Service) RemoveAccount(ctx context.Context, ref string, c Client) (OperatorResult, error) {
	a, err := s.FindAccount(ctx, ref)
	if err != nil {
		return OperatorResult{}, err
	}
	n, err := s.deleteAccount(ctx, a, c)
	if err != nil {
		return OperatorResult{}, err
	}
	return OperatorResult{Account: a, SessionsRevoked: n}, nil
}

// AccountEvents returns a page of the security history of the account that
// ref names, newest first. It returns ErrNotFound when ref names no account
// and a *ValidationError for a bad query.
func (s *Service) AccountEvents(ctx context.Context, ref string, q EventQuery) ([]Event, error) {
	a, err := s.FindAccount(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.accountEvents(ctx, a.UUID, q)
}
