package security

import (
	"strings"
	"time"

	"github.com/accountd/accountd/internal/cache"
)

// Bounds of the cache of verified tokens: two generations of at most
// verifiedGeneration tokens, each at most verifiedAge old. A token not seen
// for two generations costs one full verification again.
const (
	verifiedGeneration = 10_000
	verifiedAge        = time.Minute
)

// verifiedCache remembers access tokens whose signature and claims were
// checked, so that a token presented again costs a map lookup instead of an
// HMAC and a JSON parse. Only tokens that passed every check are stored,
// keyed by their exact text, and each hit is checked against the token's
// expiry again; revocation is not cached here (the caller checks it on every
// request). Its bounds keep the steady stream of new tokens that refreshes
// mint from growing the heap.
type verifiedCache struct {
	m *cache.Map[string, Claims]
}

func newVerifiedCache() verifiedCache {
	return verifiedCache{m: cache.New[string, Claims](verifiedGeneration, verifiedAge)}
}

func (c verifiedCache) get(token string, now time.Time) (Claims, bool) {
	claims, ok := c.m.Get(token)
	if !ok || !now.Before(claims.ExpiresAt) || now.Before(claims.IssuedAt) {
		return Claims{}, false
	}
	return claims, true
}

func (c verifiedCache) put(token string, claims Claims, now time.Time) {
	// A copy, so that the key does not keep the request's header alive.
	c.m.Put(strings.Clone(token), claims, now)
}

func (c verifiedCache) len() int { return c.m.Len() }
