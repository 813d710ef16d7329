package keys

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/accountd/accountd/internal/security"
)

var _ security.SigningKeys = (*Set)(nil)

// Set is one instance's copy of the keys: what the JWT code signs and
// verifies with and what the JWKS shows. Its answers cost no I/O; Run keeps
// it fresh (sync.go), and while it may be out of date it refuses to verify
// (security.ErrKeysUnavailable) rather than accept a revoked key's token.
type Set struct {
	cfg     Config
	manager *Manager
	snap    atomic.Pointer[snapshot]
	fresh   freshness
	wake    chan struct{}
}

// NewSet returns an empty Set; Start loads it.
func NewSet(c Config) *Set {
	c = c.withDefaults()
	s := &Set{cfg: c, manager: NewManager(c), wake: make(chan struct{}, 1)}
	s.fresh.init()
	return s
}

// snapshot is the keys as of one version of the store.
type snapshot struct {
	version int64
	lives   []Life
	keys    map[string]Key
	view    atomic.Pointer[view]
}

// view is what a snapshot means from at until until, when some key's state
// changes next.
type view struct {
	at, until time.Time
	states    map[string]State
	current   *Key
	jwks      []byte
	etag      string
	counts    map[State]int
}

// view returns the snapshot's view at now, deriving it again when a key's
// state may have changed since it was made.
func (s *snapshot) viewAt(p Policy, now time.Time) *view {
	if v := s.view.Load(); v != nil && !now.Before(v.at) && now.Before(v.until) {
		return v
	}
	v := newView(p, s, now)
	s.view.Store(v)
	return v
}

// forever is the until of a view in which no state will change.
const forever = 100 * 365 * 24 * time.Hour

func newView(p Policy, s *snapshot, now time.Time) *view {
	v := &view{at: now, until: now.Add(forever), states: make(map[string]State, len(s.lives)),
		counts: make(map[State]int, len(States))}
	var published []jose.JSONWebKey
	for _, st := range p.StatusAt(s.lives, now) {
		v.states[st.ID] = st.State
		v.counts[st.State]++
		for _, t := range []time.Time{st.ActivateAt, st.Until} {
			if t.After(now) && t.Before(v.until) {
				v.until = t
			}
		}
		k := s.keys[st.ID]
		if st.State == StateCurrent {
			v.current = &k
		}
		if st.Published() {
			published = append(published, jose.JSONWebKey{Key: k.Public, KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig"})
		}
	}
	// A successor's activation retires its predecessor, so every state
	// change falls on an ActivateAt or an Until found above.
	slices.SortFunc(published, func(a, b jose.JSONWebKey) int {
		if a.KeyID < b.KeyID {
			return -1
		}
		return 1
	})
	v.jwks, v.etag = encodeJWKS(published)
	return v
}

// encodeJWKS returns the JWKS document of keys and its ETag.
func encodeJWKS(keys []jose.JSONWebKey) ([]byte, string) {
	if keys == nil {
		keys = []jose.JSONWebKey{}
	}
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		// Only public keys of the three supported types get here; go-jose
		// encodes every one of them.
		panic(fmt.Sprintf("encode JWKS: %v", err))
	}
	sum := sha256.Sum256(body)
	return body, `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// current returns the view of now, or nil before the first load.
func (s *Set) current() *view {
	snap := s.snap.Load()
	if snap == nil {
		return nil
	}
	return snap.viewAt(s.cfg.Policy, s.cfg.Now())
}

// Signing returns the current key. It returns security.ErrKeysUnavailable
// before the first load or while no key is current (the maintenance makes
// one within a poll).
func (s *Set) Signing() (security.SigningKey, error) {
	v := s.current()
	if v == nil || v.current == nil {
		return security.SigningKey{}, security.ErrKeysUnavailable
	}
	k := v.current
	return security.SigningKey{ID: k.ID, Method: k.Method, Key: k.Private}, nil
}

// Verifying returns the public key of a published key for a token of alg.
func (s *Set) Verifying(kid, alg string) (any, error) {
	if err := s.Usable(kid); err != nil {
		return nil, err
	}
	k := s.snap.Load().keys[kid]
	if k.Algorithm != alg {
		return nil, security.ErrKeyAlgorithm
	}
	return k.Public, nil
}

// Usable checks that kid names a published key, in a map lookup, and that
// the set is fresh enough to say so.
func (s *Set) Usable(kid string) error {
	if !s.fresh.ok() {
		return security.ErrKeysUnavailable
	}
	v := s.current()
	if v == nil {
		return security.ErrKeysUnavailable
	}
	switch st, ok := v.states[kid]; {
	case !ok || st == StateGone:
		return security.ErrUnknownKey
	case st == StateRevoked:
		return security.ErrKeyRevoked
	default:
		return nil
	}
}

// Algorithms lists the algs a token of this set may carry.
func (s *Set) Algorithms() []string { return slices.Clone(Algorithms) }

// JWKS returns the JWKS document of the published keys and its ETag.
func (s *Set) JWKS() (body []byte, etag string) {
	v := s.current()
	if v == nil {
		return encodeJWKS(nil)
	}
	return v.jwks, v.etag
}

// Counts returns how many keys are in each state, for metrics.
func (s *Set) Counts() map[State]int {
	out := make(map[State]int, len(States))
	for _, st := range States {
		out[st] = 0
	}
	if v := s.current(); v != nil {
		for st, n := range v.counts {
			out[st] = n
		}
	}
	return out
}

// Manager returns the manager the set maintains the keys with.
func (s *Set) Manager() *Manager { return s.manager }
