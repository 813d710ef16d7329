package account

import (
	"context"
	"errors"
	"time"
)

// Errors of second factors; internal/http maps each to a status and a code.
var (
	// ErrMFARequired is a right password for an account with a second
	// factor; the login goes on with the MFARequiredError's token.
	ErrMFARequired = errors.New("second factor required")
	// ErrInvalidMFACode is a wrong, malformed-but-plausible or replayed
	// TOTP code or recovery code.
	ErrInvalidMFACode = errors.New("invalid second factor code")
	// ErrTOTPEnabled is an enrolment while TOTP is already on.
	ErrTOTPEnabled = errors.New("totp already enabled")
	// ErrTOTPNotPending is a confirmation without a pending enrolment.
	ErrTOTPNotPending = errors.New("no totp enrolment to confirm")
	// ErrTOTPNotEnabled is turning off a TOTP that is not on.
	ErrTOTPNotEnabled = errors.New("totp not enabled")
	// ErrCodeReplayed is a TOTP step at or before the last one accepted.
	ErrCodeReplayed = errors.New("totp code already used")
)

// MFARequiredError says that the password was right and the login must be
// finished with a second factor and Token, a single-use mfa_token.
type MFARequiredError struct {
	Token string
}

func (e *MFARequiredError) Error() string { return ErrMFARequired.Error() }

// Is makes errors.Is(err, ErrMFARequired) true for an MFARequiredError.
func (e *MFARequiredError) Is(target error) bool { return target == ErrMFARequired }

// Factors says which second factors an account has.
type Factors struct {
	// TOTP is true once a TOTP secret is confirmed.
	TOTP bool
	// Passkeys counts the account's passkeys.
	Passkeys int
	// RecoveryCodesLeft counts the recovery codes not used yet.
	RecoveryCodesLeft int
}

// TOTPSecret is an account's TOTP secret and its state.
type TOTPSecret struct {
	// ID tells enrolments apart: a confirmation confirms the enrolment it
	// checked the code of, not one that replaced it meanwhile.
	ID          int64
	AccountUUID string
	// Secret is the base32 secret, as authenticator apps take it. Stores
	// keep it encrypted at rest.
	Secret    string
	Confirmed bool
	CreatedAt time.Time
}

// TOTPConfirmation asks FactorStore.ConfirmTOTP to turn a pending secret on.
type TOTPConfirmation struct {
	AccountUUID string
	// ID is the pending enrolment whose code was checked.
	ID int64
	// Step is the time step of the code that confirmed it: it and earlier
	// steps are used.
	Step int64
	// RecoveryCodeHashes replace the account's recovery codes.
	RecoveryCodeHashes [][]byte
	Now                time.Time
}

// FactorStore keeps the second factors of accounts.
type FactorStore interface {
	// Factors returns which second factors the account has; none for an
	// account that does not exist.
	Factors(ctx context.Context, accountUUID string) (Factors, error)
	// PutPendingTOTP stores a new pending secret for the account, in place
	// of any pending one, and returns it with its ID. It returns
	// ErrTOTPEnabled when the account's TOTP is on, and ErrNotFound when
	// there is no such account.
	PutPendingTOTP(ctx context.Context, accountUUID, secret string, now time.Time) (TOTPSecret, error)
	// TOTP returns the account's secret, pending or confirmed. It returns
	// ErrNotFound when there is none.
	TOTP(ctx context.Context, accountUUID string) (TOTPSecret, error)
	// ConfirmTOTP turns the pending secret c.ID on, records c.Step as its
	// last used step and replaces the account's recovery codes, in one
	// transaction. It returns ErrTOTPNotPending when c.ID is no longer the
	// account's pending secret.
	ConfirmTOTP(ctx context.Context, c TOTPConfirmation) error
	// UseTOTPStep records step as the last used step of the account's
	// confirmed secret, if it is later than the last one, atomically. It
	// returns ErrCodeReplayed when it is not, and ErrTOTPNotEnabled when the
	// account has no confirmed secret.
	UseTOTPStep(ctx context.Context, accountUUID string, step int64) error
	// UseRecoveryCode marks the account's unused recovery code of the hash
	// used, atomically. It returns ErrNotFound when there is no such unused
	// code.
	UseRecoveryCode(ctx context.Context, accountUUID string, hash []byte, now time.Time) error
	// DeleteTOTP deletes the account's confirmed secret and its recovery
	// codes. It returns ErrTOTPNotEnabled when there is no confirmed secret.
	DeleteTOTP(ctx context.Context, accountUUID string) error
}

// OTP makes and checks time-based one-time codes (RFC 6238).
// security.TOTP implements it.
type OTP interface {
	// NewSecret returns a new random secret and its otpauth:// URI, which
	// names accountName.
	NewSecret(accountName string) (secret, uri string, err error)
	// Verify reports whether code is valid for secret at now, within the
	// allowed skew, and returns the time step it belongs to.
	Verify(secret, code string, now time.Time) (step int64, ok bool)
}
