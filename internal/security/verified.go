package security

import (
	"sync"
	"time"
)

// maxVerified bounds the cache of verified tokens; when it is full it
// starts over, which costs one full verification per token.
const maxVerified = 100_000

// verifiedCache remembers access tokens whose signature and claims were
// checked, so that a token presented again costs a map lookup instead of an
// HMAC and a JSON parse. Only tokens that passed every check are stored,
// keyed by their exact text, and each hit is checked against the token's
// expiry again; revocation is not cached here (it is checked on every
// request by the caller).
type verifiedCache struct {
	mu sync.RWMutex
	m  map[string]Claims
}

func (c *verifiedCache) get(token string, now time.Time) (Claims, bool) {
	c.mu.RLock()
	claims, ok := c.m[token]
	c.mu.RUnlock()
	if !ok || !now.Before(claims.ExpiresAt) || now.Before(claims.IssuedAt) {
		return Claims{}, false
	}
	return claims, true
}

func (c *verifiedCache) put(token string, claims Claims) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVerified {
		c.m = make(map[string]Claims)
	}
	c.m[token] = claims
}
