package account_test

import (
	"errors"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

func TestDisabledAccount(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice")
	tokens := s.StartSession(t, a.UUID)
	p := accounttest.Principal(tokens)
	ctx := t.Context()
	// The profile is read once while the account is enabled, as /me does.
	if _, err := s.Authenticate(ctx, tokens.AccessToken); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if err := s.AccountStore.SetDisabled(a.UUID, true); err != nil {
		t.Fatal(err)
	}
	// Past the profile cache's few seconds and past the refresh grace.
	s.Clock.Advance(accounttest.ReuseGrace + time.Second)

	// The right password tells the caller the account is disabled; a wrong
	// one tells nothing.
	if _, err := s.Login(ctx, "alice", password, client); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("Login(right password) = %v, want ErrAccountDisabled", err)
	}
	if _, err := s.Login(ctx, "alice", wrongPassword, client); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("Login(wrong password) = %v, want ErrInvalidCredentials", err)
	}
	for name, err := range map[string]error{
		"Authenticate":   authErr(s.Authenticate(ctx, tokens.AccessToken)),
		"Profile":        profileErr(s.Profile(ctx, p)),
		"Refresh":        refreshErr(s.Refresh(ctx, tokens.RefreshToken, client)),
		"VerifyPassword": s.VerifyPassword(ctx, p, password, client),
		"ChangePassword": s.ChangePassword(ctx, p, password, "a brand new password", client),
	} {
		if !errors.Is(err, account.ErrAccountDisabled) {
			t.Errorf("%s = %v, want ErrAccountDisabled", name, err)
		}
	}
	if n := s.Observer.Logins(account.LoginDisabled); n != 1 {
		t.Fatalf("observed %d logins of a disabled account, want 1", n)
	}
	// A refused refresh is the client's condition (403), not a failure of
	// the service: it must not count as an error.
	if d, e := s.Observer.Refreshes(account.RefreshDisabled), s.Observer.Refreshes(account.RefreshError); d != 1 || e != 0 {
		t.Fatalf("observed %d disabled and %d failed refreshes, want 1 and 0", d, e)
	}

	// The refused refresh did not use the token up: once the account is
	// enabled again, well past the grace, it rotates as if nothing happened
	// (a used token would now be a replay).
	if err := s.AccountStore.SetDisabled(a.UUID, false); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(accounttest.ReuseGrace + time.Second)
	child, err := s.Refresh(ctx, tokens.RefreshToken, client)
	if err != nil || child.SessionID != tokens.SessionID {
		t.Fatalf("Refresh after re-enabling = %+v, %v, want a child in session %s", child, err, tokens.SessionID)
	}
	if _, err := s.Authenticate(ctx, child.AccessToken); err != nil {
		t.Fatalf("Authenticate after re-enabling = %v", err)
	}
	if _, err := s.Login(ctx, "alice", password, client); err != nil {
		t.Fatalf("Login after re-enabling = %v", err)
	}
}

// A token rotated just before the account was disabled gives no child
// within its grace either.
func TestDisabledAccountWithinGrace(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	tokens := s.StartSession(t, s.AddAccount(t, "alice").UUID)
	mustRefresh(t, s, tokens.RefreshToken)
	if err := s.AccountStore.SetDisabled(tokens.AccountUUID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(t.Context(), tokens.RefreshToken, client); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("Refresh(rotated token of a disabled account) = %v, want ErrAccountDisabled", err)
	}
}

// A session cannot start for a disabled account, whatever the login
// verified before.
func TestNoSessionStartsForDisabledAccount(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice")
	s.SessionStore.SetBeforeCreate(func(account.NewSession) {
		if err := s.AccountStore.SetDisabled(a.UUID, true); err != nil {
			t.Error(err)
		}
	})
	if _, err := s.Login(t.Context(), "alice", password, client); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("Login disabled meanwhile = %v, want ErrInvalidCredentials", err)
	}
	if got := activeIDs(t, s, a.UUID); len(got) != 0 {
		t.Fatalf("sessions = %v, want none", got)
	}
}

func authErr(_ account.Principal, err error) error  { return err }
func profileErr(_ account.Account, err error) error { return err }
func refreshErr(_ account.Tokens, err error) error  { return err }
