package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/accountd/accountd/internal/cache"
)

// profileTTL bounds how stale a cached profile may be. The fields /me shows
// (uuid, account_id, created_at) never change; only the disabled flag can,
// out of band, and it then shows on /me within this time (login and refresh
// always read it fresh).
const profileTTL = 5 * time.Second

// profileGeneration bounds the profile cache (two generations of it).
const profileGeneration = 50_000

// cachedProfile is an account without its password hash, and when it was
// read.
type cachedProfile struct {
	account Account
	read    time.Time
}

func newProfileCache() *cache.Map[string, cachedProfile] {
	return cache.New[string, cachedProfile](profileGeneration, profileTTL)
}

// Profile returns the caller's account for display (no password hash), from
// a short-lived cache when it can, so that /me costs no database query. A
// deleted account gives ErrInvalidToken and a disabled one
// ErrAccountDisabled.
func (s *Service) Profile(ctx context.Context, p Principal) (Account, error) {
	now := s.cfg.Now()
	cached, ok := s.profiles.Get(p.AccountUUID)
	a := cached.account
	if !ok || now.Sub(cached.read) >= profileTTL || now.Before(cached.read) {
		var err error
		a, err = s.accounts.ByUUID(ctx, p.AccountUUID)
		switch {
		case errors.Is(err, ErrNotFound):
			return Account{}, ErrInvalidToken
		case err != nil:
			return Account{}, fmt.Errorf("find account: %w", err)
		}
		a.PasswordHash = ""
		s.profiles.Put(a.UUID, cachedProfile{account: a, read: now}, now)
	}
	if a.Disabled {
		return Account{}, ErrAccountDisabled
	}
	return a, nil
}
