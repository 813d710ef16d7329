package keys

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/accountd/accountd/internal/security"
)

// memStore is an in-memory Store.
type memStore struct {
	mu      sync.Mutex
	records []Record
	version int64
	fail    error
}

func (m *memStore) Version(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version, m.fail
}

func (m *memStore) Records(context.Context) ([]Record, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.records), m.version, m.fail
}

func (m *memStore) Change(_ context.Context, decide func([]Record) (Changes, error)) (Changes, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return Changes{}, m.fail
	}
	c, err := decide(slices.Clone(m.records))
	if err != nil || c.Empty() {
		return c, err
	}
	var out []Record
	for _, r := range m.records {
		if slices.Contains(c.Delete, r.ID) {
			continue
		}
		if at, ok := c.Activate[r.ID]; ok {
			r.ActivateAt = at
		}
		if at, ok := c.Revoke[r.ID]; ok {
			r.RevokedAt = at
		}
		out = append(out, r)
	}
	m.records = append(out, c.Insert...)
	m.version++
	return c, nil
}

func (m *memStore) setFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// fakeClock is the key life's injected clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestSet(t *testing.T, store Store, clock *fakeClock) *Set {
	t.Helper()
	s := NewSet(Config{Policy: testPolicy, Store: store, Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.sync(t.Context(), time.Minute); err != nil {
		t.Fatalf("sync: %v", err)
	}
	return s
}

func newTestJWT(t *testing.T, s *Set, clock *fakeClock) *security.JWT {
	t.Helper()
	j, err := security.NewJWT(security.JWTConfig{Keys: s, Issuer: "accountd", TTL: testPolicy.TokenTTL, Now: clock.Now})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return j
}

func TestSetSignsAndVerifiesWithTheCurrentKey(t *testing.T) {
	clock := &fakeClock{now: t0}
	store := &memStore{}
	s := newTestSet(t, store, clock)
	j := newTestJWT(t, s, clock)
	tok, claims, err := j.Issue("acct", "sess")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	parsed, _, _ := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if parsed.Header["alg"] != ES256 || parsed.Header["kid"] != store.records[0].ID || claims.KeyID != store.records[0].ID {
		t.Fatalf("header = %v, want ES256 and kid %s", parsed.Header, store.records[0].ID)
	}
	if _, err := j.Verify(tok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	body, etag := s.JWKS()
	if etag == "" || !jwksHas(t, body, store.records[0].ID) {
		t.Fatalf("JWKS = %s (etag %q), want the current key", body, etag)
	}
}

func TestSetRefusesARevokedKeysTokensEvenWhenCached(t *testing.T) {
	clock := &fakeClock{now: t0}
	store := &memStore{}
	s := newTestSet(t, store, clock)
	j := newTestJWT(t, s, clock)
	tok, _, _ := j.Issue("acct", "sess")
	if _, err := j.Verify(tok); err != nil { // now in the verified-token cache
		t.Fatalf("Verify: %v", err)
	}
	kid := store.records[0].ID
	if err := s.Manager().Revoke(t.Context(), kid); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := s.sync(t.Context(), time.Minute); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if _, err := j.Verify(tok); !errors.Is(err, security.ErrTokenInvalid) {
		t.Fatalf("Verify after revocation = %v, want ErrTokenInvalid", err)
	}
	if err := s.Usable(kid); !errors.Is(err, security.ErrKeyRevoked) {
		t.Fatalf("Usable = %v, want ErrKeyRevoked", err)
	}
	body, _ := s.JWKS()
	if jwksHas(t, body, kid) {
		t.Fatalf("JWKS still publishes the revoked key: %s", body)
	}
	fresh, _, err := j.Issue("acct", "sess")
	if err != nil {
		t.Fatalf("Issue after revocation: %v", err)
	}
	if _, err := j.Verify(fresh); err != nil {
		t.Fatalf("a token of the key that took over: %v", err)
	}
}

func TestSetFailsClosedWhenStale(t *testing.T) {
	clock := &fakeClock{now: t0}
	store := &memStore{}
	s := newTestSet(t, store, clock)
	j := newTestJWT(t, s, clock)
	tok, _, _ := j.Issue("acct", "sess")
	store.setFail(errors.New("store down"))
	if err := s.sync(t.Context(), time.Second); err == nil {
		t.Fatalf("sync with the store down succeeded")
	}
	// As if StaleAfter had passed since the last good poll.
	s.fresh.lastSync.Store(s.fresh.elapsed() - int64(StaleAfter) - 1)
	if _, err := j.Verify(tok); !errors.Is(err, security.ErrKeysUnavailable) {
		t.Fatalf("Verify with stale keys = %v, want ErrKeysUnavailable", err)
	}
	// The feed alone keeps the set fresh while it brings no change...
	s.heard(false)
	if _, err := j.Verify(tok); err != nil {
		t.Fatalf("Verify with the feed alive = %v, want ok", err)
	}
	// ...but not once it announced one that no poll has loaded.
	s.heard(true)
	if _, err := j.Verify(tok); !errors.Is(err, security.ErrKeysUnavailable) {
		t.Fatalf("Verify after an unloaded announcement = %v, want ErrKeysUnavailable", err)
	}
	store.setFail(nil)
	if err := s.sync(t.Context(), time.Second); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if _, err := j.Verify(tok); err != nil {
		t.Fatalf("Verify after a good poll = %v", err)
	}
}

func TestSetFollowsTheKeyLifeWithoutWrites(t *testing.T) {
	clock := &fakeClock{now: t0}
	store := &memStore{}
	s := newTestSet(t, store, clock)
	j := newTestJWT(t, s, clock)
	first := store.records[0].ID
	clock.Advance(testPolicy.Rotation - testPolicy.PublishBeforeSign())
	if err := s.sync(t.Context(), time.Minute); err != nil { // the maintenance makes the next key
		t.Fatalf("sync: %v", err)
	}
	if len(store.records) != 2 {
		t.Fatalf("%d keys, want the next key made", len(store.records))
	}
	second := store.records[1].ID
	body, _ := s.JWKS()
	if !jwksHas(t, body, second) {
		t.Fatalf("next key not published: %s", body)
	}
	old, _, _ := j.Issue("acct", "sess")
	clock.Advance(testPolicy.PublishBeforeSign())
	tok, claims, _ := j.Issue("acct", "sess")
	if claims.KeyID != second {
		t.Fatalf("signed with %s after the rotation time, want %s", claims.KeyID, second)
	}
	for _, tk := range []string{old, tok} {
		if _, err := j.Verify(tk); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	if c := s.Counts(); c[StateCurrent] != 1 || c[StateRetired] != 1 {
		t.Fatalf("counts = %v, want one current and one retired", c)
	}
	clock.Advance(testPolicy.Retention())
	if err := s.Usable(first); !errors.Is(err, security.ErrUnknownKey) {
		t.Fatalf("retired key past its retention: %v, want ErrUnknownKey", err)
	}
}

func TestUnloadedSetNeitherSignsNorVerifies(t *testing.T) {
	clock := &fakeClock{now: t0}
	s := NewSet(Config{Policy: testPolicy, Store: &memStore{}, Now: clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	j := newTestJWT(t, s, clock)
	if _, _, err := j.Issue("acct", "sess"); !errors.Is(err, security.ErrKeysUnavailable) {
		t.Fatalf("Issue before the first load = %v, want ErrKeysUnavailable (a 503, not a 500)", err)
	}
	if _, err := j.Verify("a.b.c"); !errors.Is(err, security.ErrTokenInvalid) {
		t.Fatalf("Verify of garbage before the first load = %v, want ErrTokenInvalid", err)
	}
	if err := s.Usable("any"); !errors.Is(err, security.ErrKeysUnavailable) {
		t.Fatalf("Usable before the first load = %v, want ErrKeysUnavailable", err)
	}
}
