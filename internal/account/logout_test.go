package account_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

// logoutFixture is an account with three sessions, the first of them the
// caller's, and another account with one.
type logoutFixture struct {
	*accounttest.Service
	caller, second, third, bobs account.Tokens
}

func newLogoutFixture(t *testing.T, opts ...accounttest.Option) *logoutFixture {
	t.Helper()
	s := accounttest.NewService(t, opts...)
	alice, bob := s.AddAccount(t, "alice"), s.AddAccount(t, "bob")
	return &logoutFixture{
		Service: s,
		caller:  s.StartSession(t, alice.UUID),
		second:  s.StartSession(t, alice.UUID),
		third:   s.StartSession(t, alice.UUID),
		bobs:    s.StartSession(t, bob.UUID),
	}
}

// credentials says which of the caller's tokens a logout presents.
type credentials int

const (
	accessOnly credentials = iota
	refreshOnly
	bothTokens
)

func (c credentials) String() string {
	return [...]string{"access token", "refresh token", "both tokens"}[c]
}

func (c credentials) tokens(t account.Tokens) (access, refresh string) {
	switch c {
	case accessOnly:
		return t.AccessToken, ""
	case refreshOnly:
		return "", t.RefreshToken
	default:
		return t.AccessToken, t.RefreshToken
	}
}

func TestLogoutScopes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		scope      account.LogoutScope
		reason     account.RevokeReason
		revoked    func(f *logoutFixture) []string
		callerLive bool
	}{
		{account.ScopeLocal, account.RevokeLogout,
			func(f *logoutFixture) []string { return []string{f.caller.SessionID} }, false},
		{account.ScopeOthers, account.RevokeLogoutOthers,
			func(f *logoutFixture) []string { return sorted(f.second.SessionID, f.third.SessionID) }, true},
		{account.ScopeGlobal, account.RevokeLogoutGlobal,
			func(f *logoutFixture) []string {
				return sorted(f.caller.SessionID, f.second.SessionID, f.third.SessionID)
			}, false},
	}
	hasher := accounttest.WithHasher(accounttest.NewHasher(t))
	for _, c := range cases {
		for _, cred := range []credentials{accessOnly, refreshOnly, bothTokens} {
			t.Run(string(c.scope)+" with "+cred.String(), func(t *testing.T) {
				t.Parallel()
				f := newLogoutFixture(t, hasher)
				ctx := t.Context()
				access, refresh := cred.tokens(f.caller)
				if err := f.Logout(ctx, access, refresh, c.scope, client); err != nil {
					t.Fatalf("Logout: %v", err)
				}
				want := c.revoked(f)
				// One announcement, naming each revoked session once.
				if a := f.Revocations.Announcements(); len(a) != 1 || !slices.Equal(sorted(a[0].SessionIDs...), want) {
					t.Fatalf("announcements = %+v, want one of %v", a, want)
				}
				var live []string
				for _, tk := range []account.Tokens{f.caller, f.second, f.third} {
					if !slices.Contains(want, tk.SessionID) {
						live = append(live, tk.SessionID)
					}
					_, err := f.Authenticate(ctx, tk.AccessToken)
					if revoked := slices.Contains(want, tk.SessionID); revoked != errors.Is(err, account.ErrTokenRevoked) ||
						!revoked && err != nil {
						t.Fatalf("Authenticate(session %s) = %v, want revoked: %v", tk.SessionID, err, revoked)
					}
				}
				if got := activeIDs(t, f.Service, f.caller.AccountUUID); !slices.Equal(got, sorted(live...)) {
					t.Fatalf("live sessions = %v, want %v", got, sorted(live...))
				}
				if _, err := f.Refresh(ctx, f.caller.RefreshToken, client); c.callerLive != (err == nil) {
					t.Fatalf("Refresh(caller's token) = %v, want the caller's session live: %v", err, c.callerLive)
				}
				if got := activeIDs(t, f.Service, f.bobs.AccountUUID); !slices.Equal(got, []string{f.bobs.SessionID}) {
					t.Fatalf("another account's sessions = %v, want untouched", got)
				}
				if n := f.Observer.Revoked(c.reason); n != len(want) {
					t.Fatalf("observed %d sessions revoked for %s, want %d", n, c.reason, len(want))
				}
			})
		}
	}
}

func TestLogoutIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newLogoutFixture(t)
	ctx := t.Context()
	for _, scope := range []account.LogoutScope{account.ScopeLocal, account.ScopeOthers, account.ScopeGlobal} {
		for name, tokens := range map[string][2]string{
			"no tokens":      {"", ""},
			"garbage tokens": {"not.a.jwt", "no-such-refresh-token"},
		} {
			if err := f.Logout(ctx, tokens[0], tokens[1], scope, client); err != nil {
				t.Fatalf("Logout(%s, %s) = %v, want nil", scope, name, err)
			}
		}
	}
	if a := f.Revocations.Announcements(); len(a) != 0 {
		t.Fatalf("announcements = %+v, want none", a)
	}
	// Logging out twice with the same tokens: the second finds nobody.
	for range 2 {
		if err := f.Logout(ctx, f.caller.AccessToken, f.caller.RefreshToken, account.ScopeGlobal, client); err != nil {
			t.Fatalf("Logout(global): %v", err)
		}
	}
	if a := f.Revocations.Announcements(); len(a) != 1 || len(a[0].SessionIDs) != 3 {
		t.Fatalf("announcements = %+v, want one of the three sessions", a)
	}
}

// A refresh token replayed after its grace is the theft Refresh guards
// against: whatever the scope, it ends its own session and nothing else.
func TestLogoutWithReplayedRefreshToken(t *testing.T) {
	t.Parallel()
	hasher := accounttest.WithHasher(accounttest.NewHasher(t))
	for _, scope := range []account.LogoutScope{account.ScopeLocal, account.ScopeOthers, account.ScopeGlobal} {
		t.Run(string(scope), func(t *testing.T) {
			t.Parallel()
			f := newLogoutFixture(t, hasher)
			ctx := t.Context()
			mustRefresh(t, f.Service, f.caller.RefreshToken)
			f.Clock.Advance(accounttest.ReuseGrace + time.Second)
			if err := f.Logout(ctx, "", f.caller.RefreshToken, scope, client); err != nil {
				t.Fatalf("Logout(replayed refresh token): %v", err)
			}
			if got := announced(f.Service); !slices.Equal(got, []string{f.caller.SessionID}) {
				t.Fatalf("announced %v, want the replayed session %s alone", got, f.caller.SessionID)
			}
			want := sorted(f.second.SessionID, f.third.SessionID)
			if got := activeIDs(t, f.Service, f.caller.AccountUUID); !slices.Equal(got, want) {
				t.Fatalf("live sessions = %v, want %v", got, want)
			}
			if n := f.Observer.Revoked(account.RevokeTokenReuse); n != 1 {
				t.Fatalf("observed %d sessions revoked for reuse, want 1", n)
			}
		})
	}
}

// Within its grace, a rotated refresh token still names its session.
func TestLogoutWithRefreshTokenWithinGrace(t *testing.T) {
	t.Parallel()
	f := newLogoutFixture(t)
	mustRefresh(t, f.Service, f.caller.RefreshToken)
	f.Clock.Advance(accounttest.ReuseGrace)
	if err := f.Logout(t.Context(), "", f.caller.RefreshToken, account.ScopeOthers, client); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if got := activeIDs(t, f.Service, f.caller.AccountUUID); !slices.Equal(got, []string{f.caller.SessionID}) {
		t.Fatalf("live sessions = %v, want the caller's alone", got)
	}
}

// While revocation cannot be checked, the refresh token (which the store
// checks) still identifies the caller, and so does the access token for a
// local logout; anything else fails closed.
func TestLogoutWhileRevocationsUnavailable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		scope   account.LogoutScope
		cred    credentials
		wantErr error
		revoked int
	}{
		{account.ScopeLocal, accessOnly, nil, 1},
		{account.ScopeOthers, accessOnly, account.ErrUnavailable, 0},
		{account.ScopeGlobal, accessOnly, account.ErrUnavailable, 0},
		{account.ScopeGlobal, refreshOnly, nil, 3},
		{account.ScopeGlobal, bothTokens, nil, 3},
	}
	hasher := accounttest.WithHasher(accounttest.NewHasher(t))
	for _, c := range cases {
		t.Run(string(c.scope)+" with "+c.cred.String(), func(t *testing.T) {
			t.Parallel()
			f := newLogoutFixture(t, hasher)
			f.Revocations.SetUnavailable(true)
			access, refresh := c.cred.tokens(f.caller)
			if err := f.Logout(t.Context(), access, refresh, c.scope, client); !errors.Is(err, c.wantErr) {
				t.Fatalf("Logout = %v, want %v", err, c.wantErr)
			}
			if got := announced(f.Service); len(got) != c.revoked {
				t.Fatalf("announced %v, want %d sessions", got, c.revoked)
			}
		})
	}
}

// A disabled account may still end its sessions.
func TestLogoutOfDisabledAccount(t *testing.T) {
	t.Parallel()
	f := newLogoutFixture(t)
	if err := f.AccountStore.SetDisabled(f.caller.AccountUUID, true); err != nil {
		t.Fatal(err)
	}
	if err := f.Logout(t.Context(), f.caller.AccessToken, "", account.ScopeGlobal, client); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if got := announced(f.Service); len(got) != 3 {
		t.Fatalf("announced %v, want the account's three sessions", got)
	}
}
