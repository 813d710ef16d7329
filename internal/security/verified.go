package security

import (
	"strings"
	"sync"
	"time"
)

// Bounds of the cache of verified tokens: it keeps two generations of at
// most verifiedGeneration entries each, and starts a new generation when the
// current one is full or older than verifiedAge. A token not seen for two
// generations costs one full verification again.
const (
	verifiedGeneration = 10_000
	verifiedAge        = time.Minute
)

// verifiedCache remembers access tokens whose signature and claims were
// checked, so that a token presented again costs a map lookup instead of an
// HMAC and a JSON parse. Only tokens that passed every check are stored,
// keyed by their exact text, and each hit is checked against the token's
// expiry again; revocation is not cached here (it is checked on every
// request by the caller). Its size is bounded by count and by age, so the
// steady stream of new tokens that refreshes mint does not grow the heap.
type verifiedCache struct {
	mu       sync.RWMutex
	cur, old map[string]Claims
	started  time.Time
}

func (c *verifiedCache) get(token string, now time.Time) (Claims, bool) {
	c.mu.RLock()
	claims, ok := c.cur[token]
	if !ok {
		claims, ok = c.old[token]
	}
	c.mu.RUnlock()
	if !ok || !now.Before(claims.ExpiresAt) || now.Before(claims.IssuedAt) {
		return Claims{}, false
	}
	return claims, true
}

func (c *verifiedCache) put(token string, claims Claims, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || len(c.cur) >= verifiedGeneration || now.Sub(c.started) > verifiedAge {
		c.old, c.cur, c.started = c.cur, make(map[string]Claims), now
	}
	// A copy, so that the key does not keep the request's header alive.
	c.cur[strings.Clone(token)] = claims
}

// len returns how many tokens the cache holds.
func (c *verifiedCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.cur) + len(c.old)
}
