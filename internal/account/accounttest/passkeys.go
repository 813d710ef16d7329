package accounttest

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// PasskeyStore is an in-memory account.PasskeyStore with the semantics of
// the PostgreSQL one, over the accounts of an AccountStore. It is safe for
// concurrent use.
type PasskeyStore struct {
	accounts *AccountStore
	mu       sync.Mutex
	handles  map[string][]byte // by account uuid
	passkeys []*account.Passkey
}

var _ account.PasskeyStore = (*PasskeyStore)(nil)

// NewPasskeyStore returns a PasskeyStore with no passkeys, for the accounts
// of accounts.
func NewPasskeyStore(accounts *AccountStore) *PasskeyStore {
	return &PasskeyStore{accounts: accounts, handles: make(map[string][]byte)}
}

func (s *PasskeyStore) exists(uuid string) (string, bool) {
	s.accounts.db.mu.Lock()
	defer s.accounts.db.mu.Unlock()
	a, err := s.accounts.db.account(uuid)
	if err != nil {
		return "", false
	}
	return a.UUID, true
}

// UserHandle returns the account's user handle, storing newHandle when it
// has none. It returns account.ErrNotFound when the account does not exist.
func (s *PasskeyStore) UserHandle(_ context.Context, accountUUID string, newHandle []byte) ([]byte, error) {
	id, ok := s.exists(accountUUID)
	if !ok {
		return nil, account.ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.handles[id]; ok {
		return slices.Clone(h), nil
	}
	s.handles[id] = slices.Clone(newHandle)
	return slices.Clone(newHandle), nil
}

// ByAccount lists the account's passkeys, oldest first.
func (s *PasskeyStore) ByAccount(_ context.Context, accountUUID string) ([]account.Passkey, error) {
	id, _ := canonicalUUID(accountUUID)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []account.Passkey
	for _, p := range s.passkeys {
		if p.AccountUUID == id {
			out = append(out, *p)
		}
	}
	return out, nil
}

// ByID finds a passkey by its credential id, with its account's user
// handle. It returns account.ErrNotFound when there is none.
func (s *PasskeyStore) ByID(_ context.Context, id []byte) (account.PasskeyOwner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.find(id)
	if p == nil {
		return account.PasskeyOwner{}, account.ErrNotFound
	}
	return account.PasskeyOwner{Passkey: *p, UserHandle: slices.Clone(s.handles[p.AccountUUID])}, nil
}

// Add stores a new passkey. It returns account.ErrPasskeyExists when its id
// is taken and account.ErrNotFound when its account does not exist.
func (s *PasskeyStore) Add(_ context.Context, p account.Passkey) error {
	id, ok := s.exists(p.AccountUUID)
	if !ok {
		return account.ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.find(p.ID) != nil {
		return account.ErrPasskeyExists
	}
	p.AccountUUID, p.CreatedAt = id, dbTime(p.CreatedAt)
	s.passkeys = append(s.passkeys, &p)
	return nil
}

// Use stores a passkey's new counter, backup state and last use, only if
// the counter grows (or stays 0). It returns account.ErrNotFound otherwise.
func (s *PasskeyStore) Use(_ context.Context, u account.PasskeyUse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.find(u.ID)
	if p == nil || (p.SignCount >= u.SignCount && (p.SignCount != 0 || u.SignCount != 0)) {
		return account.ErrNotFound
	}
	p.SignCount, p.BackupState, p.LastUsedAt = u.SignCount, u.BackupState, dbTime(u.Now)
	return nil
}

// Delete removes one passkey of the account. It returns
// account.ErrNotFound when the account has no such passkey.
func (s *PasskeyStore) Delete(_ context.Context, accountUUID string, id []byte) error {
	owner, _ := canonicalUUID(accountUUID)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.passkeys, func(p *account.Passkey) bool {
		return p.AccountUUID == owner && bytes.Equal(p.ID, id)
	})
	if i < 0 {
		return account.ErrNotFound
	}
	s.passkeys = slices.Delete(s.passkeys, i, i+1)
	return nil
}

// find returns the passkey with the credential id, or nil. The caller
// holds s.mu.
func (s *PasskeyStore) find(id []byte) *account.Passkey {
	for _, p := range s.passkeys {
		if bytes.Equal(p.ID, id) {
			return p
		}
	}
	return nil
}

// Ceremonies is an in-memory account.Ceremonies whose entries expire by a
// Clock, as Redis keys expire. It is safe for concurrent use.
type Ceremonies struct {
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]ceremony
}

type ceremony struct {
	state   []byte
	expires time.Time
}

var _ account.Ceremonies = (*Ceremonies)(nil)

// NewCeremonies returns an empty Ceremonies on the clock now.
func NewCeremonies(now func() time.Time) *Ceremonies {
	return &Ceremonies{now: now, entries: make(map[string]ceremony)}
}

// Put keeps state under key for ttl.
func (c *Ceremonies) Put(_ context.Context, key string, state []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = ceremony{state: slices.Clone(state), expires: c.now().Add(ttl)}
	return nil
}

// Take returns and forgets the state under key. It returns
// account.ErrNotFound when key holds nothing or it expired.
func (c *Ceremonies) Take(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	delete(c.entries, key)
	if !ok || !c.now().Before(e.expires) {
		return nil, account.ErrNotFound
	}
	return e.state, nil
}

// Len returns how many ceremonies are kept, expired ones included.
func (c *Ceremonies) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Passkeys is the passkey use cases of a Service, on fakes: the store, the
// ceremonies (on the Service's clock) and the fake WebAuthn.
type Passkeys struct {
	*account.Passkeys
	Store      *PasskeyStore
	Ceremonies *Ceremonies
}

// NewPasskeys returns the passkey use cases of s on new fakes.
func NewPasskeys(s *Service) *Passkeys {
	store, ceremonies := NewPasskeyStore(s.AccountStore), NewCeremonies(s.Clock.Now)
	return &Passkeys{
		Passkeys: account.NewPasskeys(s.Service, store, ceremonies, WebAuthn{}),
		Store:    store, Ceremonies: ceremonies,
	}
}
