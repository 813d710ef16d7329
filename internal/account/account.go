// Package account is the domain of accountd: accounts, sessions, the rules
// for registering, logging in, rotating refresh tokens and revoking them, and
// the small storage interfaces that the adapters implement.
package account

import (
	"context"
	"time"
)

// Account is a registered user.
type Account struct {
	UUID string
	// AccountID is the identifier as it was typed at registration; lookups
	// ignore its case.
	AccountID    string
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
}

// NewAccount is what AccountStore.Create needs to store an account.
type NewAccount struct {
	AccountID    string
	PasswordHash string
	CreatedAt    time.Time
}

// AccountStore keeps accounts.
type AccountStore interface {
	// Create stores a new account and returns it with its UUID. It returns
	// ErrAccountExists when the account id is taken, in any case.
	Create(ctx context.Context, a NewAccount) (Account, error)
	// ByAccountID finds an account by its account id, ignoring case. It
	// returns ErrNotFound when there is none.
	ByAccountID(ctx context.Context, accountID string) (Account, error)
	// ByUUID finds an account by its UUID. It returns ErrNotFound when there
	// is none.
	ByUUID(ctx context.Context, uuid string) (Account, error)
	// UpdatePasswordHash replaces an account's password hash if it is still
	// oldHash (a rehash at login must not undo a password change). It
	// returns ErrNotFound when there is no such account or its hash changed.
	UpdatePasswordHash(ctx context.Context, uuid, oldHash, newHash string) error
	// ChangePassword replaces the account's password hash, if it is still
	// c.OldHash, and revokes every live session of the account but
	// c.KeepSession, in one transaction. It returns the ids of the revoked
	// sessions, and ErrNotFound when the account is gone or its hash is no
	// longer c.OldHash.
	ChangePassword(ctx context.Context, c PasswordChange) ([]string, error)
	// List returns at most limit accounts whose account id contains query
	// (ignoring case; "" matches all), in the order of their account ids.
	List(ctx context.Context, query string, limit int) ([]Account, error)
	// Disable disables the account and revokes every session of its that
	// is not revoked yet, in one transaction, and returns the ids of the
	// sessions it revoked. It returns ErrNotFound when there is no such
	// account.
	Disable(ctx context.Context, uuid string) ([]string, error)
	// Enable enables the account. It returns ErrNotFound when there is no
	// such account.
	Enable(ctx context.Context, uuid string) error
	// Delete deletes the account with its sessions, refresh tokens and
	// events, in one transaction that first revokes every session of its
	// that is not revoked yet and leaves a revocation that outlives the
	// rows for each of its revoked sessions, which RevocationSource lists.
	// A login or rotation that races it either commits first, and its
	// session is revoked here, or finds the account gone. It returns the
	// ids of the sessions it revoked, and ErrNotFound when there is no such
	// account.
	Delete(ctx context.Context, uuid string) ([]string, error)
}
