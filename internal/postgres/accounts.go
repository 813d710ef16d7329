package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/account"
)

// AccountStore keeps accounts in the accounts table.
type AccountStore struct {
	pool *pgxpool.Pool
}

var _ account.AccountStore = (*AccountStore)(nil)

// NewAccountStore returns an AccountStore that uses pool.
func NewAccountStore(pool *pgxpool.Pool) *AccountStore {
	return &AccountStore{pool: pool}
}

const accountColumns = `uuid, account_id, password_hash, disabled, created_at`

const (
	createAccountSQL = `
INSERT INTO accounts (account_id, password_hash, created_at, updated_at)
VALUES ($1, $2, coalesce($3, now()), coalesce($3, now()))
RETURNING ` + accountColumns

	accountByAccountIDSQL = `
SELECT ` + accountColumns + ` FROM accounts WHERE lower(account_id) = lower($1)`

	accountByUUIDSQL = `
SELECT ` + accountColumns + ` FROM accounts WHERE uuid = $1`

	updatePasswordHashSQL = `
UPDATE accounts SET password_hash = $3, updated_at = now() WHERE uuid = $1 AND password_hash = $2`

	// listAccountsSQL matches $1 as a substring: its LIKE metacharacters
	// are escaped by the caller.
	listAccountsSQL = `
SELECT ` + accountColumns + ` FROM accounts
WHERE lower(account_id) LIKE '%' || lower($1) || '%'
ORDER BY lower(account_id) COLLATE "C"
LIMIT $2`

	setDisabledSQL = `UPDATE accounts SET disabled = $2, updated_at = now() WHERE uuid = $1`
)

// accountRow is one row of the accounts table as this package reads it.
type accountRow struct {
	UUID         string    `db:"uuid"`
	AccountID    string    `db:"account_id"`
	PasswordHash string    `db:"password_hash"`
	Disabled     bool      `db:"disabled"`
	CreatedAt    time.Time `db:"created_at"`
}

func (r accountRow) toAccount() account.Account {
	return account.Account{
		UUID:         r.UUID,
		AccountID:    r.AccountID,
		PasswordHash: r.PasswordHash,
		Disabled:     r.Disabled,
		CreatedAt:    r.CreatedAt.UTC(),
	}
}

// Create stores a new account and returns it with its UUID. A zero
// a.CreatedAt means now, by the database's clock. It returns
// account.ErrAccountExists when the account id is taken, in any case.
func (s *AccountStore) Create(ctx context.Context, a account.NewAccount) (account.Account, error) {
	var createdAt *time.Time
	if !a.CreatedAt.IsZero() {
		createdAt = &a.CreatedAt
	}
	rows, _ := s.pool.Query(ctx, createAccountSQL, a.AccountID, a.PasswordHash, createdAt)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[accountRow])
	if hasCode(err, codeUniqueViolation) {
		return account.Account{}, account.ErrAccountExists
	}
	if err != nil {
		return account.Account{}, translate("create account", err)
	}
	return row.toAccount(), nil
}

// ByAccountID finds an account by its account id, ignoring case. It returns
// account.ErrNotFound when there is none.
func (s *AccountStore) ByAccountID(ctx context.Context, accountID string) (account.Account, error) {
	rows, _ := s.pool.Query(ctx, accountByAccountIDSQL, accountID)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[accountRow])
	if err != nil {
		return account.Account{}, translate("find account by account id", err)
	}
	return row.toAccount(), nil
}

// ByUUID finds an account by its UUID. It returns account.ErrNotFound when
// there is none, including when uuid is not a UUID at all.
func (s *AccountStore) ByUUID(ctx context.Context, uuid string) (account.Account, error) {
	if !validUUID(uuid) {
		return account.Account{}, account.ErrNotFound
	}
	rows, _ := s.pool.Query(ctx, accountByUUIDSQL, uuid)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[accountRow])
	if err != nil {
		return account.Account{}, translate("find account by uuid", err)
	}
	return row.toAccount(), nil
}

// UpdatePasswordHash replaces an account's password hash if it is still
// oldHash. It returns account.ErrNotFound when there is no such account or
// its hash changed.
func (s *AccountStore) UpdatePasswordHash(ctx context.Context, uuid, oldHash, newHash string) error {
	if !validUUID(uuid) {
		return account.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, updatePasswordHashSQL, uuid, oldHash, newHash)
	if err != nil {
		return translate("update password hash", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}

// ChangePassword replaces the account's password hash, if it is still
// c.OldHash, and revokes every live session of the account but
// c.KeepSession, in one transaction, so that no failure leaves the password
// changed and the sessions alive. The UPDATE locks the account row first: a
// login that has not yet stored its session either waits for this change
// and then finds the hash changed, or stored it before and is revoked here.
// It returns the revoked sessions' ids, and account.ErrNotFound when the
// account is gone or its hash is no longer c.OldHash.
func (s *AccountStore) ChangePassword(ctx context.Context, c account.PasswordChange) ([]string, error) {
	if !validUUID(c.AccountUUID) {
		return nil, account.ErrNotFound
	}
	var except *string
	if validUUID(c.KeepSession) {
		except = &c.KeepSession
	}
	var revoked []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, updatePasswordHashSQL, c.AccountUUID, c.OldHash, c.NewHash)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		revoked, err = revokeAll(ctx, tx, c.AccountUUID, except, c.Now)
		return err
	})
	if err != nil {
		return nil, translate("change password", err)
	}
	return revoked, nil
}

// likeEscaper escapes the metacharacters of LIKE (with its default escape
// character, the backslash).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// List returns at most limit accounts whose account id contains query,
// ignoring case, in the order of their account ids (ignoring case).
func (s *AccountStore) List(ctx context.Context, query string, limit int) ([]account.Account, error) {
	rows, _ := s.pool.Query(ctx, listAccountsSQL, likeEscaper.Replace(query), limit)
	found, err := pgx.CollectRows(rows, pgx.RowToStructByName[accountRow])
	if err != nil {
		return nil, translate("list accounts", err)
	}
	out := make([]account.Account, len(found))
	for i, r := range found {
		out[i] = r.toAccount()
	}
	return out, nil
}

// Disable disables the account and revokes every session of its that is
// not revoked yet, in one transaction; the UPDATE locks the account row
// first, as a password change does. It returns the ids it revoked, sorted,
// and account.ErrNotFound when there is no such account.
func (s *AccountStore) Disable(ctx context.Context, uuid string) ([]string, error) {
	if !validUUID(uuid) {
		return nil, account.ErrNotFound
	}
	var revoked []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, setDisabledSQL, uuid, true)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		revoked, err = revokeUnrevoked(ctx, tx, uuid)
		return err
	})
	if err != nil {
		return nil, translate("disable account", err)
	}
	return revoked, nil
}

// Enable enables the account. It returns account.ErrNotFound when there is
// no such account.
func (s *AccountStore) Enable(ctx context.Context, uuid string) error {
	if !validUUID(uuid) {
		return account.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, setDisabledSQL, uuid, false)
	if err != nil {
		return translate("enable account", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}
