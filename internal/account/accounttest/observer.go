package accounttest

import (
	"sync"

	"github.com/accountd/accountd/internal/account"
)

// Observer is an account.Observer that counts what it is told. It is safe
// for concurrent use.
type Observer struct {
	mu        sync.Mutex
	logins    map[account.LoginOutcome]int
	refreshes map[account.RefreshOutcome]int
	revoked   map[account.RevokeReason]int
	mfa       map[mfaKey]int
}

type mfaKey struct {
	factor  account.Factor
	outcome account.MFAOutcome
}

var _ account.Observer = (*Observer)(nil)

// NewObserver returns an Observer with every count at zero.
func NewObserver() *Observer {
	return &Observer{
		logins:    make(map[account.LoginOutcome]int),
		refreshes: make(map[account.RefreshOutcome]int),
		revoked:   make(map[account.RevokeReason]int),
		mfa:       make(map[mfaKey]int),
	}
}

// Login counts one login attempt.
func (o *Observer) Login(outcome account.LoginOutcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.logins[outcome]++
}

// Refresh counts one refresh attempt.
func (o *Observer) Refresh(outcome account.RefreshOutcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refreshes[outcome]++
}

// SessionsRevoked counts n revoked sessions.
func (o *Observer) SessionsRevoked(reason account.RevokeReason, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.revoked[reason] += n
}

// Logins returns how many login attempts ended with outcome.
func (o *Observer) Logins(outcome account.LoginOutcome) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.logins[outcome]
}

// Refreshes returns how many refresh attempts ended with outcome.
func (o *Observer) Refreshes(outcome account.RefreshOutcome) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.refreshes[outcome]
}

// Revoked returns how many sessions were revoked for reason.
func (o *Observer) Revoked(reason account.RevokeReason) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.revoked[reason]
}

// MFALogin counts one attempt to finish a login with a second factor.
func (o *Observer) MFALogin(factor account.Factor, outcome account.MFAOutcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mfa[mfaKey{factor, outcome}]++
}

// MFALogins returns how many attempts with factor ended with outcome.
func (o *Observer) MFALogins(factor account.Factor, outcome account.MFAOutcome) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.mfa[mfaKey{factor, outcome}]
}
