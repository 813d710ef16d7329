package account_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

// loggedIn returns a Service with one account, logged in once.
func loggedIn(t *testing.T, opts ...accounttest.Option) (*accounttest.Service, account.Tokens) {
	t.Helper()
	s := accounttest.NewService(t, opts...)
	return s, s.StartSession(t, s.AddAccount(t, "alice").UUID)
}

// mustRefresh refreshes and fails the test if it cannot.
func mustRefresh(t *testing.T, s *accounttest.Service, refresh string) account.Tokens {
	t.Helper()
	tokens, err := s.Refresh(t.Context(), refresh, client)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return tokens
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	s, first := loggedIn(t)
	ctx := t.Context()
	s.Clock.Advance(time.Hour)

	child := mustRefresh(t, s, first.RefreshToken)
	if child.RefreshToken == first.RefreshToken || child.SessionID != first.SessionID ||
		child.AccountUUID != first.AccountUUID || child.RefreshExpiresIn != accounttest.RefreshTTL {
		t.Fatalf("Refresh = %+v, want a new refresh token of session %s living %v",
			child, first.SessionID, accounttest.RefreshTTL)
	}
	if p, err := s.Authenticate(ctx, child.AccessToken); err != nil || p.SessionID != first.SessionID {
		t.Fatalf("Authenticate(new access token) = %+v, %v, want session %s", p, err, first.SessionID)
	}
	// The rotation moved the session's expiry with the new token.
	list, err := s.Sessions(ctx, accounttest.Principal(first))
	if err != nil || len(list) != 1 || !list[0].ExpiresAt.Equal(s.Clock.Now().Add(accounttest.RefreshTTL)) ||
		!list[0].LastUsedAt.Equal(s.Clock.Now()) {
		t.Fatalf("Sessions = %+v, %v, want one session used now and expiring a refresh lifetime from now", list, err)
	}
	// The child rotates in turn.
	s.Clock.Advance(time.Hour)
	if grandchild := mustRefresh(t, s, child.RefreshToken); grandchild.RefreshToken == child.RefreshToken {
		t.Fatal("Refresh(child) handed back the child")
	}
	if n := s.Observer.Refreshes(account.RefreshOK); n != 2 {
		t.Fatalf("observed %d rotations, want 2", n)
	}
}

func TestRefreshWithinGraceGivesTheSameChild(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		after   time.Duration
		wantErr error
	}{
		{"at once", 0, nil},
		{"half way", accounttest.ReuseGrace / 2, nil},
		{"at the end of the grace", accounttest.ReuseGrace, nil},
		{"just after the grace", accounttest.ReuseGrace + time.Microsecond, account.ErrTokenReused},
		{"a day later", 24 * time.Hour, account.ErrTokenReused},
	}
	hasher := accounttest.WithHasher(accounttest.NewHasher(t))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, first := loggedIn(t, hasher)
			child := mustRefresh(t, s, first.RefreshToken)
			s.Clock.Advance(c.after)
			again, err := s.Refresh(t.Context(), first.RefreshToken, client)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("Refresh(parent) after %v = %v, want %v", c.after, err, c.wantErr)
			}
			if err != nil {
				return
			}
			if again.RefreshToken != child.RefreshToken || again.SessionID != child.SessionID ||
				again.RefreshExpiresIn != accounttest.RefreshTTL-c.after {
				t.Fatalf("Refresh(parent) = %+v, want the child %+v, expiring with its session", again, child)
			}
			if _, err := s.Authenticate(t.Context(), again.AccessToken); err != nil {
				t.Fatalf("Authenticate(access token of the grace) = %v", err)
			}
			if n := s.Observer.Refreshes(account.RefreshRotated); n != 1 {
				t.Fatalf("observed %d refreshes within the grace, want 1", n)
			}
		})
	}
}

func TestRacingRefreshesConvergeOnOneChild(t *testing.T) {
	t.Parallel()
	s, first := loggedIn(t)
	const racers = 8
	results := make([]account.Tokens, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { results[i], errs[i] = s.Refresh(t.Context(), first.RefreshToken, client) })
	}
	wg.Wait()
	for i := range racers {
		if errs[i] != nil {
			t.Fatalf("racer %d: Refresh = %v", i, errs[i])
		}
		if results[i].RefreshToken != results[0].RefreshToken || results[i].SessionID != first.SessionID {
			t.Fatalf("racer %d got %+v, racer 0 got %+v: want one child in session %s",
				i, results[i], results[0], first.SessionID)
		}
	}
	if ok, rotated := s.Observer.Refreshes(account.RefreshOK), s.Observer.Refreshes(account.RefreshRotated); ok != 1 ||
		rotated != racers-1 {
		t.Fatalf("observed %d rotations and %d grace answers, want 1 and %d", ok, rotated, racers-1)
	}
	// The one child goes on; the session was not taken for a replay.
	mustRefresh(t, s, results[0].RefreshToken)
	if got := activeIDs(t, s, first.AccountUUID); !slices.Equal(got, []string{first.SessionID}) {
		t.Fatalf("sessions = %v, want %s alone", got, first.SessionID)
	}
}

func TestReplayAfterGraceRevokesTheSession(t *testing.T) {
	t.Parallel()
	s, first := loggedIn(t)
	other := s.StartSession(t, first.AccountUUID)
	ctx := t.Context()
	child := mustRefresh(t, s, first.RefreshToken)
	s.Clock.Advance(accounttest.ReuseGrace + time.Second)

	if _, err := s.Refresh(ctx, first.RefreshToken, client); !errors.Is(err, account.ErrTokenReused) {
		t.Fatalf("Refresh(replayed parent) = %v, want ErrTokenReused", err)
	}
	if got := announced(s); !slices.Equal(got, []string{first.SessionID}) {
		t.Fatalf("announced %v, want the replayed session %s", got, first.SessionID)
	}
	until := s.Revocations.Announcements()[0].Until
	if want := s.Clock.Now().Add(account.RevocationWindow(accounttest.AccessTTL)); !until.Equal(want) {
		t.Fatalf("revoked until %v, want %v (the access tokens' lifetime and the skew)", until, want)
	}
	// Everything of the session is dead: the child, its access tokens.
	if _, err := s.Refresh(ctx, child.RefreshToken, client); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("Refresh(child of a replayed token) = %v, want ErrInvalidToken", err)
	}
	if _, err := s.Authenticate(ctx, child.AccessToken); !errors.Is(err, account.ErrTokenRevoked) {
		t.Fatalf("Authenticate(access token of a replayed session) = %v, want ErrTokenRevoked", err)
	}
	// Presented once more, the replay finds a revoked session: no second
	// announcement.
	if _, err := s.Refresh(ctx, first.RefreshToken, client); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("Refresh(parent of a revoked session) = %v, want ErrInvalidToken", err)
	}
	// Only that session.
	if got := activeIDs(t, s, first.AccountUUID); !slices.Equal(got, []string{other.SessionID}) {
		t.Fatalf("sessions = %v, want only %s", got, other.SessionID)
	}
	revoked, err := s.SessionStore.RevokedSince(ctx, accounttest.Epoch)
	if err != nil || len(revoked) != 1 || revoked[0].SessionID != first.SessionID {
		t.Fatalf("RevokedSince = %+v, %v, want the replayed session", revoked, err)
	}
	if n, r := len(s.Revocations.Announcements()), s.Observer.Revoked(account.RevokeTokenReuse); n != 1 || r != 1 {
		t.Fatalf("%d announcements and %d sessions revoked for reuse, want 1 and 1", n, r)
	}
}

func TestRefreshTwoStepsBehind(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		after   time.Duration
		wantErr error
		revoked bool
	}{
		// Within its grace, the parent's child was rotated in turn: no
		// child to hand out, but no evidence of theft either.
		{"within the grace", accounttest.ReuseGrace / 2, account.ErrInvalidToken, false},
		{"after the grace", accounttest.ReuseGrace + time.Second, account.ErrTokenReused, true},
	}
	hasher := accounttest.WithHasher(accounttest.NewHasher(t))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, first := loggedIn(t, hasher)
			child := mustRefresh(t, s, first.RefreshToken)
			grandchild := mustRefresh(t, s, child.RefreshToken)
			s.Clock.Advance(c.after)
			if _, err := s.Refresh(t.Context(), first.RefreshToken, client); !errors.Is(err, c.wantErr) {
				t.Fatalf("Refresh(grandparent) = %v, want %v", err, c.wantErr)
			}
			_, err := s.Refresh(t.Context(), grandchild.RefreshToken, client)
			if c.revoked != errors.Is(err, account.ErrInvalidToken) || !c.revoked && err != nil {
				t.Fatalf("Refresh(grandchild) = %v, want the session revoked: %v", err, c.revoked)
			}
		})
	}
}

func TestRefreshRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		token   func(s *accounttest.Service, tokens account.Tokens) string
		wantErr error
	}{
		{"no token", func(*accounttest.Service, account.Tokens) string { return "" }, account.ErrNotAuthenticated},
		{"unknown", func(*accounttest.Service, account.Tokens) string { return "no-such-token" }, account.ErrInvalidToken},
		{"too long", func(*accounttest.Service, account.Tokens) string { return strings.Repeat("A", 5000) },
			account.ErrInvalidToken},
		{"the access token", func(_ *accounttest.Service, tk account.Tokens) string { return tk.AccessToken },
			account.ErrInvalidToken},
		{"expired", func(s *accounttest.Service, tk account.Tokens) string {
			s.Clock.Advance(accounttest.RefreshTTL)
			return tk.RefreshToken
		}, account.ErrInvalidToken},
		{"logged out", func(s *accounttest.Service, tk account.Tokens) string {
			if err := s.Logout(t.Context(), tk.AccessToken, "", account.ScopeLocal, client); err != nil {
				t.Fatalf("Logout: %v", err)
			}
			return tk.RefreshToken
		}, account.ErrInvalidToken},
	}
	hasher := accounttest.WithHasher(accounttest.NewHasher(t))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, tokens := loggedIn(t, hasher)
			if _, err := s.Refresh(t.Context(), c.token(s, tokens), client); !errors.Is(err, c.wantErr) {
				t.Fatalf("Refresh = %v, want %v", err, c.wantErr)
			}
			if n := s.Observer.Refreshes(account.RefreshInvalid); n != 1 {
				t.Fatalf("observed %d invalid refreshes, want 1", n)
			}
		})
	}
}
