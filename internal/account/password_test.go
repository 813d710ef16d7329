package account_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

const newPassword = "a brand new password"

func TestChangePasswordRevokesOtherSessions(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a, bob := s.AddAccount(t, "alice"), s.AddAccount(t, "bob")
	caller, second, third := s.StartSession(t, a.UUID), s.StartSession(t, a.UUID), s.StartSession(t, a.UUID)
	bobs := s.StartSession(t, bob.UUID)
	ctx := t.Context()

	if err := s.ChangePassword(ctx, accounttest.Principal(caller), password, newPassword, client); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	revoked := sorted(second.SessionID, third.SessionID)
	if a := s.Revocations.Announcements(); len(a) != 1 || !slices.Equal(sorted(a[0].SessionIDs...), revoked) {
		t.Fatalf("announcements = %+v, want one of %v", a, revoked)
	}
	for _, tk := range []account.Tokens{second, third} {
		if _, err := s.Authenticate(ctx, tk.AccessToken); !errors.Is(err, account.ErrTokenRevoked) {
			t.Fatalf("Authenticate(other session) = %v, want ErrTokenRevoked", err)
		}
		if _, err := s.Refresh(ctx, tk.RefreshToken, client); !errors.Is(err, account.ErrInvalidToken) {
			t.Fatalf("Refresh(other session) = %v, want ErrInvalidToken", err)
		}
	}
	// The caller's session goes on, and so do other accounts'.
	if _, err := s.Authenticate(ctx, caller.AccessToken); err != nil {
		t.Fatalf("Authenticate(caller) = %v", err)
	}
	mustRefresh(t, s, caller.RefreshToken)
	if got := activeIDs(t, s, bob.UUID); !slices.Equal(got, []string{bobs.SessionID}) {
		t.Fatalf("bob's sessions = %v, want his one", got)
	}
	if _, err := s.Login(ctx, "alice", password, client); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("Login(old password) = %v, want ErrInvalidCredentials", err)
	}
	if _, err := s.Login(ctx, "alice", newPassword, client); err != nil {
		t.Fatalf("Login(new password) = %v", err)
	}
	if n := s.Observer.Revoked(account.RevokePasswordChange); n != 2 {
		t.Fatalf("observed %d sessions revoked for a password change, want 2", n)
	}
}

func TestChangePasswordRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		old, new  string
		wantErr   error
		wantField string
	}{
		{name: "wrong old password", old: wrongPassword, new: newPassword, wantErr: account.ErrInvalidPassword},
		{name: "unchanged", old: password, new: password, wantErr: account.ErrPasswordUnchanged},
		{name: "new too short", old: password, new: "short", wantField: "new_password"},
		{name: "new equals the account id", old: password, new: "ALICE.IN.WONDERLAND", wantField: "new_password"},
	}
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice.in.wonderland")
	p := accounttest.Principal(s.StartSession(t, a.UUID))
	other := s.StartSession(t, a.UUID)
	for _, c := range cases {
		err := s.ChangePassword(t.Context(), p, c.old, c.new, client)
		var v *account.ValidationError
		switch {
		case c.wantField != "":
			if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != c.wantField {
				t.Errorf("%s: ChangePassword = %v, want a validation error of %s", c.name, err, c.wantField)
			}
		case !errors.Is(err, c.wantErr):
			t.Errorf("%s: ChangePassword = %v, want %v", c.name, err, c.wantErr)
		}
	}
	// Nothing changed.
	if got := activeIDs(t, s, a.UUID); len(got) != 2 || len(s.Revocations.Announcements()) != 0 {
		t.Fatalf("sessions = %v, announcements %v, want both sessions untouched", got, s.Revocations.Announcements())
	}
	if _, err := s.Authenticate(t.Context(), other.AccessToken); err != nil {
		t.Fatalf("Authenticate(other session) = %v", err)
	}
}

// A login that verified the old password while a change committed cannot
// start a session afterwards: it would outlive the change's revocation of
// every other session.
func TestLoginRacingPasswordChange(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice")
	caller := s.StartSession(t, a.UUID)
	var once sync.Once
	s.SessionStore.SetBeforeCreate(func(account.NewSession) {
		once.Do(func() {
			// Between the login's bcrypt comparison and its session.
			if err := s.ChangePassword(t.Context(), accounttest.Principal(caller), password, newPassword, client); err != nil {
				t.Errorf("ChangePassword: %v", err)
			}
		})
	})
	if _, err := s.Login(t.Context(), "alice", password, client); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("Login with the password changed meanwhile = %v, want ErrInvalidCredentials", err)
	}
	if got := activeIDs(t, s, a.UUID); !slices.Equal(got, []string{caller.SessionID}) {
		t.Fatalf("sessions = %v, want only the caller's", got)
	}
	if _, err := s.Login(t.Context(), "alice", newPassword, client); err != nil {
		t.Fatalf("Login(new password) = %v", err)
	}
	// The store refuses the old hash however late the login comes.
	err := s.SessionStore.Create(t.Context(), account.NewSession{
		ID: "11111111-2222-4333-8444-555555555555", AccountUUID: a.UUID, PasswordHash: accounttest.PasswordHash,
		TokenHash: []byte("late"), CreatedAt: s.Clock.Now(), ExpiresAt: s.Clock.Now().Add(accounttest.RefreshTTL),
	})
	if !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("SessionStore.Create(old hash) = %v, want ErrNotFound", err)
	}
}

// A login rehashes a password hashed at another cost, with a compare and
// swap that a password change in between wins.
func TestLoginRehashes(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	ctx := t.Context()
	old, err := bcrypt.GenerateFromPassword([]byte(password), s.Hasher.Cost()+1)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AccountStore.Create(ctx, account.NewAccount{AccountID: "alice", PasswordHash: string(old)})
	if err != nil {
		t.Fatal(err)
	}
	s.MustLogin(t, "alice", password)
	got, err := s.AccountStore.ByUUID(ctx, a.UUID)
	if err != nil || got.PasswordHash == string(old) || s.Hasher.NeedsRehash(got.PasswordHash) {
		t.Fatalf("hash after login = %q, %v, want a new one at cost %d", got.PasswordHash, err, s.Hasher.Cost())
	}
	s.MustLogin(t, "alice", password)
	// A rehash that read the hash before a change does not undo it.
	if err := s.AccountStore.UpdatePasswordHash(ctx, a.UUID, string(old), "stale"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("UpdatePasswordHash(stale old hash) = %v, want ErrNotFound", err)
	}
}
