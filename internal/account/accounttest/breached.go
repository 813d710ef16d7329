package accounttest

import (
	"context"
	"sync"

	"github.com/accountd/accountd/internal/account"
)

// BreachedPasswords is an in-memory list of breached passwords. Err, when
// set, is what Contains returns, as when the list cannot be read.
type BreachedPasswords struct {
	mu        sync.Mutex
	passwords map[string]bool
	Err       error
}

var _ account.BreachedPasswords = (*BreachedPasswords)(nil)

// NewBreachedPasswords returns a list that holds passwords.
func NewBreachedPasswords(passwords ...string) *BreachedPasswords {
	b := &BreachedPasswords{passwords: map[string]bool{}}
	for _, p := range passwords {
		b.passwords[p] = true
	}
	return b
}

// Contains reports whether password is in the list, or returns Err.
func (b *BreachedPasswords) Contains(_ context.Context, password string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Err != nil {
		return false, b.Err
	}
	return b.passwords[password], nil
}
