package account_test

import (
	"errors"
	"testing"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

const wrongPassword = "not the password"

// wantLockedOut fails unless err is a *RateLimitError that says to retry
// within the lock-out window.
func wantLockedOut(t *testing.T, what string, err error) {
	t.Helper()
	var rl *account.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, account.ErrRateLimited) {
		t.Fatalf("%s = %v, want a *RateLimitError", what, err)
	}
	if max := int(accounttest.LoginFailureWindow.Seconds()); rl.RetryAfterSeconds <= 0 || rl.RetryAfterSeconds > max {
		t.Fatalf("%s: retry after %d s, want 1..%d", what, rl.RetryAfterSeconds, max)
	}
}

// Wrong passwords count against the account id wherever they are typed:
// at login (in any case of the id), and where a signed-in caller confirms
// the password. Once locked, even the right password is refused, until the
// window has passed.
func TestLockoutAcrossPasswordChecks(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "Alice")
	p := accounttest.Principal(s.StartSession(t, a.UUID))
	ctx := t.Context()
	const newPassword = "a brand new password"

	failures := []struct {
		name    string
		try     func() error
		wantErr error
	}{
		{"login", func() error {
			_, err := s.Login(ctx, "alice", wrongPassword, client)
			return err
		}, account.ErrInvalidCredentials},
		{"login in upper case", func() error {
			_, err := s.Login(ctx, "ALICE", wrongPassword, client)
			return err
		}, account.ErrInvalidCredentials},
		{"verify password", func() error { return s.VerifyPassword(ctx, p, wrongPassword, client) },
			account.ErrInvalidPassword},
		{"verify an over-long password", func() error {
			return s.VerifyPassword(ctx, p, password+string(make([]byte, 72)), client)
		}, account.ErrInvalidPassword},
		{"change password", func() error { return s.ChangePassword(ctx, p, wrongPassword, newPassword, client) },
			account.ErrInvalidPassword},
	}
	if len(failures) != accounttest.MaxLoginFailures {
		t.Fatalf("%d failures, want %d", len(failures), accounttest.MaxLoginFailures)
	}
	for _, f := range failures {
		if err := f.try(); !errors.Is(err, f.wantErr) {
			t.Fatalf("%s with a wrong password = %v, want %v", f.name, err, f.wantErr)
		}
	}

	compares := s.Hasher.Compares()
	_, err := s.Login(ctx, "aLiCe", password, client)
	wantLockedOut(t, "Login with the right password", err)
	wantLockedOut(t, "VerifyPassword with the right password", s.VerifyPassword(ctx, p, password, client))
	wantLockedOut(t, "ChangePassword with the right password",
		s.ChangePassword(ctx, p, password, newPassword, client))
	if n := s.Hasher.Compares() - compares; n != 0 {
		t.Fatalf("a locked-out account cost %d bcrypt comparisons, want 0", n)
	}
	if n := s.Observer.Logins(account.LoginRateLimited); n != 1 {
		t.Fatalf("observed %d rate-limited logins, want 1", n)
	}

	s.Clock.Advance(accounttest.LoginFailureWindow)
	if _, err := s.Login(ctx, "alice", password, client); err != nil {
		t.Fatalf("Login after the lock-out window = %v, want success", err)
	}
}

// An account id that does not exist locks out too, so that a guesser learns
// nothing from which ids lock; the lock holds for an account registered
// with that id, in any case, afterwards.
func TestLockoutOfUnknownAccount(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	ctx := t.Context()
	for i := range accounttest.MaxLoginFailures {
		if _, err := s.Login(ctx, "ghost", password, client); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("failure %d: Login = %v, want ErrInvalidCredentials", i+1, err)
		}
	}
	_, err := s.Login(ctx, "ghost", password, client)
	wantLockedOut(t, "Login of a locked-out unknown id", err)

	s.AddAccount(t, "GHOST")
	_, err = s.Login(ctx, "Ghost", password, client)
	wantLockedOut(t, "Login of an account registered under a locked-out id", err)

	// Other ids are not affected.
	s.AddAccount(t, "casper")
	if _, err := s.Login(ctx, "casper", password, client); err != nil {
		t.Fatalf("Login of another account = %v, want success", err)
	}
}

// Limits fail closed: a limiter that cannot count refuses.
func TestLockoutFailsClosed(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice")
	p := accounttest.Principal(s.StartSession(t, a.UUID))
	s.Limiter.SetUnavailable(true)
	ctx := t.Context()
	if _, err := s.Login(ctx, "alice", password, client); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("Login = %v, want ErrUnavailable", err)
	}
	if err := s.VerifyPassword(ctx, p, password, client); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("VerifyPassword = %v, want ErrUnavailable", err)
	}
	if n := s.Observer.Logins(account.LoginUnavailable); n != 1 {
		t.Fatalf("observed %d logins failing for a dependency, want 1", n)
	}
}
