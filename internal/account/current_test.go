package account_test

import (
	"errors"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

func TestCurrentSession(t *testing.T) {
	t.Parallel()
	const lifetime = 10 * 24 * time.Hour
	s, tokens := loggedInWithPassword(t, accounttest.WithConfig(func(c *account.Config) { c.SessionMaxLifetime = lifetime }))
	ctx := t.Context()
	want := account.SessionState{
		SessionID: tokens.SessionID, AccountUUID: tokens.AccountUUID,
		AccessExpiresAt:  accounttest.Epoch.Add(accounttest.AccessTTL),
		RefreshExpiresAt: accounttest.Epoch.Add(accounttest.RefreshTTL),
		SessionExpiresAt: accounttest.Epoch.Add(lifetime),
	}
	if !tokens.AccessExpiresAt.Equal(want.AccessExpiresAt) || !tokens.RefreshExpiresAt.Equal(want.RefreshExpiresAt) {
		t.Fatalf("login tokens expire at %v and %v, want %v and %v", tokens.AccessExpiresAt, tokens.RefreshExpiresAt,
			want.AccessExpiresAt, want.RefreshExpiresAt)
	}
	for _, c := range []struct{ name, access, refresh string }{
		{"both", tokens.AccessToken, tokens.RefreshToken},
		{"access", tokens.AccessToken, ""},
		{"access and garbage", tokens.AccessToken, "garbage"},
	} {
		got, err := s.CurrentSession(ctx, c.access, c.refresh)
		if err != nil || !sameState(got, want) {
			t.Fatalf("%s: CurrentSession = %+v, %v; want %+v", c.name, got, err, want)
		}
	}
	// By the refresh token alone, or with an expired access token, the
	// access expiry is unknown; nothing is rotated.
	refreshOnly := want
	refreshOnly.AccessExpiresAt = time.Time{}
	if got, err := s.CurrentSession(ctx, "", tokens.RefreshToken); err != nil || !sameState(got, refreshOnly) {
		t.Fatalf("refresh only: CurrentSession = %+v, %v; want %+v", got, err, refreshOnly)
	}
	s.Clock.Advance(accounttest.AccessTTL)
	if got, err := s.CurrentSession(ctx, tokens.AccessToken, tokens.RefreshToken); err != nil || !sameState(got, refreshOnly) {
		t.Fatalf("expired access: CurrentSession = %+v, %v; want %+v", got, err, refreshOnly)
	}
	if got, err := s.CurrentSession(ctx, tokens.AccessToken, ""); !errors.Is(err, account.ErrTokenExpired) {
		t.Fatalf("expired access alone: CurrentSession = %+v, %v; want ErrTokenExpired", got, err)
	}
	// The refresh token was not rotated: it still refreshes.
	next := mustRefresh(t, s, tokens.RefreshToken)
	// The rotated token still names the session within the grace, not after.
	if _, err := s.CurrentSession(ctx, "", tokens.RefreshToken); err != nil {
		t.Fatalf("rotated token within the grace: %v", err)
	}
	s.Clock.Advance(accounttest.ReuseGrace + time.Second)
	if _, err := s.CurrentSession(ctx, "", tokens.RefreshToken); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("rotated token after the grace: %v, want ErrInvalidToken", err)
	}
	if got, err := s.CurrentSession(ctx, next.AccessToken, ""); err != nil || !got.AccessExpiresAt.Equal(next.AccessExpiresAt) {
		t.Fatalf("new access token: %+v, %v", got, err)
	}
	if _, err := s.CurrentSession(ctx, "", ""); !errors.Is(err, account.ErrNotAuthenticated) {
		t.Fatalf("no tokens: %v, want ErrNotAuthenticated", err)
	}
	// Logged out: neither token names the session.
	if err := s.Logout(ctx, next.AccessToken, "", account.ScopeLocal, client); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CurrentSession(ctx, next.AccessToken, next.RefreshToken); !errors.Is(err, account.ErrTokenRevoked) {
		t.Fatalf("after logout: %v, want ErrTokenRevoked", err)
	}
	if _, err := s.CurrentSession(ctx, "", next.RefreshToken); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("after logout, refresh only: %v, want ErrInvalidToken", err)
	}
}

func TestCurrentSessionOfDisabledAccount(t *testing.T) {
	t.Parallel()
	s, tokens := loggedInWithPassword(t)
	if err := s.AccountStore.SetDisabled(tokens.AccountUUID, true); err != nil {
		t.Fatal(err)
	}
	s.Clock.Advance(10 * time.Second) // past the profile cache
	if _, err := s.CurrentSession(t.Context(), "", tokens.RefreshToken); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("disabled account by refresh token: %v, want ErrAccountDisabled", err)
	}
}

func TestCurrentSessionWhileRevocationsAreUnknown(t *testing.T) {
	t.Parallel()
	s, tokens := loggedInWithPassword(t)
	s.Revocations.SetUnavailable(true)
	if _, err := s.CurrentSession(t.Context(), tokens.AccessToken, ""); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("access only, view down: %v, want ErrUnavailable", err)
	}
	// PostgreSQL checks the refresh token: it still answers.
	if got, err := s.CurrentSession(t.Context(), tokens.AccessToken, tokens.RefreshToken); err != nil || !got.AccessExpiresAt.IsZero() {
		t.Fatalf("both, view down: %+v, %v; want the session by its refresh token", got, err)
	}
}

// sameState compares states by their times' instants.
func sameState(a, b account.SessionState) bool {
	return a.SessionID == b.SessionID && a.AccountUUID == b.AccountUUID && a.AccessExpiresAt.Equal(b.AccessExpiresAt) &&
		a.RefreshExpiresAt.Equal(b.RefreshExpiresAt) && a.SessionExpiresAt.Equal(b.SessionExpiresAt)
}
