package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/account"
)

// PasskeyStore keeps passkeys in the passkeys table and accounts' WebAuthn
// user handles in webauthn_users.
type PasskeyStore struct {
	pool *pgxpool.Pool
}

var _ account.PasskeyStore = (*PasskeyStore)(nil)

// NewPasskeyStore returns a PasskeyStore that uses pool.
func NewPasskeyStore(pool *pgxpool.Pool) *PasskeyStore {
	return &PasskeyStore{pool: pool}
}

//nolint:gosec // G101: column names (public_key), not a credential
const passkeyColumns = `p.id, p.account_uuid, p.name, p.public_key, p.sign_count, p.aaguid, p.transports,
    p.attestation_format, p.backup_eligible, p.backup_state, p.created_at, p.last_used_at`

const (
	// userHandleSQL gives the account $1 the handle $2 unless it has one,
	// and returns its handle either way. Its SELECT sees the table as the
	// statement began, so a handle that a racing statement stored meanwhile
	// finds no row here: UserHandle then asks again.
	userHandleSQL = `
WITH added AS (
    INSERT INTO webauthn_users (account_uuid, user_handle) VALUES ($1, $2)
    ON CONFLICT (account_uuid) DO NOTHING
    RETURNING user_handle)
SELECT user_handle FROM added
UNION ALL
SELECT user_handle FROM webauthn_users WHERE account_uuid = $1
LIMIT 1`

	passkeysByAccountSQL = `
SELECT ` + passkeyColumns + ` FROM passkeys p WHERE p.account_uuid = $1 ORDER BY p.created_at, p.id`

	passkeyByIDSQL = `
SELECT ` + passkeyColumns + `, u.user_handle
FROM passkeys p JOIN webauthn_users u ON u.account_uuid = p.account_uuid
WHERE p.id = $1`

	//nolint:gosec // G101: a query that names a key column, not a credential
	addPasskeySQL = `
INSERT INTO passkeys (id, account_uuid, name, public_key, sign_count, aaguid, transports,
    attestation_format, backup_eligible, backup_state, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

	// usePasskeySQL moves the counter only forward (or keeps it at 0 for
	// authenticators without one): of two logins racing with one counter
	// value, one updates the row and the other, re-checking the updated
	// row, finds nothing.
	usePasskeySQL = `
UPDATE passkeys SET sign_count = $2, backup_state = $3, last_used_at = $4
WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))`

	deletePasskeySQL = `DELETE FROM passkeys WHERE account_uuid = $1 AND id = $2`
)

// passkeyRow is one row of the passkeys table as this package reads it.
type passkeyRow struct {
	ID                []byte     `db:"id"`
	AccountUUID       string     `db:"account_uuid"`
	Name              string     `db:"name"`
	PublicKey         []byte     `db:"public_key"`
	SignCount         int64      `db:"sign_count"`
	AAGUID            []byte     `db:"aaguid"`
	Transports        []string   `db:"transports"`
	AttestationFormat string     `db:"attestation_format"`
	BackupEligible    bool       `db:"backup_eligible"`
	BackupState       bool       `db:"backup_state"`
	CreatedAt         time.Time  `db:"created_at"`
	LastUsedAt        *time.Time `db:"last_used_at"`
}

func (r passkeyRow) toPasskey() account.Passkey {
	p := account.Passkey{
		ID: r.ID, AccountUUID: r.AccountUUID, Name: r.Name, PublicKey: r.PublicKey,
		SignCount: uint32(r.SignCount), //nolint:gosec // G115: the column's CHECK keeps it within uint32
		AAGUID:    r.AAGUID, Transports: r.Transports, AttestationFormat: r.AttestationFormat,
		BackupEligible: r.BackupEligible, BackupState: r.BackupState, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.LastUsedAt != nil {
		p.LastUsedAt = r.LastUsedAt.UTC()
	}
	return p
}

// passkeyOwnerRow is a passkey with its account's user handle.
type passkeyOwnerRow struct {
	passkeyRow
	UserHandle []byte `db:"user_handle"`
}

// UserHandle returns the account's user handle, storing newHandle as the
// handle when it has none. It returns account.ErrNotFound when the account
// does not exist.
func (s *PasskeyStore) UserHandle(ctx context.Context, accountUUID string, newHandle []byte) ([]byte, error) {
	if !validUUID(accountUUID) {
		return nil, account.ErrNotFound
	}
	for range 2 {
		var handle []byte
		err := s.pool.QueryRow(ctx, userHandleSQL, accountUUID, newHandle).Scan(&handle)
		switch {
		case hasCode(err, codeForeignKeyViolation):
			return nil, account.ErrNotFound
		case errors.Is(err, pgx.ErrNoRows):
			continue // a racing statement stored a handle after this one began
		case err != nil:
			return nil, translate("find user handle", err)
		}
		return handle, nil
	}
	return nil, translate("find user handle", pgx.ErrNoRows)
}

// ByAccount lists the account's passkeys, oldest first.
func (s *PasskeyStore) ByAccount(ctx context.Context, accountUUID string) ([]account.Passkey, error) {
	if !validUUID(accountUUID) {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, passkeysByAccountSQL, accountUUID)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[passkeyRow])
	if err != nil {
		return nil, translate("list passkeys", err)
	}
	out := make([]account.Passkey, len(list))
	for i, r := range list {
		out[i] = r.toPasskey()
	}
	return out, nil
}

// ByID finds a passkey by its credential id, with its account's user
// handle. It returns account.ErrNotFound when there is none.
func (s *PasskeyStore) ByID(ctx context.Context, id []byte) (account.PasskeyOwner, error) {
	rows, _ := s.pool.Query(ctx, passkeyByIDSQL, id)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[passkeyOwnerRow])
	if err != nil {
		return account.PasskeyOwner{}, translate("find passkey", err)
	}
	return account.PasskeyOwner{Passkey: row.toPasskey(), UserHandle: row.UserHandle}, nil
}

// Add stores a new passkey. It returns account.ErrPasskeyExists when a
// passkey with its id exists, and account.ErrNotFound when its account does
// not.
func (s *PasskeyStore) Add(ctx context.Context, p account.Passkey) error {
	if !validUUID(p.AccountUUID) {
		return account.ErrNotFound
	}
	transports := p.Transports
	if transports == nil {
		transports = []string{}
	}
	_, err := s.pool.Exec(ctx, addPasskeySQL, p.ID, p.AccountUUID, p.Name, p.PublicKey, int64(p.SignCount),
		p.AAGUID, transports, p.AttestationFormat, p.BackupEligible, p.BackupState, p.CreatedAt)
	switch {
	case hasCode(err, codeUniqueViolation):
		return account.ErrPasskeyExists
	case hasCode(err, codeForeignKeyViolation):
		return account.ErrNotFound
	}
	return translate("add passkey", err)
}

// Use stores the passkey's new counter, backup state and last use, only if
// u.SignCount is above the stored counter or both are 0. It returns
// account.ErrNotFound when there is no such passkey or its counter is not
// below u.SignCount.
func (s *PasskeyStore) Use(ctx context.Context, u account.PasskeyUse) error {
	tag, err := s.pool.Exec(ctx, usePasskeySQL, u.ID, int64(u.SignCount), u.BackupState, u.Now)
	if err != nil {
		return translate("record passkey use", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}

// Delete removes one passkey of the account. It returns account.ErrNotFound
// when the account has no such passkey.
func (s *PasskeyStore) Delete(ctx context.Context, accountUUID string, id []byte) error {
	if !validUUID(accountUUID) {
		return account.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, deletePasskeySQL, accountUUID, id)
	if err != nil {
		return translate("delete passkey", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}
