package account_test

import (
	"errors"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

// A session ends SessionMaxLifetime after its login, however often it
// refreshes, and no refresh token reaches past that end.
func TestSessionMaxLifetime(t *testing.T) {
	t.Parallel()
	const lifetime = 10 * 24 * time.Hour // longer than one refresh token (7 days)
	s, first := loggedInWithPassword(t, accounttest.WithConfig(func(c *account.Config) { c.SessionMaxLifetime = lifetime }))
	end := accounttest.Epoch.Add(lifetime)
	if !first.SessionExpiresAt.Equal(end) || first.RefreshExpiresIn != accounttest.RefreshTTL {
		t.Fatalf("login: session ends %v, refresh lives %v; want %v and %v",
			first.SessionExpiresAt, first.RefreshExpiresIn, end, accounttest.RefreshTTL)
	}

	s.Clock.Advance(6 * 24 * time.Hour)
	tokens := mustRefresh(t, s, first.RefreshToken)
	if want := 4 * 24 * time.Hour; tokens.RefreshExpiresIn != want || !tokens.SessionExpiresAt.Equal(end) {
		t.Fatalf("refresh 4 days before the end: refresh lives %v, session ends %v; want %v and %v",
			tokens.RefreshExpiresIn, tokens.SessionExpiresAt, want, end)
	}

	s.Clock.Advance(4 * 24 * time.Hour)
	_, err := s.Refresh(t.Context(), tokens.RefreshToken, client)
	if !errors.Is(err, account.ErrSessionExpired) {
		t.Fatalf("refresh at the session's end: got %v, want %v", err, account.ErrSessionExpired)
	}
	if n := s.Observer.Refreshes(account.RefreshSessionExpired); n != 1 {
		t.Fatalf("observed %d session_expired refreshes, want 1", n)
	}
}

// A lifetime shorter than a refresh token caps the first one too.
func TestSessionMaxLifetimeCapsTheFirstToken(t *testing.T) {
	t.Parallel()
	_, first := loggedInWithPassword(t, accounttest.WithConfig(func(c *account.Config) { c.SessionMaxLifetime = time.Hour }))
	if first.RefreshExpiresIn != time.Hour || !first.SessionExpiresAt.Equal(accounttest.Epoch.Add(time.Hour)) {
		t.Fatalf("login with a 1h session: refresh lives %v, session ends %v; want 1h and %v",
			first.RefreshExpiresIn, first.SessionExpiresAt, accounttest.Epoch.Add(time.Hour))
	}
}

// loggedInWithPassword returns a Service with one account, logged in once
// through Service.Login.
func loggedInWithPassword(t *testing.T, opts ...accounttest.Option) (*accounttest.Service, account.Tokens) {
	t.Helper()
	s := accounttest.NewService(t, opts...)
	a := s.AddAccount(t, "alice")
	tokens, err := s.Login(t.Context(), a.AccountID, accounttest.Password, client)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return s, tokens
}
