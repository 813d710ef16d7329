package postgres_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
)

func activeIDs(t *testing.T, f sessionFixture, now time.Time) []string {
	t.Helper()
	sessions, err := f.store.Active(t.Context(), f.accountUUID, now)
	if err != nil {
		t.Fatalf("Active: %v", err)
	}
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	return ids
}

func TestActive(t *testing.T) {
	f := newSessionFixture(t)
	oldest, _ := f.newSession(t, t0)
	middle, _ := f.newSession(t, t0.Add(time.Hour))
	newest, _ := f.newSession(t, t0.Add(2*time.Hour))
	now := t0.Add(3 * time.Hour)

	if got, want := activeIDs(t, f, now), []string{newest, middle, oldest}; !slices.Equal(got, want) {
		t.Fatalf("Active = %v, want newest first %v", got, want)
	}
	// The oldest session expires a week after it started; the others an hour or two later.
	if got, want := activeIDs(t, f, t0.Add(7*24*time.Hour)), []string{newest, middle}; !slices.Equal(got, want) {
		t.Fatalf("Active after the oldest expired = %v, want %v", got, want)
	}
	other := sessionFixture{pool: f.pool, store: f.store, accountUUID: newAccount(t, f.pool)}
	if got := activeIDs(t, other, now); len(got) != 0 {
		t.Fatalf("Active(other account) = %v, want none", got)
	}
	if got, err := f.store.Active(t.Context(), "not-a-uuid", now); err != nil || len(got) != 0 {
		t.Fatalf("Active(not-a-uuid) = %v, %v, want none, nil", got, err)
	}
}

func TestRevoke(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	keep, _ := f.newSession(t, t0)
	gone, hash := f.newSession(t, t0.Add(time.Minute))
	now := t0.Add(time.Hour)

	other := newAccount(t, f.pool)
	for name, args := range map[string][2]string{
		"another account's session": {other, gone},
		"unknown session":           {f.accountUUID, newID(t)},
		"invalid session id":        {f.accountUUID, "not-a-uuid"},
		"invalid account uuid":      {"", gone},
	} {
		if _, err := f.store.Revoke(ctx, args[0], args[1], now); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("Revoke(%s): got %v, want %v", name, err, account.ErrNotFound)
		}
	}

	// The id comes back as the database spells it, whatever case it was
	// given in: that is what the revocation must announce.
	if id, err := f.store.Revoke(ctx, f.accountUUID, strings.ToUpper(gone), now); err != nil || id != gone {
		t.Fatalf("Revoke(upper case) = %q, %v, want %q, nil", id, err, gone)
	}
	if got, want := activeIDs(t, f, now), []string{keep}; !slices.Equal(got, want) {
		t.Fatalf("Active after Revoke = %v, want %v", got, want)
	}
	if _, err := f.store.ByTokenHash(ctx, hash, now); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("ByTokenHash(revoked): got %v, want %v", err, account.ErrNotFound)
	}
	var live int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM refresh_tokens WHERE session_id = $1 AND revoked_at IS NULL",
		gone).Scan(&live); err != nil {
		t.Fatalf("count live tokens: %v", err)
	}
	if live != 0 {
		t.Fatalf("revoked session has %d unrevoked refresh tokens, want 0", live)
	}
	if _, err := f.store.Revoke(ctx, f.accountUUID, gone, now); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Revoke twice: got %v, want %v", err, account.ErrNotFound)
	}
}

func TestRevokeAll(t *testing.T) {
	now := t0.Add(time.Hour)

	t.Run("except one", func(t *testing.T) {
		f := newSessionFixture(t)
		a, _ := f.newSession(t, t0)
		b, _ := f.newSession(t, t0)
		c, _ := f.newSession(t, t0)
		got, err := f.store.RevokeAll(t.Context(), f.accountUUID, b, now)
		if err != nil {
			t.Fatalf("RevokeAll: %v", err)
		}
		want := []string{a, c}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("RevokeAll revoked %v, want %v", got, want)
		}
		if got, want := activeIDs(t, f, now), []string{b}; !slices.Equal(got, want) {
			t.Fatalf("Active after RevokeAll = %v, want %v", got, want)
		}
	})

	t.Run("all", func(t *testing.T) {
		f := newSessionFixture(t)
		a, _ := f.newSession(t, t0)
		b, _ := f.newSession(t, t0)
		already, _ := f.newSession(t, t0)
		if _, err := f.store.Revoke(t.Context(), f.accountUUID, already, now); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		other := sessionFixture{pool: f.pool, store: f.store, accountUUID: newAccount(t, f.pool)}
		otherID, _ := other.newSession(t, t0)

		got, err := f.store.RevokeAll(t.Context(), f.accountUUID, "", now)
		if err != nil {
			t.Fatalf("RevokeAll: %v", err)
		}
		want := []string{a, b}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("RevokeAll revoked %v, want %v (not the already revoked one)", got, want)
		}
		if got := activeIDs(t, f, now); len(got) != 0 {
			t.Fatalf("Active after RevokeAll = %v, want none", got)
		}
		if got, want := activeIDs(t, other, now), []string{otherID}; !slices.Equal(got, want) {
			t.Fatalf("other account's sessions after RevokeAll = %v, want %v untouched", got, want)
		}

		got, err = f.store.RevokeAll(t.Context(), f.accountUUID, "", now)
		if err != nil || len(got) != 0 {
			t.Fatalf("RevokeAll again = %v, %v, want none, nil", got, err)
		}
	})
}
