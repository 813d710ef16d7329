package accounttest_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
	"github.com/accountd/accountd/internal/security"
)

var t0 = accounttest.Epoch

// stores is an account with a password hash "h1" and its stores.
type stores struct {
	accounts *accounttest.AccountStore
	sessions *accounttest.SessionStore
	account  account.Account
}

func newStores(t *testing.T) stores {
	t.Helper()
	accounts := accounttest.NewAccountStore()
	a, err := accounts.Create(t.Context(), account.NewAccount{AccountID: "Alice", PasswordHash: "h1", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	return stores{accounts: accounts, sessions: accounttest.NewSessionStore(accounts), account: a}
}

// newSession starts a session at t0 and returns its id and first token.
func (s stores) newSession(t *testing.T) (string, []byte) {
	t.Helper()
	id, hash := security.NewID(), security.HashToken(security.NewRefreshToken())
	err := s.sessions.Create(t.Context(), account.NewSession{
		ID: id, AccountUUID: s.account.UUID, PasswordHash: "h1", TokenHash: hash,
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return id, hash
}

func rotation(parent []byte, now time.Time) account.Rotation {
	return account.Rotation{
		ParentHash: parent, ChildHash: security.HashToken(security.NewRefreshToken()),
		ChildSealed: []byte("sealed " + security.NewID()), Now: now, ExpiresAt: now.Add(time.Hour),
	}
}

func TestAccountStore(t *testing.T) {
	t.Parallel()
	s := newStores(t)
	ctx := t.Context()
	if _, err := s.accounts.Create(ctx, account.NewAccount{AccountID: "ALICE"}); !errors.Is(err, account.ErrAccountExists) {
		t.Fatalf("Create(ALICE) = %v, want ErrAccountExists", err)
	}
	if a, err := s.accounts.ByAccountID(ctx, "aLiCe"); err != nil || a.UUID != s.account.UUID || a.AccountID != "Alice" {
		t.Fatalf("ByAccountID(aLiCe) = %+v, %v, want Alice as typed", a, err)
	}
	if a, err := s.accounts.ByUUID(ctx, strings.ToUpper(s.account.UUID)); err != nil || a.UUID != s.account.UUID {
		t.Fatalf("ByUUID(upper case) = %+v, %v, want the account", a, err)
	}
	for _, id := range []string{"", "not-a-uuid", "00000000-0000-4000-8000-000000000000"} {
		if _, err := s.accounts.ByUUID(ctx, id); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("ByUUID(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if err := s.accounts.UpdatePasswordHash(ctx, s.account.UUID, "stale", "h2"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("UpdatePasswordHash(stale) = %v, want ErrNotFound", err)
	}
	if err := s.accounts.UpdatePasswordHash(ctx, s.account.UUID, "h1", "h2"); err != nil {
		t.Fatalf("UpdatePasswordHash: %v", err)
	}
	if a, _ := s.accounts.ByUUID(ctx, s.account.UUID); a.PasswordHash != "h2" {
		t.Fatalf("hash = %q, want h2", a.PasswordHash)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	s := newStores(t)
	ctx := t.Context()
	keep, _ := s.newSession(t)
	a, _ := s.newSession(t)
	b, _ := s.newSession(t)
	change := account.PasswordChange{
		AccountUUID: s.account.UUID, OldHash: "stale", NewHash: "h2", KeepSession: strings.ToUpper(keep), Now: t0,
	}
	if _, err := s.accounts.ChangePassword(ctx, change); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("ChangePassword(stale) = %v, want ErrNotFound", err)
	}
	change.OldHash = "h1"
	ids, err := s.accounts.ChangePassword(ctx, change)
	if want := []string{min(a, b), max(a, b)}; err != nil || !slices.Equal(ids, want) {
		t.Fatalf("ChangePassword = %v, %v, want %v", ids, err, want)
	}
	if live, _ := s.sessions.Active(ctx, s.account.UUID, t0); len(live) != 1 || live[0].ID != keep {
		t.Fatalf("Active = %+v, want the kept session", live)
	}
	// A login that verified h1 starts no session now.
	err = s.sessions.Create(ctx, account.NewSession{
		ID: security.NewID(), AccountUUID: s.account.UUID, PasswordHash: "h1", TokenHash: []byte("t"),
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
	})
	if !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Create(old hash) = %v, want ErrNotFound", err)
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	s := newStores(t)
	ctx := t.Context()
	id, first := s.newSession(t)

	r1 := rotation(first, t0.Add(time.Minute))
	res, err := s.sessions.Rotate(ctx, r1)
	if err != nil || res.Status != account.Rotated || res.Session.ID != id || !res.Session.ExpiresAt.Equal(r1.ExpiresAt) {
		t.Fatalf("Rotate = %+v, %v, want Rotated, session %s expiring %v", res, err, id, r1.ExpiresAt)
	}
	res, err = s.sessions.Rotate(ctx, rotation(first, t0.Add(2*time.Minute)))
	if err != nil || res.Status != account.AlreadyRotated || !res.Used.UsedAt.Equal(r1.Now) ||
		!bytes.Equal(res.Used.ChildSealed, r1.ChildSealed) || res.Used.SessionID != id {
		t.Fatalf("Rotate(spent) = %+v, %v, want AlreadyRotated with the sealed child", res, err)
	}
	// Rotating the child clears the sealed copy its parent kept.
	if _, err := s.sessions.Rotate(ctx, rotation(r1.ChildHash, t0.Add(2*time.Minute))); err != nil {
		t.Fatal(err)
	}
	if got, err := s.sessions.ByTokenHash(ctx, first, t0.Add(3*time.Minute)); err != nil || got.ChildSealed != nil {
		t.Fatalf("ByTokenHash(grandparent) = %+v, %v, want no sealed child", got, err)
	}

	// A disabled account's token is refused and left as it was.
	_, unused := s.newSession(t)
	if err := s.accounts.SetDisabled(s.account.UUID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.sessions.Rotate(ctx, rotation(unused, t0)); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("Rotate(disabled) = %v, want ErrAccountDisabled", err)
	}
	if got, err := s.sessions.ByTokenHash(ctx, unused, t0); err != nil || got.Used() {
		t.Fatalf("ByTokenHash after a refused rotation = %+v, %v, want unused", got, err)
	}
	if err := s.accounts.SetDisabled(s.account.UUID, false); err != nil {
		t.Fatal(err)
	}

	_, expiring := s.newSession(t)
	revokedID, revoked := s.newSession(t)
	if _, err := s.sessions.Revoke(ctx, s.account.UUID, revokedID, t0); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]account.Rotation{
		"unknown": rotation([]byte("unknown"), t0),
		"expired": rotation(expiring, t0.Add(time.Hour)),
		"revoked": rotation(revoked, t0),
	} {
		if _, err := s.sessions.Rotate(ctx, r); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("Rotate(%s) = %v, want ErrNotFound", name, err)
		}
		if _, err := s.sessions.ByTokenHash(ctx, r.ParentHash, r.Now); !errors.Is(err, account.ErrNotFound) {
			t.Errorf("ByTokenHash(%s) = %v, want ErrNotFound", name, err)
		}
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	s := newStores(t)
	ctx := t.Context()
	a, _ := s.newSession(t)
	b, _ := s.newSession(t)
	c, _ := s.newSession(t)
	if id, err := s.sessions.Revoke(ctx, strings.ToUpper(s.account.UUID), strings.ToUpper(a), t0); err != nil || id != a {
		t.Fatalf("Revoke(upper case) = %q, %v, want %q", id, err, a)
	}
	if _, err := s.sessions.Revoke(ctx, s.account.UUID, a, t0); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Revoke(again) = %v, want ErrNotFound", err)
	}
	ids, err := s.sessions.RevokeAll(ctx, s.account.UUID, strings.ToUpper(b), t0.Add(time.Second))
	if err != nil || !slices.Equal(ids, []string{c}) {
		t.Fatalf("RevokeAll(except b) = %v, %v, want [%s]", ids, err, c)
	}
	list, err := s.sessions.RevokedSince(ctx, t0)
	if err != nil || len(list) != 2 || list[0].SessionID != a || list[1].SessionID != c {
		t.Fatalf("RevokedSince = %+v, %v, want a then c", list, err)
	}
	if list, _ := s.sessions.RevokedSince(ctx, t0.Add(time.Second)); len(list) != 1 {
		t.Fatalf("RevokedSince(later) = %+v, want c alone", list)
	}
}

func TestRevocations(t *testing.T) {
	t.Parallel()
	clock := accounttest.NewClock(t0)
	r := accounttest.NewRevocations(clock.Now)
	ctx := t.Context()
	if err := r.RevokeSessions(ctx, []string{"a", "b"}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.SessionRevoked(ctx, "a"); err != nil || !ok {
		t.Fatalf("SessionRevoked(a) = %v, %v, want true", ok, err)
	}
	clock.Advance(time.Minute)
	if ok, err := r.SessionRevoked(ctx, "a"); err != nil || ok {
		t.Fatalf("SessionRevoked(a) once its tokens expired = %v, %v, want false", ok, err)
	}
	r.SetUnavailable(true)
	if _, err := r.SessionRevoked(ctx, "a"); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("SessionRevoked while unavailable = %v, want ErrUnavailable", err)
	}
	if a := r.Announcements(); len(a) != 1 || !slices.Equal(a[0].SessionIDs, []string{"a", "b"}) {
		t.Fatalf("Announcements = %+v, want one of a and b", a)
	}
}
