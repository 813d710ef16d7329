package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/keys"
)

var _ account.FactorStore = (*FactorStore)(nil)

// TOTPSecretPurpose binds the key that seals TOTP secrets at rest to that
// one use (the HKDF info under SECRET_KEY).
const TOTPSecretPurpose = "accountd totp secrets at rest v1" //nolint:gosec // G101: an HKDF label, not a credential

// FactorStore keeps second factors in the totp_secrets and recovery_codes
// tables. TOTP secrets are sealed by its cipher, each bound to its account.
type FactorStore struct {
	pool   *pgxpool.Pool
	cipher *keys.Cipher
}

// NewFactorStore returns a FactorStore that uses pool and seals TOTP
// secrets with cipher, made for TOTPSecretPurpose (a cipher of no secret
// stores them in the clear).
func NewFactorStore(pool *pgxpool.Pool, cipher *keys.Cipher) *FactorStore {
	return &FactorStore{pool: pool, cipher: cipher}
}

const (
	factorsSQL = `
SELECT EXISTS (SELECT 1 FROM totp_secrets WHERE account_uuid = $1 AND confirmed_at IS NOT NULL),
       (SELECT count(*) FROM recovery_codes WHERE account_uuid = $1 AND used_at IS NULL),
       (SELECT count(*) FROM passkeys WHERE account_uuid = $1)`

	// A pending secret is replaced, with a new id; a confirmed one stays,
	// and then no row comes back.
	putPendingTOTPSQL = `
INSERT INTO totp_secrets (account_uuid, secret, encrypted, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (account_uuid) DO UPDATE
SET id = DEFAULT, secret = EXCLUDED.secret, encrypted = EXCLUDED.encrypted,
    created_at = EXCLUDED.created_at, last_step = 0
WHERE totp_secrets.confirmed_at IS NULL
RETURNING id, created_at`

	totpSQL = `
SELECT id, secret, encrypted, created_at, confirmed_at IS NOT NULL AS confirmed
FROM totp_secrets WHERE account_uuid = $1`

	confirmTOTPSQL = `
UPDATE totp_secrets SET confirmed_at = $3, last_step = $4
WHERE account_uuid = $1 AND id = $2 AND confirmed_at IS NULL`

	deleteRecoveryCodesSQL = `DELETE FROM recovery_codes WHERE account_uuid = $1`

	insertRecoveryCodesSQL = `
INSERT INTO recovery_codes (account_uuid, code_hash, created_at)
SELECT $1, h, $3 FROM unnest($2::bytea[]) AS h`

	// A step is used once: only a later one than the last moves it.
	useTOTPStepSQL = `
UPDATE totp_secrets SET last_step = $2
WHERE account_uuid = $1 AND confirmed_at IS NOT NULL AND last_step < $2`

	totpConfirmedSQL = `
SELECT EXISTS (SELECT 1 FROM totp_secrets WHERE account_uuid = $1 AND confirmed_at IS NOT NULL)`

	useRecoveryCodeSQL = `
UPDATE recovery_codes SET used_at = $3 WHERE account_uuid = $1 AND code_hash = $2 AND used_at IS NULL`

	deleteTOTPSQL = `DELETE FROM totp_secrets WHERE account_uuid = $1 AND confirmed_at IS NOT NULL`
)

// sealName is what a TOTP secret is bound to: its account, so that a
// sealed secret cannot be moved to another account's row.
func sealName(accountUUID string) string { return "totp:" + strings.ToLower(accountUUID) }

// Factors returns which second factors the account has, its passkeys (of
// the passkeys table) counted, in one statement.
func (s *FactorStore) Factors(ctx context.Context, accountUUID string) (account.Factors, error) {
	var f account.Factors
	if !validUUID(accountUUID) {
		return f, nil
	}
	err := s.pool.QueryRow(ctx, factorsSQL, accountUUID).Scan(&f.TOTP, &f.RecoveryCodesLeft, &f.Passkeys)
	if err != nil {
		return account.Factors{}, translate("find second factors", err)
	}
	return f, nil
}

// PutPendingTOTP stores a new pending secret, sealed, in place of a
// pending one. It returns account.ErrTOTPEnabled when the account's TOTP
// is on, and account.ErrNotFound when there is no such account.
func (s *FactorStore) PutPendingTOTP(ctx context.Context, accountUUID, secret string, now time.Time) (account.TOTPSecret, error) {
	if !validUUID(accountUUID) {
		return account.TOTPSecret{}, account.ErrNotFound
	}
	sealed, encrypted, err := s.cipher.Seal(sealName(accountUUID), []byte(secret))
	if err != nil {
		return account.TOTPSecret{}, fmt.Errorf("seal totp secret: %w", err)
	}
	out := account.TOTPSecret{AccountUUID: accountUUID, Secret: secret}
	err = s.pool.QueryRow(ctx, putPendingTOTPSQL, accountUUID, sealed, encrypted, now).Scan(&out.ID, &out.CreatedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return account.TOTPSecret{}, account.ErrTOTPEnabled
	case hasCode(err, codeForeignKeyViolation):
		return account.TOTPSecret{}, account.ErrNotFound
	case err != nil:
		return account.TOTPSecret{}, translate("store totp secret", err)
	}
	out.CreatedAt = out.CreatedAt.UTC()
	return out, nil
}

// TOTP returns the account's secret, opened. It returns account.ErrNotFound
// when there is none.
func (s *FactorStore) TOTP(ctx context.Context, accountUUID string) (account.TOTPSecret, error) {
	if !validUUID(accountUUID) {
		return account.TOTPSecret{}, account.ErrNotFound
	}
	var (
		out       = account.TOTPSecret{AccountUUID: accountUUID}
		sealed    []byte
		encrypted bool
	)
	err := s.pool.QueryRow(ctx, totpSQL, accountUUID).Scan(&out.ID, &sealed, &encrypted, &out.CreatedAt, &out.Confirmed)
	if err != nil {
		return account.TOTPSecret{}, translate("find totp secret", err)
	}
	secret, err := s.cipher.Open(sealName(accountUUID), sealed, encrypted)
	if err != nil {
		return account.TOTPSecret{}, fmt.Errorf("open totp secret: %w", err)
	}
	out.Secret, out.CreatedAt = string(secret), out.CreatedAt.UTC()
	return out, nil
}

// ConfirmTOTP turns the pending secret c.ID on, records c.Step and
// replaces the recovery codes, in one transaction. It returns
// account.ErrTOTPNotPending when c.ID is not the account's pending secret.
func (s *FactorStore) ConfirmTOTP(ctx context.Context, c account.TOTPConfirmation) error {
	if !validUUID(c.AccountUUID) {
		return account.ErrTOTPNotPending
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, confirmTOTPSQL, c.AccountUUID, c.ID, c.Now, c.Step)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return account.ErrTOTPNotPending
		}
		if _, err := tx.Exec(ctx, deleteRecoveryCodesSQL, c.AccountUUID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, insertRecoveryCodesSQL, c.AccountUUID, c.RecoveryCodeHashes, c.Now)
		return err
	})
	if errors.Is(err, account.ErrTOTPNotPending) {
		return err
	}
	return translate("confirm totp", err)
}

// UseTOTPStep records step if it is later than the last used one. It
// returns account.ErrCodeReplayed when it is not, and
// account.ErrTOTPNotEnabled without a confirmed secret.
func (s *FactorStore) UseTOTPStep(ctx context.Context, accountUUID string, step int64) error {
	if !validUUID(accountUUID) {
		return account.ErrTOTPNotEnabled
	}
	tag, err := s.pool.Exec(ctx, useTOTPStepSQL, accountUUID, step)
	if err != nil {
		return translate("use totp step", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var confirmed bool
	if err := s.pool.QueryRow(ctx, totpConfirmedSQL, accountUUID).Scan(&confirmed); err != nil {
		return translate("find totp secret", err)
	}
	if confirmed {
		return account.ErrCodeReplayed
	}
	return account.ErrTOTPNotEnabled
}

// UseRecoveryCode marks the unused code of the hash used. It returns
// account.ErrNotFound when there is no such unused code.
func (s *FactorStore) UseRecoveryCode(ctx context.Context, accountUUID string, hash []byte, now time.Time) error {
	if !validUUID(accountUUID) {
		return account.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, useRecoveryCodeSQL, accountUUID, hash, now)
	if err != nil {
		return translate("use recovery code", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}

// DeleteTOTP deletes the confirmed secret and the recovery codes, in one
// transaction. It returns account.ErrTOTPNotEnabled without a confirmed
// secret.
func (s *FactorStore) DeleteTOTP(ctx context.Context, accountUUID string) error {
	if !validUUID(accountUUID) {
		return account.ErrTOTPNotEnabled
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, deleteTOTPSQL, accountUUID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return account.ErrTOTPNotEnabled
		}
		_, err = tx.Exec(ctx, deleteRecoveryCodesSQL, accountUUID)
		return err
	})
	if errors.Is(err, account.ErrTOTPNotEnabled) {
		return err
	}
	return translate("delete totp", err)
}
