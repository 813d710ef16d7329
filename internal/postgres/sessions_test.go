package postgres_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
)

func rotation(t *testing.T, parent []byte, now time.Time) account.Rotation {
	t.Helper()
	return account.Rotation{
		ParentHash:  parent,
		ChildHash:   newHash(t),
		ChildSealed: []byte("sealed-" + newID(t)),
		Client:      account.Client{IPAddress: "198.51.100.7", UserAgent: "test/2"},
		Now:         now,
		ExpiresAt:   now.Add(7 * 24 * time.Hour),
	}
}

func TestSessionCreateAndRotate(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	id, first := f.newSession(t, t0)

	got, err := f.store.ByTokenHash(ctx, first, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("ByTokenHash: %v", err)
	}
	if got.SessionID != id || got.AccountUUID != f.accountUUID || got.Used() {
		t.Fatalf("ByTokenHash = %+v, want unused token of session %s", got, id)
	}

	now := t0.Add(time.Hour)
	r := rotation(t, first, now)
	res, err := f.store.Rotate(ctx, r)
	if err != nil || res.Status != account.Rotated {
		t.Fatalf("Rotate: %+v, %v, want Rotated", res, err)
	}
	s := res.Session
	if s.ID != id || !s.LastUsedAt.Equal(now) || !s.ExpiresAt.Equal(r.ExpiresAt) || s.IPAddress != "198.51.100.7" ||
		s.UserAgent != "test/2" || !s.CreatedAt.Equal(t0) {
		t.Fatalf("Rotate = %+v, want session %s last used %v, expiring %v, from the new client", s, id, now, r.ExpiresAt)
	}

	// The child works, once.
	later := now.Add(time.Hour)
	// The parent is spent: it reports the child its first use sealed.
	res, err = f.store.Rotate(ctx, rotation(t, first, later))
	if err != nil || res.Status != account.AlreadyRotated {
		t.Fatalf("Rotate(parent again): got %+v, %v, want AlreadyRotated", res, err)
	}
	want := account.RefreshToken{SessionID: id, AccountUUID: f.accountUUID, UsedAt: now, ChildSealed: r.ChildSealed}
	if token := res.Used; token.SessionID != want.SessionID || token.AccountUUID != want.AccountUUID ||
		!token.UsedAt.Equal(want.UsedAt) || !bytes.Equal(token.ChildSealed, want.ChildSealed) {
		t.Fatalf("Rotate(parent again) token = %+v, want %+v", token, want)
	}
	if res.Session.ID != id {
		t.Fatalf("Rotate(parent again) session = %q, want %q", res.Session.ID, id)
	}

	// A spent token still names its session.
	if got, err := f.store.ByTokenHash(ctx, first, later); err != nil || got.SessionID != id || !got.UsedAt.Equal(now) {
		t.Fatalf("ByTokenHash(spent parent) = %+v, %v, want session %q used at %v", got, err, id, now)
	}

	// Once the child is rotated in turn, the parent's sealed copy of it is
	// gone: the parent plus a copy of the database no longer open a child.
	if res, err := f.store.Rotate(ctx, rotation(t, r.ChildHash, later)); err != nil || res.Status != account.Rotated {
		t.Fatalf("Rotate(child): got %+v, %v, want Rotated", res, err)
	}
	res, err = f.store.Rotate(ctx, rotation(t, first, later))
	if err != nil || res.Status != account.AlreadyRotated || res.Used.ChildSealed != nil {
		t.Fatalf("Rotate(parent) after its child rotated: got %+v, %v, want AlreadyRotated with no sealed child", res, err)
	}
	if n := f.countTokens(t, id); n != 3 {
		t.Fatalf("session has %d refresh tokens, want 3", n)
	}
}

func TestRotateNotFound(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()

	t.Run("unknown", func(t *testing.T) {
		if _, err := f.store.Rotate(ctx, rotation(t, newHash(t), t0)); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("got %v, want %v", err, account.ErrNotFound)
		}
	})
	t.Run("expired", func(t *testing.T) {
		_, hash := f.newSession(t, t0)
		expiry := t0.Add(7 * 24 * time.Hour)
		for _, now := range []time.Time{expiry, expiry.Add(time.Second)} {
			if _, err := f.store.Rotate(ctx, rotation(t, hash, now)); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("Rotate at %v: got %v, want %v", now, err, account.ErrNotFound)
			}
			if _, err := f.store.ByTokenHash(ctx, hash, now); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("ByTokenHash at %v: got %v, want %v", now, err, account.ErrNotFound)
			}
		}
	})
	t.Run("revoked session", func(t *testing.T) {
		id, hash := f.newSession(t, t0)
		r := rotation(t, hash, t0.Add(time.Minute))
		if _, err := f.store.Rotate(ctx, r); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if _, err := f.store.Revoke(ctx, f.accountUUID, id, t0.Add(2*time.Minute)); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		for name, h := range map[string][]byte{"spent parent": hash, "child": r.ChildHash} {
			if _, err := f.store.Rotate(ctx, rotation(t, h, t0.Add(3*time.Minute))); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("Rotate(%s) after Revoke: got %v, want %v", name, err, account.ErrNotFound)
			}
			if _, err := f.store.ByTokenHash(ctx, h, t0.Add(3*time.Minute)); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("ByTokenHash(%s) after Revoke: got %v, want %v", name, err, account.ErrNotFound)
			}
		}
	})
}

func TestRotateRace(t *testing.T) {
	f := newSessionFixture(t)
	id, parent := f.newSession(t, t0)
	now := t0.Add(time.Hour)

	const racers = 20
	type result struct {
		rotation account.Rotation
		res      account.RotationResult
		err      error
	}
	results := make([]result, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			r := rotation(t, parent, now)
			r.ChildSealed = fmt.Appendf(nil, "sealed by racer %d", i)
			res, err := f.store.Rotate(t.Context(), r)
			results[i] = result{r, res, err}
		})
	}
	wg.Wait()

	var winners []result
	for _, res := range results {
		if res.err != nil {
			t.Fatalf("Rotate: %v", res.err)
		}
		if res.res.Status == account.Rotated {
			winners = append(winners, res)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d racers rotated the token, want exactly 1", len(winners))
	}
	sealed := winners[0].rotation.ChildSealed
	for i, res := range results {
		if res.res.Status == account.Rotated {
			continue
		}
		if res.res.Status != account.AlreadyRotated {
			t.Fatalf("racer %d: got %+v, want AlreadyRotated", i, res.res)
		}
		if !bytes.Equal(res.res.Used.ChildSealed, sealed) {
			t.Fatalf("racer %d: ChildSealed = %q, want the winner's %q", i, res.res.Used.ChildSealed, sealed)
		}
	}
	if n := f.countTokens(t, id); n != 2 {
		t.Fatalf("session has %d refresh tokens, want 2", n)
	}
}

// TestRotateRevokeRace checks that rotations and revocations of one session
// running together neither deadlock nor leave a live child.
func TestRotateRevokeRace(t *testing.T) {
	f := newSessionFixture(t)
	for range 10 {
		id, hash := f.newSession(t, t0)
		var wg sync.WaitGroup
		var rotateErr, revokeErr error
		r := rotation(t, hash, t0.Add(time.Minute))
		wg.Go(func() { _, rotateErr = f.store.Rotate(t.Context(), r) })
		wg.Go(func() { _, revokeErr = f.store.Revoke(t.Context(), f.accountUUID, id, t0.Add(time.Minute)) })
		wg.Wait()
		if rotateErr != nil && !errors.Is(rotateErr, account.ErrNotFound) {
			t.Fatalf("Rotate: got %v, want nil or %v", rotateErr, account.ErrNotFound)
		}
		if revokeErr != nil {
			t.Fatalf("Revoke: got %v, want nil", revokeErr)
		}
		if _, err := f.store.ByTokenHash(t.Context(), r.ChildHash, t0.Add(2*time.Minute)); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("ByTokenHash(child) after Revoke: got %v, want %v", err, account.ErrNotFound)
		}
	}
}

func TestRotateWithinSessionLifetime(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	_, first := f.newSession(t, t0)
	r := rotation(t, first, t0.Add(30*time.Minute))
	r.SessionLifetime = time.Hour
	res, err := f.store.Rotate(ctx, r)
	if err != nil || res.Status != account.Rotated {
		t.Fatalf("Rotate within the lifetime: %+v, %v, want Rotated", res, err)
	}
	// Neither the child nor the session outlives the session's end.
	if end := t0.Add(time.Hour); !res.Session.ExpiresAt.Equal(end) || !res.Session.CreatedAt.Equal(t0) {
		t.Fatalf("session after rotation = %+v, want it to expire at its end %v", res.Session, end)
	}
	var childExpires time.Time
	if err := f.pool.QueryRow(ctx, "SELECT expires_at FROM refresh_tokens WHERE token_hash = $1", r.ChildHash).
		Scan(&childExpires); err != nil || !childExpires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("child expires at %v, %v, want the session's end %v", childExpires, err, t0.Add(time.Hour))
	}

	late := rotation(t, r.ChildHash, t0.Add(time.Hour))
	late.SessionLifetime = time.Hour
	if _, err := f.store.Rotate(ctx, late); !errors.Is(err, account.ErrSessionExpired) {
		t.Fatalf("Rotate at the session's end: got %v, want %v", err, account.ErrSessionExpired)
	}
	// Refused, not used up.
	if got, err := f.store.ByTokenHash(ctx, r.ChildHash, t0.Add(59*time.Minute)); err != nil || got.Used() {
		t.Fatalf("child after a refused rotation = %+v, %v, want it unused", got, err)
	}
}
