package accounttest

import (
	"context"

	"github.com/accountd/accountd/internal/account"
)

// EventStore is an in-memory account.EventStore with the semantics of the
// PostgreSQL one: ids grow with every event stored, an account's events go
// with it, and events of accounts that do not exist are dropped. It shares
// its state with the AccountStore it was made for, so that the events a
// login stores through SessionStore.Create are listed too. It is safe for
// concurrent use.
type EventStore struct {
	db *db
}

var _ account.EventStore = (*EventStore)(nil)

// NewEventStore returns an EventStore for the accounts of accounts.
func NewEventStore(accounts *AccountStore) *EventStore { return &EventStore{db: accounts.db} }

// Add stores the events, dropping those of accounts that do not exist.
func (s *EventStore) Add(_ context.Context, events []account.Event) error {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	s.db.addEvents(events...)
	return nil
}

// List returns at most limit events of the account whose id is below
// before (0: from the newest), newest first.
func (s *EventStore) List(_ context.Context, accountUUID string, before int64, limit int) ([]account.Event, error) {
	id, ok := canonicalUUID(accountUUID)
	out := []account.Event{}
	if !ok {
		return out, nil
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	for i := len(s.db.events) - 1; i >= 0 && len(out) < limit; i-- {
		e := s.db.events[i]
		if e.AccountUUID == id && (before == 0 || e.ID < before) {
			out = append(out, e)
		}
	}
	return out, nil
}

// All returns every stored event, oldest first: for tests.
func (s *EventStore) All() []account.Event {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	return append([]account.Event(nil), s.db.events...)
}
