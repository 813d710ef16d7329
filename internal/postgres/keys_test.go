package postgres_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/keys"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
	"github.com/accountd/accountd/internal/security"
)

var keyPolicy = keys.Policy{Algorithm: keys.ES256, Rotation: 24 * time.Hour, JWKSMaxAge: 10 * time.Minute, TokenTTL: 30 * time.Minute}

func keyConfig(t *testing.T, store keys.Store, secret string, now func() time.Time) keys.Config {
	t.Helper()
	c, err := keys.NewCipher([]byte(secret))
	if err != nil {
		t.Fatalf("NewCipher: %v", err)
	}
	return keys.Config{Policy: keyPolicy, Cipher: c, Store: store, Now: now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func TestKeyStoreMakesOneFirstKeyForManyInstances(t *testing.T) {
	_, pool := pgtest.NewDatabase(t)
	const instances = 8
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for range instances {
		wg.Go(func() {
			m := keys.NewManager(keyConfig(t, postgres.NewKeyStore(pool), "", time.Now))
			_, err := m.Maintain(context.Background())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Maintain: %v", err)
		}
	}
	list, _, err := postgres.NewKeyStore(pool).Records(t.Context())
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	if len(list) != 1 {
		t.Fatalf("%d keys after %d instances started at once, want 1", len(list), instances)
	}
}

func TestKeyStoreSealsPrivateKeys(t *testing.T) {
	_, pool := pgtest.NewDatabase(t)
	store := postgres.NewKeyStore(pool)
	secret := strings.Repeat("z", 40)
	m := keys.NewManager(keyConfig(t, store, secret, time.Now))
	if _, err := m.Maintain(t.Context()); err != nil {
		t.Fatalf("Maintain: %v", err)
	}
	var raw []byte
	var encrypted bool
	if err := pool.QueryRow(t.Context(), `SELECT private_key, encrypted FROM signing_keys`).Scan(&raw, &encrypted); err != nil {
		t.Fatalf("select: %v", err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(raw); err == nil || !encrypted {
		t.Fatalf("private key stored in the clear (encrypted=%v)", encrypted)
	}
	list, _, err := store.Records(t.Context())
	if err != nil || len(list) != 1 {
		t.Fatalf("Records = %d, %v", len(list), err)
	}
	c, _ := keys.NewCipher([]byte(secret))
	if _, err := list[0].Open(c); err != nil {
		t.Fatalf("Open with SECRET_KEY: %v", err)
	}
	wrong, _ := keys.NewCipher([]byte(strings.Repeat("w", 40)))
	if _, err := list[0].Open(wrong); err == nil {
		t.Fatalf("opened with another SECRET_KEY")
	}
}

func TestKeyStoreVersionAndChanges(t *testing.T) {
	_, pool := pgtest.NewDatabase(t)
	store := postgres.NewKeyStore(pool)
	// A clock that moves a second at each reading: the order of keys
	// follows the order of events, as with a real clock.
	now := time.Now().UTC().Truncate(time.Second)
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	m := keys.NewManager(keyConfig(t, store, "", clock))
	v0, err := store.Version(t.Context())
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if _, err := m.Maintain(t.Context()); err != nil {
		t.Fatalf("Maintain: %v", err)
	}
	v1, _ := store.Version(t.Context())
	if v1 == v0 {
		t.Fatalf("version unchanged by a new key")
	}
	if ch, err := m.Maintain(t.Context()); err != nil || !ch.Empty() {
		t.Fatalf("second Maintain = %+v, %v, want nothing to do", ch, err)
	}
	if v, _ := store.Version(t.Context()); v != v1 {
		t.Fatalf("version moved by a change that wrote nothing")
	}
	next, err := m.Rotate(t.Context(), false)
	if err != nil || next.State != keys.StateNext || next.ActivateAt.Sub(next.CreatedAt) != keyPolicy.PublishBeforeSign() {
		t.Fatalf("Rotate = %+v, %v, want a next key signing after 2 x max age", next, err)
	}
	cur, err := m.Rotate(t.Context(), true)
	if err != nil || cur.ID != next.ID || cur.State != keys.StateCurrent {
		t.Fatalf("Rotate --now = %+v, %v, want %s current", cur, err, next.ID)
	}
	if err := m.Revoke(t.Context(), cur.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := m.Revoke(t.Context(), cur.ID); !errors.Is(err, keys.ErrNotFound) {
		t.Fatalf("Revoke twice = %v, want ErrNotFound", err)
	}
	list, err := m.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	states := map[keys.State]int{}
	for _, s := range list {
		states[s.State]++
	}
	if states[keys.StateRevoked] != 1 || states[keys.StateCurrent] != 1 || states[keys.StateRetired] != 1 {
		t.Fatalf("states = %v, want one revoked, one current (took over), one retired", states)
	}
}

// TestKeySetsOnOneDatabaseAcceptEachOthersTokens runs two instances' key
// sets on one database through a rotation.
func TestKeySetsOnOneDatabaseAcceptEachOthersTokens(t *testing.T) {
	_, pool := pgtest.NewDatabase(t)
	secret := strings.Repeat("s", 32)
	var jwts []*security.JWT
	var sets []*keys.Set
	for range 2 {
		s := keys.NewSet(keyConfig(t, postgres.NewKeyStore(pool), secret, time.Now))
		if err := s.Start(t.Context()); err != nil {
			t.Fatalf("Start: %v", err)
		}
		j, err := security.NewJWT(security.JWTConfig{Keys: s, Issuer: "accountd", TTL: time.Minute})
		if err != nil {
			t.Fatalf("NewJWT: %v", err)
		}
		sets, jwts = append(sets, s), append(jwts, j)
	}
	check := func(phase string) {
		t.Helper()
		for i, a := range jwts {
			tok, _, err := a.Issue("acct", "sess")
			if err != nil {
				t.Fatalf("%s: instance %d Issue: %v", phase, i, err)
			}
			for k, b := range jwts {
				if _, err := b.Verify(tok); err != nil {
					t.Fatalf("%s: instance %d refused a token of instance %d: %v", phase, k, i, err)
				}
			}
		}
	}
	check("one key")
	cur, err := sets[0].Manager().Rotate(t.Context(), true)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	// Both instances learn of the rotation by polling within a second (a
	// forced rotation's token may meet an instance that has not, yet).
	deadline := time.Now().Add(10 * time.Second)
	for i, s := range sets {
		for {
			sk, err := s.Signing()
			if err == nil && sk.ID == cur.ID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("instance %d still signs with %s, want %s", i, sk.ID, cur.ID)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	check("after the rotation")
}
