package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/accountd/accountd/internal/security"
)

// TOTPIssuer is the issuer that otpauth URIs name: what authenticator apps
// show above the code.
const TOTPIssuer = "accountd"

// RecoveryCodeCount is how many recovery codes a confirmed TOTP comes with.
const RecoveryCodeCount = 10

// TOTPEnrolment is a new pending TOTP secret, to be shown to its owner
// once, as text and as an otpauth:// URI (a QR code's content).
type TOTPEnrolment struct {
	Secret string
	URI    string
}

// MFAStatus returns which second factors the caller has.
func (s *Service) MFAStatus(ctx context.Context, p Principal) (Factors, error) {
	if s.cfg.Factors == nil {
		return Factors{}, nil
	}
	f, err := s.cfg.Factors.Factors(ctx, p.AccountUUID)
	if err != nil {
		return Factors{}, fmt.Errorf("find second factors: %w", err)
	}
	return f, nil
}

// EnrollTOTP makes a new TOTP secret for the caller, pending until
// ConfirmTOTP checks a first code of it; it replaces a pending one. It
// returns ErrInvalidPassword for a wrong password (counted toward the
// lock-out, as for VerifyPassword) and ErrTOTPEnabled when TOTP is on.
func (s *Service) EnrollTOTP(ctx context.Context, p Principal, password string, c Client) (TOTPEnrolment, error) {
	a, err := s.current(ctx, p)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	f, err := s.MFAStatus(ctx, p)
	switch {
	case err != nil:
		return TOTPEnrolment{}, err
	case s.cfg.Factors == nil:
		return TOTPEnrolment{}, fmt.Errorf("%w: second factors are not configured", ErrUnavailable)
	case f.TOTP:
		return TOTPEnrolment{}, ErrTOTPEnabled
	}
	if err := s.confirmPassword(ctx, a, password, c); err != nil {
		return TOTPEnrolment{}, err
	}
	secret, uri, err := s.cfg.OTP.NewSecret(a.AccountID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	_, err = s.cfg.Factors.PutPendingTOTP(ctx, a.UUID, secret, s.cfg.Now())
	switch {
	case errors.Is(err, ErrNotFound):
		return TOTPEnrolment{}, ErrInvalidToken
	case errors.Is(err, ErrTOTPEnabled):
		return TOTPEnrolment{}, ErrTOTPEnabled
	case err != nil:
		return TOTPEnrolment{}, fmt.Errorf("store totp secret: %w", err)
	}
	return TOTPEnrolment{Secret: secret, URI: uri}, nil
}

// ConfirmTOTP turns the caller's pending TOTP on with a first code of it
// and returns RecoveryCodeCount new recovery codes, which are stored only
// hashed: this is the one time they are shown. It returns a
// *ValidationError for a code that is not six digits, ErrTOTPNotPending
// without a pending secret, ErrTOTPEnabled when TOTP is already on, and
// ErrInvalidMFACode for a wrong code.
func (s *Service) ConfirmTOTP(ctx context.Context, p Principal, code string, c Client) ([]string, error) {
	var v ValidationError
	checkTOTPCode(&v, "code", code)
	if err := v.orNil(); err != nil {
		return nil, err
	}
	a, err := s.current(ctx, p)
	if err != nil {
		return nil, err
	}
	if s.cfg.Factors == nil {
		return nil, ErrTOTPNotPending
	}
	secret, err := s.cfg.Factors.TOTP(ctx, a.UUID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrTOTPNotPending
	case err != nil:
		return nil, fmt.Errorf("find totp secret: %w", err)
	case secret.Confirmed:
		return nil, ErrTOTPEnabled
	}
	step, ok := s.cfg.OTP.Verify(secret.Secret, normalizeCode(code), s.cfg.Now())
	if !ok {
		return nil, ErrInvalidMFACode
	}
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		codes[i] = security.NewRecoveryCode()
		hashes[i] = security.HashRecoveryCode(codes[i])
	}
	err = s.cfg.Factors.ConfirmTOTP(ctx, TOTPConfirmation{
		AccountUUID: a.UUID, ID: secret.ID, Step: step, RecoveryCodeHashes: hashes, Now: s.cfg.Now(),
	})
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "second factor enabled", slog.String("event", "mfa_enabled"),
		slog.String("account_uuid", a.UUID), slog.String("client_ip", c.IPAddress))
	s.record(ctx, s.event(a.UUID, EventMFAEnabled, p.SessionID, c))
	return codes, nil
}

// DisableTOTP turns the caller's TOTP off and deletes its recovery codes.
// It takes the password and a code: a TOTP code or, for whoever lost the
// authenticator, a recovery code. It returns ErrTOTPNotEnabled when TOTP is
// off, ErrInvalidPassword for a wrong password and ErrInvalidMFACode for a
// wrong code, both counted toward the account's lock-out.
func (s *Service) DisableTOTP(ctx context.Context, p Principal, password, code string, c Client) error {
	a, err := s.current(ctx, p)
	if err != nil {
		return err
	}
	f, err := s.MFAStatus(ctx, p)
	switch {
	case err != nil:
		return err
	case !f.TOTP:
		return ErrTOTPNotEnabled
	}
	if err := s.confirmPassword(ctx, a, password, c); err != nil {
		return err
	}
	totpCode, recoveryCode := code, ""
	if _, ok := parseTOTPCode(code); !ok {
		totpCode, recoveryCode = "", code
	}
	if err := s.useFactor(ctx, a, totpCode, recoveryCode, c); err != nil {
		if errors.Is(err, ErrInvalidMFACode) {
			return s.wrongCode(ctx, a, c)
		}
		return err
	}
	if err := s.cfg.Factors.DeleteTOTP(ctx, a.UUID); err != nil {
		return fmt.Errorf("delete totp: %w", err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "second factor disabled", slog.String("event", "mfa_disabled"),
		slog.String("account_uuid", a.UUID), slog.String("client_ip", c.IPAddress))
	s.record(ctx, s.event(a.UUID, EventMFADisabled, p.SessionID, c))
	return nil
}

// useFactor checks and uses up a TOTP code (when code is set) or a
// recovery code of the account: a code of a TOTP step is accepted once,
// and only if no later step was; a recovery code once. It returns
// ErrInvalidMFACode for a wrong, replayed or used code.
func (s *Service) useFactor(ctx context.Context, a Account, code, recoveryCode string, c Client) error {
	if code == "" {
		err := s.cfg.Factors.UseRecoveryCode(ctx, a.UUID, security.HashRecoveryCode(recoveryCode), s.cfg.Now())
		switch {
		case errors.Is(err, ErrNotFound):
			return ErrInvalidMFACode
		case err != nil:
			return fmt.Errorf("use recovery code: %w", err)
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "recovery code used", slog.String("event", "recovery_code_used"),
			slog.String("account_uuid", a.UUID), slog.String("client_ip", c.IPAddress))
		s.record(ctx, s.event(a.UUID, EventRecoveryCodeUsed, "", c))
		return nil
	}
	secret, err := s.cfg.Factors.TOTP(ctx, a.UUID)
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrInvalidMFACode
	case err != nil:
		return fmt.Errorf("find totp secret: %w", err)
	case !secret.Confirmed:
		return ErrInvalidMFACode
	}
	step, ok := s.cfg.OTP.Verify(secret.Secret, normalizeCode(code), s.cfg.Now())
	if !ok {
		return ErrInvalidMFACode
	}
	err = s.cfg.Factors.UseTOTPStep(ctx, a.UUID, step)
	switch {
	case errors.Is(err, ErrCodeReplayed):
		s.log.LogAttrs(ctx, slog.LevelWarn, "totp code replayed", slog.String("event", "mfa_code_replayed"),
			slog.String("account_uuid", a.UUID), slog.String("client_ip", c.IPAddress))
		return fmt.Errorf("%w: %w", ErrInvalidMFACode, ErrCodeReplayed)
	case errors.Is(err, ErrTOTPNotEnabled):
		return ErrInvalidMFACode
	case err != nil:
		return fmt.Errorf("use totp step: %w", err)
	}
	return nil
}

// totpCodeDigits is the length of a TOTP code.
const totpCodeDigits = 6

// normalizeCode drops the spaces that apps show inside codes ("123 456").
func normalizeCode(code string) string { return strings.ReplaceAll(code, " ", "") }

// parseTOTPCode returns code without spaces, and whether that is six
// digits.
func parseTOTPCode(code string) (string, bool) {
	code = normalizeCode(code)
	if len(code) != totpCodeDigits {
		return code, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return code, false
		}
	}
	return code, true
}

// checkTOTPCode adds a problem to v unless code is six digits.
func checkTOTPCode(v *ValidationError, field, code string) {
	if _, ok := parseTOTPCode(code); !ok {
		v.add(field, "string_pattern_mismatch", "String should match pattern '^[0-9]{6}$'")
	}
}
