package account

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// profileTTL bounds how stale a cached profile may be. The fields /me shows
// (uuid, account_id, created_at) never change; only the disabled flag can,
// out of band, and it then shows on /me within this time (login and refresh
// always read it fresh).
const profileTTL = 5 * time.Second

// maxProfiles bounds the cache; when it is full it starts over.
const maxProfiles = 100_000

type cachedProfile struct {
	account Account
	until   time.Time
}

// profiles caches accounts by UUID for /me, so that the hot path makes no
// database query. It never holds password hashes.
type profiles struct {
	mu sync.RWMutex
	m  map[string]cachedProfile
}

func (c *profiles) get(uuid string, now time.Time) (Account, bool) {
	c.mu.RLock()
	p, ok := c.m[uuid]
	c.mu.RUnlock()
	return p.account, ok && now.Before(p.until)
}

func (c *profiles) put(a Account, now time.Time) {
	a.PasswordHash = ""
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxProfiles {
		c.m = make(map[string]cachedProfile)
	}
	c.m[a.UUID] = cachedProfile{account: a, until: now.Add(profileTTL)}
}

// Profile returns the caller's account for display (no password hash), from
// a short-lived cache when it can, so that /me costs no database query. A
// deleted account gives ErrInvalidToken and a disabled one
// ErrAccountDisabled.
func (s *Service) Profile(ctx context.Context, p Principal) (Account, error) {
	now := s.cfg.Now()
	a, ok := s.profiles.get(p.AccountUUID, now)
	if !ok {
		var err error
		a, err = s.accounts.ByUUID(ctx, p.AccountUUID)
		switch {
		case errors.Is(err, ErrNotFound):
			return Account{}, ErrInvalidToken
		case err != nil:
			return Account{}, fmt.Errorf("find account: %w", err)
		}
		s.profiles.put(a, now)
	}
	if a.Disabled {
		return Account{}, ErrAccountDisabled
	}
	return a, nil
}
