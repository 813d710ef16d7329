package accounttest

import (
	"context"
	"sync"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// FactorStore is an in-memory account.FactorStore with the semantics of
// the PostgreSQL one: one TOTP secret per account, pending or confirmed,
// each enrolment with a new ID; recovery codes kept by hash. Factors of
// accounts that do not exist cannot be stored. Passkeys are kept by a
// PasskeyStore, which this fake does not see: it counts none. It is safe
// for concurrent use.
type FactorStore struct {
	accounts *AccountStore
	mu       sync.Mutex
	lastID   int64
	totp     map[string]*totpRow
	// recovery maps an account to its recovery codes' hashes, each to
	// whether it was used.
	recovery map[string]map[string]bool
}

type totpRow struct {
	account.TOTPSecret
	lastStep int64
}

var _ account.FactorStore = (*FactorStore)(nil)

// NewFactorStore returns an empty FactorStore for the accounts of accounts.
func NewFactorStore(accounts *AccountStore) *FactorStore {
	return &FactorStore{
		accounts: accounts, totp: make(map[string]*totpRow), recovery: make(map[string]map[string]bool),
	}
}

// forget drops the factors of an account that no longer exists, as the
// PostgreSQL store's foreign keys cascade.
func (s *FactorStore) forget(ctx context.Context, id string) {
	if _, err := s.accounts.ByUUID(ctx, id); err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.totp, id)
	delete(s.recovery, id)
}

// Factors returns which second factors the account has.
func (s *FactorStore) Factors(ctx context.Context, accountUUID string) (account.Factors, error) {
	id, _ := canonicalUUID(accountUUID)
	s.forget(ctx, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	var f account.Factors
	if row := s.totp[id]; row != nil && row.Confirmed {
		f.TOTP = true
	}
	for _, used := range s.recovery[id] {
		if !used {
			f.RecoveryCodesLeft++
		}
	}
	return f, nil
}

// PutPendingTOTP stores a new pending secret in place of a pending one. It
// returns account.ErrTOTPEnabled when the account's TOTP is on and
// account.ErrNotFound when there is no such account.
func (s *FactorStore) PutPendingTOTP(ctx context.Context, accountUUID, secret string, now time.Time) (account.TOTPSecret, error) {
	a, err := s.accounts.ByUUID(ctx, accountUUID)
	if err != nil {
		return account.TOTPSecret{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if row := s.totp[a.UUID]; row != nil && row.Confirmed {
		return account.TOTPSecret{}, account.ErrTOTPEnabled
	}
	s.lastID++
	row := &totpRow{TOTPSecret: account.TOTPSecret{
		ID: s.lastID, AccountUUID: a.UUID, Secret: secret, CreatedAt: dbTime(now),
	}}
	s.totp[a.UUID] = row
	return row.TOTPSecret, nil
}

// TOTP returns the account's secret. It returns account.ErrNotFound when
// there is none.
func (s *FactorStore) TOTP(ctx context.Context, accountUUID string) (account.TOTPSecret, error) {
	id, _ := canonicalUUID(accountUUID)
	s.forget(ctx, id)
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.totp[id]
	if row == nil {
		return account.TOTPSecret{}, account.ErrNotFound
	}
	return row.TOTPSecret, nil
}

// ConfirmTOTP turns the pending secret c.ID on and replaces the recovery
// codes, atomically. It returns account.ErrTOTPNotPending when c.ID is not
// the account's pending secret.
func (s *FactorStore) ConfirmTOTP(_ context.Context, c account.TOTPConfirmation) error {
	id, _ := canonicalUUID(c.AccountUUID)
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.totp[id]
	if row == nil || row.Confirmed || row.ID != c.ID {
		return account.ErrTOTPNotPending
	}
	row.Confirmed, row.lastStep = true, c.Step
	codes := make(map[string]bool, len(c.RecoveryCodeHashes))
	for _, h := range c.RecoveryCodeHashes {
		codes[string(h)] = false
	}
	s.recovery[id] = codes
	return nil
}

// UseTOTPStep records step if it is later than the last used one. It
// returns account.ErrCodeReplayed when it is not and
// account.ErrTOTPNotEnabled without a confirmed secret.
func (s *FactorStore) UseTOTPStep(_ context.Context, accountUUID string, step int64) error {
	id, _ := canonicalUUID(accountUUID)
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.totp[id]
	switch {
	case row == nil || !row.Confirmed:
		return account.ErrTOTPNotEnabled
	case step <= row.lastStep:
		return account.ErrCodeReplayed
	}
	row.lastStep = step
	return nil
}

// UseRecoveryCode marks the unused code of the hash used. It returns
// account.ErrNotFound when there is no such unused code.
func (s *FactorStore) UseRecoveryCode(_ context.Context, accountUUID string, hash []byte, _ time.Time) error {
	id, _ := canonicalUUID(accountUUID)
	s.mu.Lock()
	defer s.mu.Unlock()
	used, ok := s.recovery[id][string(hash)]
	if !ok || used {
		return account.ErrNotFound
	}
	s.recovery[id][string(hash)] = true
	return nil
}

// DeleteTOTP deletes the confirmed secret and the recovery codes. It
// returns account.ErrTOTPNotEnabled without a confirmed secret.
func (s *FactorStore) DeleteTOTP(_ context.Context, accountUUID string) error {
	id, _ := canonicalUUID(accountUUID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if row := s.totp[id]; row == nil || !row.Confirmed {
		return account.ErrTOTPNotEnabled
	}
	delete(s.totp, id)
	delete(s.recovery, id)
	return nil
}
