package keys

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is a kid that names no key that can be revoked.
var ErrNotFound = errors.New("signing key not found")

// Changes are what one decision writes to the Store.
type Changes struct {
	Insert   []Record
	Activate map[string]time.Time // kid -> new ActivateAt
	Revoke   map[string]time.Time // kid -> RevokedAt
	Delete   []string
}

// Empty reports whether the changes write nothing.
func (c Changes) Empty() bool {
	return len(c.Insert) == 0 && len(c.Activate) == 0 && len(c.Revoke) == 0 && len(c.Delete) == 0
}

// Store keeps the keys of every instance (internal/postgres implements it).
type Store interface {
	// Version returns a number that changes whenever the stored keys do; it
	// is the cheap question an instance asks to learn of changes. Errors
	// match account.ErrUnavailable when the store cannot be reached.
	Version(ctx context.Context) (int64, error)
	// Records returns every stored key and the Version they are at.
	Records(ctx context.Context) ([]Record, int64, error)
	// Change calls decide with the stored keys while holding a lock that
	// every instance takes for this, writes the changes it returns, and
	// returns them. decide's error aborts the change and is returned.
	Change(ctx context.Context, decide func([]Record) (Changes, error)) (Changes, error)
}

// Feed carries announcements of changes to the keys between instances
// (internal/redis implements it). It only makes them known sooner: every
// instance polls the Store as well.
type Feed interface {
	// Announce tells every instance that the keys changed.
	Announce(ctx context.Context) error
	// Follow subscribes and calls heard each time the feed proves alive
	// (changed false) or brings an announcement (changed true), until ctx
	// ends or the feed breaks, which it returns. The first call, with
	// changed true, confirms the subscription: whatever was announced
	// before may have been missed.
	Follow(ctx context.Context, heard func(changed bool)) error
}

// lives returns the lives of records.
func lives(records []Record) []Life {
	out := make([]Life, len(records))
	for i, r := range records {
		out[i] = r.Life
	}
	return out
}
