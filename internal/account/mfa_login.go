package account

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/accountd/accountd/internal/security"
)

// Bounds of the second step of a login.
const (
	// MFATokenTTL is how long an mfa_token waits for its second factor.
	MFATokenTTL = 5 * time.Minute
	// MaxMFAFailures wrong codes burn an mfa_token.
	MaxMFAFailures = 5
)

// MFAChallenge is a login whose password was right and that waits for its
// second factor.
type MFAChallenge struct {
	AccountUUID string
	// PasswordFingerprint is the SHA-256 of the password hash that the
	// login verified: a password change meanwhile voids the challenge.
	PasswordFingerprint []byte
	ExpiresAt           time.Time
}

// MFAChallenges keeps the logins that wait for their second factor, each
// under the hash of its mfa_token, in storage that every instance shares.
type MFAChallenges interface {
	// Put stores c under hash; storage may forget it after ttl.
	Put(ctx context.Context, hash []byte, c MFAChallenge, ttl time.Duration) error
	// Get returns the challenge stored under hash. It returns ErrNotFound
	// when there is none (never stored, forgotten, burned or taken).
	Get(ctx context.Context, hash []byte) (MFAChallenge, error)
	// Fail counts a wrong code against the challenge, atomically, and
	// deletes it with the maxFailures-th. It returns ErrNotFound when there
	// is no such challenge.
	Fail(ctx context.Context, hash []byte, maxFailures int) error
	// Take deletes the challenge, atomically: of racing callers, one alone
	// gets nil; the others get ErrNotFound.
	Take(ctx context.Context, hash []byte) error
}

// MFAAttempt is the second step of a login: its mfa_token and either a TOTP
// code or a recovery code.
type MFAAttempt struct {
	Token        string
	Code         string
	RecoveryCode string
}

// factor is what the attempt offers.
func (m MFAAttempt) factor() Factor {
	if m.RecoveryCode != "" && m.Code == "" {
		return FactorRecoveryCode
	}
	return FactorTOTP
}

// check returns a *ValidationError unless the attempt offers exactly one
// factor, and a TOTP code in its form.
func (m MFAAttempt) check() error {
	var v ValidationError
	switch {
	case m.Code == "" && m.RecoveryCode == "":
		v.add("code", "missing", "Field required: give code or recovery_code")
	case m.Code != "" && m.RecoveryCode != "":
		v.add("recovery_code", "value_error", "Give code or recovery_code, not both")
	case m.Code != "":
		checkTOTPCode(&v, "code", m.Code)
	}
	return v.orNil()
}

// requireSecondFactor starts the second step of the login of a, whose
// password the caller has just verified, when a has a second factor: it
// returns an *MFARequiredError with the mfa_token to finish it. It returns
// nil for an account without one, which logs in at once.
func (s *Service) requireSecondFactor(ctx context.Context, a Account, password string, c Client) error {
	if s.cfg.Factors == nil {
		return nil
	}
	f, err := s.cfg.Factors.Factors(ctx, a.UUID)
	if err != nil {
		return fmt.Errorf("find second factors: %w", err)
	}
	if !f.TOTP {
		return nil
	}
	if s.cfg.Challenges == nil {
		// Never let a factor be skipped for want of somewhere to wait for it.
		return fmt.Errorf("%w: second factors have no challenge store", ErrUnavailable)
	}
	// The password is at hand only now: rehash here, and bind the
	// challenge to the hash in force afterwards.
	if s.hasher.NeedsRehash(a.PasswordHash) {
		s.rehash(ctx, a, password)
		if fresh, err := s.accounts.ByUUID(ctx, a.UUID); err == nil {
			a = fresh
		}
	}
	token := security.NewRefreshToken()
	err = s.cfg.Challenges.Put(ctx, security.HashToken(token), MFAChallenge{
		AccountUUID: a.UUID, PasswordFingerprint: security.HashToken(a.PasswordHash),
		ExpiresAt: s.cfg.Now().Add(MFATokenTTL),
	}, MFATokenTTL)
	if err != nil {
		return fmt.Errorf("store mfa challenge: %w", err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "second factor required", slog.String("event", "mfa_required"),
		slog.String("account_uuid", a.UUID), slog.String("client_ip", c.IPAddress))
	return &MFARequiredError{Token: token}
}

// LoginMFA finishes a login that Login answered with an *MFARequiredError:
// with a right code of the account's TOTP, or one of its unused recovery
// codes, it starts a session whose amr is pwd and otp. It returns a
// *ValidationError unless exactly one factor is given; ErrInvalidToken for
// an mfa_token that is unknown, expired, burned, used, or voided by a
// password change; ErrAccountDisabled; a *RateLimitError while the account
// is locked out; and ErrInvalidMFACode for a wrong or replayed code, which
// counts toward the account's lock-out; a wrong one, the MaxMFAFailures-th
// time, also burns the mfa_token.
func (s *Service) LoginMFA(ctx context.Context, m MFAAttempt, c Client) (_ Tokens, err error) {
	defer func() { s.observer().MFALogin(m.factor(), mfaOutcome(err)) }()
	if err := m.check(); err != nil {
		return Tokens{}, err
	}
	if s.cfg.Factors == nil || s.cfg.Challenges == nil || m.Token == "" || len(m.Token) > maxTokenLength {
		return Tokens{}, ErrInvalidToken
	}
	hash := security.HashToken(m.Token)
	a, err := s.challenged(ctx, hash)
	if err != nil {
		return Tokens{}, err
	}
	if err := s.checkLockout(ctx, a.AccountID, c); err != nil {
		return Tokens{}, err
	}
	if err := s.useFactor(ctx, a, m.Code, m.RecoveryCode, c); err != nil {
		if !errors.Is(err, ErrInvalidMFACode) {
			return Tokens{}, err
		}
		// A replayed code is a right one that a racing request with the
		// same code used first: not a guess, so it does not burn the
		// mfa_token, which that request is about to take.
		if !errors.Is(err, ErrCodeReplayed) {
			if err := s.cfg.Challenges.Fail(ctx, hash, MaxMFAFailures); err != nil && !errors.Is(err, ErrNotFound) {
				return Tokens{}, fmt.Errorf("count mfa failure: %w", err)
			}
		}
		// A wrong second factor is a failed login by someone who knows the
		// password: the account's history must show it.
		s.record(ctx, s.event(a.UUID, EventLoginFailed, "", c))
		return Tokens{}, s.wrongCode(ctx, a, c)
	}
	switch err := s.cfg.Challenges.Take(ctx, hash); {
	case errors.Is(err, ErrNotFound):
		// A racing request with the same mfa_token finished first.
		return Tokens{}, ErrInvalidToken
	case err != nil:
		return Tokens{}, fmt.Errorf("take mfa challenge: %w", err)
	}
	return s.startSession(ctx, a, c, []string{MethodPassword, MethodOTP})
}

// challenged returns the account of the live challenge stored under hash:
// ErrInvalidToken when there is none, it expired, its account is gone or
// its password changed since; ErrAccountDisabled for a disabled account.
func (s *Service) challenged(ctx context.Context, hash []byte) (Account, error) {
	ch, err := s.cfg.Challenges.Get(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return Account{}, ErrInvalidToken
	case err != nil:
		return Account{}, fmt.Errorf("find mfa challenge: %w", err)
	case !s.cfg.Now().Before(ch.ExpiresAt):
		return Account{}, ErrInvalidToken
	}
	a, err := s.accounts.ByUUID(ctx, ch.AccountUUID)
	switch {
	case errors.Is(err, ErrNotFound):
		return Account{}, ErrInvalidToken
	case err != nil:
		return Account{}, fmt.Errorf("find account: %w", err)
	case !bytes.Equal(security.HashToken(a.PasswordHash), ch.PasswordFingerprint):
		return Account{}, ErrInvalidToken
	case a.Disabled:
		return Account{}, ErrAccountDisabled
	}
	return a, nil
}

// wrongCode counts a wrong second factor toward the account's lock-out, as
// a wrong password is, and returns ErrInvalidMFACode, or the limiter's
// error when it could not count it.
func (s *Service) wrongCode(ctx context.Context, a Account, c Client) error {
	s.log.LogAttrs(ctx, slog.LevelWarn, "second factor failed", slog.String("event", "mfa_failed"),
		slog.String("account_uuid", a.UUID), slog.String("client_ip", c.IPAddress))
	if err := s.countFailure(ctx, a.AccountID, a.UUID, c); err != nil {
		return err
	}
	return ErrInvalidMFACode
}
