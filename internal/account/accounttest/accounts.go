package accounttest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/security"
)

// AccountStore is an in-memory account.AccountStore with the semantics of
// the PostgreSQL one: account ids are unique and found in any case, UUIDs
// in any case, and an id that is not a UUID finds nothing. It is safe for
// concurrent use.
type AccountStore struct {
	db *db
}

var _ account.AccountStore = (*AccountStore)(nil)

// NewAccountStore returns an empty AccountStore. Sessions of its accounts
// are kept by the SessionStore that NewSessionStore makes for it.
func NewAccountStore() *AccountStore { return &AccountStore{db: newDB()} }

// Create stores a new account and returns it with a new UUID. A zero
// a.CreatedAt means now by the machine's clock. It returns
// account.ErrAccountExists when the account id is taken, in any case.
func (s *AccountStore) Create(_ context.Context, a account.NewAccount) (account.Account, error) {
	createdAt := a.CreatedAt
	if createdAt.IsZero() {
		createdAt = time.Now()
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if s.db.byAccountID(a.AccountID) != nil {
		return account.Account{}, account.ErrAccountExists
	}
	stored := &account.Account{
		UUID: security.NewID(), AccountID: a.AccountID, PasswordHash: a.PasswordHash, CreatedAt: dbTime(createdAt),
	}
	s.db.accounts[stored.UUID] = stored
	return *stored, nil
}

// ByAccountID finds an account by its account id, ignoring case. It returns
// account.ErrNotFound when there is none.
func (s *AccountStore) ByAccountID(_ context.Context, accountID string) (account.Account, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	a := s.db.byAccountID(accountID)
	if a == nil {
		return account.Account{}, account.ErrNotFound
	}
	return *a, nil
}

// ByUUID finds an account by its UUID, in any case. It returns
// account.ErrNotFound when there is none, including when uuid is not a UUID.
func (s *AccountStore) ByUUID(_ context.Context, uuid string) (account.Account, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	a, err := s.db.account(uuid)
	if err != nil {
		return account.Account{}, err
	}
	return *a, nil
}

// UpdatePasswordHash replaces an account's password hash if it is still
// oldHash. It returns account.ErrNotFound when there is no such account or
// its hash changed.
func (s *AccountStore) UpdatePasswordHash(_ context.Context, uuid, oldHash, newHash string) error {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	a, err := s.db.account(uuid)
	if err != nil {
		return err
	}
	if a.PasswordHash != oldHash {
		return account.ErrNotFound
	}
	a.PasswordHash = newHash
	return nil
}

// ChangePassword replaces the account's password hash, if it is still
// c.OldHash, and revokes every live session of the account but
// c.KeepSession, atomically. It returns the revoked sessions' ids, sorted,
// and account.ErrNotFound when the account is gone or its hash is no longer
// c.OldHash. Like the PostgreSQL store, it changes a disabled account's
// password too.
func (s *AccountStore) ChangePassword(_ context.Context, c account.PasswordChange) ([]string, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	a, err := s.db.account(c.AccountUUID)
	if err != nil {
		return nil, err
	}
	if a.PasswordHash != c.OldHash {
		return nil, account.ErrNotFound
	}
	a.PasswordHash = c.NewHash
	keep, _ := canonicalUUID(c.KeepSession)
	ids := s.db.revokeSessions(s.db.liveSessions(a.UUID, keep, dbTime(c.Now)), dbTime(c.Now))
	slices.Sort(ids)
	return ids, nil
}

// Put stores a as it is, its UUID included, replacing the account with that
// UUID: for tests that need an account with a known UUID. It returns
// account.ErrAccountExists when another account has a.AccountID in any
// case, and an error when a.UUID is not a UUID.
func (s *AccountStore) Put(a account.Account) error {
	id, ok := canonicalUUID(a.UUID)
	if !ok {
		return fmt.Errorf("put account: %w", errMalformedID)
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if other := s.db.byAccountID(a.AccountID); other != nil && other.UUID != id {
		return account.ErrAccountExists
	}
	a.UUID, a.CreatedAt = id, dbTime(a.CreatedAt)
	s.db.accounts[id] = &a
	return nil
}

// SetDisabled disables or enables the account, as an operator does out of
// band. It returns account.ErrNotFound when there is no such account.
func (s *AccountStore) SetDisabled(uuid string, disabled bool) error {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	a, err := s.db.account(uuid)
	if err != nil {
		return fmt.Errorf("set disabled: %w", err)
	}
	a.Disabled = disabled
	return nil
}

// account finds an account by UUID, in any case. The caller holds d.mu.
func (d *db) account(uuid string) (*account.Account, error) {
	id, ok := canonicalUUID(uuid)
	if !ok {
		return nil, account.ErrNotFound
	}
	a := d.accounts[id]
	if a == nil {
		return nil, account.ErrNotFound
	}
	return a, nil
}
