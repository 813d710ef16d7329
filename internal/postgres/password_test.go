package postgres_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/postgres"
)

// setDisabled sets the fixture account's disabled flag.
func (f sessionFixture) setDisabled(t *testing.T, disabled bool) {
	t.Helper()
	if _, err := f.pool.Exec(t.Context(), "UPDATE accounts SET disabled = $2 WHERE uuid = $1", f.accountUUID, disabled); err != nil {
		t.Fatalf("set disabled: %v", err)
	}
}

func TestChangePasswordRevokesInOneTransaction(t *testing.T) {
	f := newSessionFixture(t)
	accounts := postgres.NewAccountStore(f.pool)
	keep, _ := f.newSession(t, t0)
	a, _ := f.newSession(t, t0)
	b, _ := f.newSession(t, t0)
	now := t0.Add(time.Hour)

	// A stale old hash changes nothing: neither the password nor a session.
	_, err := accounts.ChangePassword(t.Context(), account.PasswordChange{
		AccountUUID: f.accountUUID, OldHash: "stale", NewHash: "new", KeepSession: keep, Now: now,
	})
	if !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("ChangePassword(stale hash): got %v, want %v", err, account.ErrNotFound)
	}
	if got := activeIDs(t, f, now); len(got) != 3 {
		t.Fatalf("sessions after a refused change = %v, want all 3 alive", got)
	}

	got, err := accounts.ChangePassword(t.Context(), account.PasswordChange{
		AccountUUID: f.accountUUID, OldHash: fixtureHash, NewHash: "new", KeepSession: keep, Now: now,
	})
	if err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	want := []string{a, b}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("ChangePassword revoked %v, want %v", got, want)
	}
	if got, want := activeIDs(t, f, now), []string{keep}; !slices.Equal(got, want) {
		t.Fatalf("sessions after the change = %v, want only the caller's %v", got, want)
	}
	acc, err := accounts.ByUUID(t.Context(), f.accountUUID)
	if err != nil || acc.PasswordHash != "new" {
		t.Fatalf("hash after the change = %q, %v, want %q", acc.PasswordHash, err, "new")
	}
}

// TestChangePasswordFailureRevokesNothing cuts the transaction after the
// password update: nothing of it may remain.
func TestChangePasswordFailureRevokesNothing(t *testing.T) {
	f := newSessionFixture(t)
	accounts := postgres.NewAccountStore(f.pool)
	f.newSession(t, t0)
	f.newSession(t, t0)
	// A trigger that fails the revocation half of the change.
	if _, err := f.pool.Exec(t.Context(), `
CREATE FUNCTION fail_revoke() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'revocation failed'; END $$;
CREATE TRIGGER fail_revoke BEFORE UPDATE OF revoked_at ON sessions FOR EACH ROW EXECUTE FUNCTION fail_revoke();`); err != nil {
		t.Fatalf("create trigger: %v", err)
	}
	_, err := accounts.ChangePassword(t.Context(), account.PasswordChange{
		AccountUUID: f.accountUUID, OldHash: fixtureHash, NewHash: "new", Now: t0.Add(time.Hour),
	})
	if err == nil {
		t.Fatal("ChangePassword with a failing revocation succeeded")
	}
	acc, err := accounts.ByUUID(t.Context(), f.accountUUID)
	if err != nil || acc.PasswordHash != fixtureHash {
		t.Fatalf("hash after a failed change = %q, %v, want the old one kept", acc.PasswordHash, err)
	}
}

func TestCreateSessionNeedsTheVerifiedHash(t *testing.T) {
	f := newSessionFixture(t)
	newSession := func(hash string) error {
		return f.store.Create(t.Context(), account.NewSession{
			ID: newID(t), AccountUUID: f.accountUUID, PasswordHash: hash, TokenHash: newHash(t),
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
		})
	}
	if err := newSession("another hash"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Create with a hash that is no longer the account's: got %v, want %v", err, account.ErrNotFound)
	}
	f.setDisabled(t, true)
	if err := newSession(fixtureHash); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Create for a disabled account: got %v, want %v", err, account.ErrNotFound)
	}
	f.setDisabled(t, false)
	if err := newSession(fixtureHash); err != nil {
		t.Fatalf("Create: %v", err)
	}
	var orphans int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM sessions s
		WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens rt WHERE rt.session_id = s.id)`).Scan(&orphans); err != nil {
		t.Fatalf("count sessions without a token: %v", err)
	}
	if orphans != 0 {
		t.Fatalf("%d sessions were stored without their refresh token", orphans)
	}
}

// TestLoginRacingPasswordChange runs session creations that verified the old
// hash against a password change: every session that exists afterwards was
// either refused or revoked by the change (other than the kept one).
func TestLoginRacingPasswordChange(t *testing.T) {
	f := newSessionFixture(t)
	accounts := postgres.NewAccountStore(f.pool)
	keep, _ := f.newSession(t, t0)
	now := t0.Add(time.Minute)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			err := f.store.Create(t.Context(), account.NewSession{
				ID: newID(t), AccountUUID: f.accountUUID, PasswordHash: fixtureHash, TokenHash: newHash(t),
				CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
			})
			if err != nil && !errors.Is(err, account.ErrNotFound) {
				t.Errorf("Create: %v", err)
			}
		})
	}
	wg.Go(func() {
		if _, err := accounts.ChangePassword(t.Context(), account.PasswordChange{
			AccountUUID: f.accountUUID, OldHash: fixtureHash, NewHash: "new", KeepSession: keep, Now: now,
		}); err != nil {
			t.Errorf("ChangePassword: %v", err)
		}
	})
	wg.Wait()
	if got, want := activeIDs(t, f, now), []string{keep}; !slices.Equal(got, want) {
		t.Fatalf("live sessions after the race = %v, want only %v: a login that checked the old password outlived the change", got, want)
	}
}

func TestRotateRefusesDisabledAccount(t *testing.T) {
	f := newSessionFixture(t)
	_, hash := f.newSession(t, t0)
	f.setDisabled(t, true)
	if _, err := f.store.Rotate(t.Context(), rotation(t, hash, t0.Add(time.Minute))); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("Rotate for a disabled account: got %v, want %v", err, account.ErrAccountDisabled)
	}
	// The token was not used up: once the account is enabled again, it
	// rotates as if nothing happened, instead of counting as a replay.
	f.setDisabled(t, false)
	res, err := f.store.Rotate(t.Context(), rotation(t, hash, t0.Add(2*time.Minute)))
	if err != nil || res.Status != account.Rotated {
		t.Fatalf("Rotate after re-enabling: got %+v, %v, want Rotated", res, err)
	}
	f.setDisabled(t, true)
	if _, err := f.store.Rotate(t.Context(), rotation(t, hash, t0.Add(3*time.Minute))); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("Rotate(used token) for a disabled account: got %v, want %v", err, account.ErrAccountDisabled)
	}
}
