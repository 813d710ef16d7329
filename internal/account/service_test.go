package account_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

// client is the caller of every request in these tests.
var client = accounttest.TestClient

const password = accounttest.Password

// announced returns the session ids of every revocation announced so far,
// in order.
func announced(s *accounttest.Service) []string {
	var ids []string
	for _, a := range s.Revocations.Announcements() {
		ids = append(ids, a.SessionIDs...)
	}
	return ids
}

// activeIDs returns the ids of the account's live sessions, sorted.
func activeIDs(t *testing.T, s *accounttest.Service, accountUUID string) []string {
	t.Helper()
	list, err := s.Sessions(t.Context(), account.Principal{AccountUUID: accountUUID})
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	ids := make([]string, len(list))
	for i, sess := range list {
		ids[i] = sess.ID
	}
	slices.Sort(ids)
	return ids
}

// sorted returns ids sorted, for comparing sets of session ids.
func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestRegister(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		accountID string
		password  string
		wantErr   error
		wantField string // the field of a *ValidationError
	}{
		{name: "new account", accountID: "Alice.B+tag@example", password: password},
		{name: "taken", accountID: "taken", password: password, wantErr: account.ErrAccountExists},
		{name: "taken in another case", accountID: "TAKEN", password: password, wantErr: account.ErrAccountExists},
		{name: "id too short", accountID: "ab", password: password, wantField: "account_id"},
		{name: "id with a space", accountID: "a b c", password: password, wantField: "account_id"},
		{name: "password too short", accountID: "bob", password: "short", wantField: "password"},
		{name: "password equals id", accountID: "BobTheBuilder", password: "bobthebuilder", wantField: "password"},
		{name: "password over 72 bytes", accountID: "bob", password: strings.Repeat("x", 73), wantField: "password"},
	}
	s := accounttest.NewService(t)
	s.MustRegister(t, "taken", password)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := s.Register(t.Context(), c.accountID, c.password, accounttest.TestClient)
			var v *account.ValidationError
			switch {
			case c.wantField != "":
				if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != c.wantField {
					t.Fatalf("Register = %v, want a validation error of %s", err, c.wantField)
				}
			case !errors.Is(err, c.wantErr):
				t.Fatalf("Register = %v, want %v", err, c.wantErr)
			case err == nil && (a.UUID == "" || a.AccountID != c.accountID || !a.CreatedAt.Equal(accounttest.Epoch)):
				t.Fatalf("Register = %+v, want %q with a uuid, created at %v", a, c.accountID, accounttest.Epoch)
			}
		})
	}
}

func TestExistsIgnoresCase(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	s.AddAccount(t, "Alice")
	for id, want := range map[string]bool{"Alice": true, "alice": true, "ALICE": true, "bob": false} {
		if got, err := s.Exists(t.Context(), id); err != nil || got != want {
			t.Errorf("Exists(%q) = %v, %v, want %v", id, got, err, want)
		}
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		accountID string
		password  string
		wantErr   error
	}{
		{"right password", "Alice", password, nil},
		{"id in another case", "aLICE", password, nil},
		{"wrong password", "alice", "wrong password", account.ErrInvalidCredentials},
		{"unknown account", "nobody", password, account.ErrInvalidCredentials},
		{"id that cannot exist", "no such id!", password, account.ErrInvalidCredentials},
		{"password over 72 bytes", "alice", password + strings.Repeat("x", 72), account.ErrInvalidCredentials},
	}
	s := accounttest.NewService(t)
	a := s.MustRegister(t, "Alice", password)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			compares := s.Hasher.Compares()
			tokens, err := s.Login(t.Context(), c.accountID, c.password, client)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("Login = %v, want %v", err, c.wantErr)
			}
			// Every outcome costs one bcrypt comparison, so that timing
			// does not tell which accounts exist.
			if n := s.Hasher.Compares() - compares; n != 1 {
				t.Fatalf("Login made %d bcrypt comparisons, want 1", n)
			}
			if err != nil {
				return
			}
			if tokens.AccountUUID != a.UUID || tokens.SessionID == "" || tokens.RefreshToken == "" ||
				tokens.AccessExpiresIn != accounttest.AccessTTL || tokens.RefreshExpiresIn != accounttest.RefreshTTL {
				t.Fatalf("Login = %+v, want tokens of %s", tokens, a.UUID)
			}
			p, err := s.Authenticate(t.Context(), tokens.AccessToken)
			if err != nil || p.AccountUUID != a.UUID || p.SessionID != tokens.SessionID {
				t.Fatalf("Authenticate = %+v, %v, want session %s of %s", p, err, tokens.SessionID, a.UUID)
			}
		})
	}
	if got := activeIDs(t, s, a.UUID); len(got) != 2 {
		t.Fatalf("sessions = %v, want the two that logged in", got)
	}
	if ok, bad := s.Observer.Logins(account.LoginOK), s.Observer.Logins(account.LoginInvalidCredentials); ok != 2 || bad != 4 {
		t.Fatalf("observed %d ok and %d invalid logins, want 2 and 4", ok, bad)
	}
}

func TestAuthenticateRefuses(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice")
	tokens := s.StartSession(t, a.UUID)
	other := s.StartSession(t, a.UUID)
	ctx := t.Context()
	if err := s.Logout(ctx, other.AccessToken, "", account.ScopeLocal, client); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	cases := []struct {
		name    string
		token   string
		before  func()
		wantErr error
	}{
		{name: "no token", token: "", wantErr: account.ErrNotAuthenticated},
		{name: "garbage", token: "not.a.jwt", wantErr: account.ErrInvalidToken},
		{name: "too long", token: strings.Repeat("a", 5000), wantErr: account.ErrInvalidToken},
		{name: "tampered", token: tokens.AccessToken + "x", wantErr: account.ErrInvalidToken},
		{name: "revoked session", token: other.AccessToken, wantErr: account.ErrTokenRevoked},
		{name: "revocations unavailable", token: tokens.AccessToken, wantErr: account.ErrUnavailable,
			before: func() { s.Revocations.SetUnavailable(true) }},
		{name: "expired", token: tokens.AccessToken, wantErr: account.ErrTokenExpired, before: func() {
			s.Revocations.SetUnavailable(false)
			s.Clock.Advance(accounttest.AccessTTL)
		}},
	}
	for _, c := range cases {
		if c.before != nil {
			c.before()
		}
		if _, err := s.Authenticate(ctx, c.token); !errors.Is(err, c.wantErr) {
			t.Errorf("%s: Authenticate = %v, want %v", c.name, err, c.wantErr)
		}
	}
}

func TestRevokeSessionAnnouncesTheCanonicalID(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	alice, bob := s.AddAccount(t, "alice"), s.AddAccount(t, "bob")
	caller := s.StartSession(t, alice.UUID)
	other := s.StartSession(t, alice.UUID)
	bobs := s.StartSession(t, bob.UUID)
	ctx := t.Context()
	p := accounttest.Principal(caller)

	if err := s.RevokeSession(ctx, p, strings.ToUpper(other.SessionID), accounttest.TestClient); err != nil {
		t.Fatalf("RevokeSession(upper case): %v", err)
	}
	if got := announced(s); !slices.Equal(got, []string{other.SessionID}) {
		t.Fatalf("announced %q, want the lower-case %q", got, other.SessionID)
	}
	if _, err := s.Authenticate(ctx, other.AccessToken); !errors.Is(err, account.ErrTokenRevoked) {
		t.Fatalf("Authenticate(revoked session) = %v, want ErrTokenRevoked", err)
	}
	if got := activeIDs(t, s, caller.AccountUUID); !slices.Equal(got, []string{caller.SessionID}) {
		t.Fatalf("sessions = %v, want only the caller's", got)
	}
	for name, id := range map[string]string{
		"again":             other.SessionID,
		"another account's": bobs.SessionID,
		"unknown":           "00000000-0000-4000-8000-000000000000",
		"not a uuid":        "session-1",
		"empty":             "",
	} {
		if err := s.RevokeSession(ctx, p, id, accounttest.TestClient); !errors.Is(err, account.ErrSessionNotFound) {
			t.Errorf("RevokeSession(%s) = %v, want ErrSessionNotFound", name, err)
		}
	}
	if got := activeIDs(t, s, bobs.AccountUUID); !slices.Equal(got, []string{bobs.SessionID}) {
		t.Fatalf("bob's sessions = %v, want his one", got)
	}
	if n := len(s.Revocations.Announcements()); n != 1 {
		t.Fatalf("%d announcements, want 1", n)
	}
}
