package accounttest

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// List returns at most limit accounts whose account id contains query,
// ignoring case, in the order of their account ids (ignoring case).
func (s *AccountStore) List(_ context.Context, query string, limit int) ([]account.Account, error) {
	q := strings.ToLower(query)
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	out := []account.Account{}
	for _, a := range s.db.accounts {
		if strings.Contains(strings.ToLower(a.AccountID), q) {
			out = append(out, *a)
		}
	}
	slices.SortFunc(out, func(a, b account.Account) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.AccountID), strings.ToLower(b.AccountID)), cmp.Compare(a.UUID, b.UUID))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Disable disables the account and revokes every session of its that is
// not revoked yet, atomically, stamped by the store's clock. It returns the
// ids it revoked, sorted, and account.ErrNotFound when there is no such
// account.
func (s *AccountStore) Disable(_ context.Context, uuid string) ([]string, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	a, err := s.db.account(uuid)
	if err != nil {
		return nil, err
	}
	a.Disabled = true
	return s.db.revokeUnrevoked(a.UUID), nil
}

// Enable enables the account. It returns account.ErrNotFound when there is
// no such account.
func (s *AccountStore) Enable(_ context.Context, uuid string) error {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	a, err := s.db.account(uuid)
	if err != nil {
		return err
	}
	a.Disabled = false
	return nil
}

// Delete revokes every session of the account that is not revoked yet,
// leaves a tombstone for each revoked session of its, and deletes the
// account, its sessions, refresh tokens and events, atomically. It returns
// the ids it revoked, sorted, and account.ErrNotFound when there is no such
// account.
func (s *AccountStore) Delete(_ context.Context, uuid string) ([]string, error) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	a, err := s.db.account(uuid)
	if err != nil {
		return nil, err
	}
	ids := s.db.revokeUnrevoked(a.UUID)
	for id, row := range s.db.sessions {
		if row.AccountUUID != a.UUID {
			continue
		}
		s.db.tombstones[id] = row.revokedAt
		delete(s.db.sessions, id)
	}
	for hash, t := range s.db.tokens {
		if s.db.sessions[t.sessionID] == nil {
			delete(s.db.tokens, hash)
		}
	}
	s.db.events = slices.DeleteFunc(s.db.events, func(e account.Event) bool { return e.AccountUUID == a.UUID })
	delete(s.db.accounts, a.UUID)
	return ids, nil
}

// SetClock makes the stores stamp with now what PostgreSQL stamps with its
// own clock, such as the revocations of Disable and Delete.
func (s *AccountStore) SetClock(now func() time.Time) {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	s.db.now = now
}

// revokeUnrevoked revokes every session of the account that is not revoked
// yet, expired or not, stamped by d.now, and returns their ids, sorted. The
// caller holds d.mu.
func (d *db) revokeUnrevoked(accountUUID string) []string {
	var rows []*sessionRow
	for _, r := range d.sessions {
		if r.AccountUUID == accountUUID && r.revokedAt.IsZero() {
			rows = append(rows, r)
		}
	}
	ids := d.revokeSessions(rows, dbTime(d.now()))
	slices.Sort(ids)
	return ids
}
