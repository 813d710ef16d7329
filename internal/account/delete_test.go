package account_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

// revokedSince returns the ids the durable record lists, sorted.
func revokedSince(t *testing.T, s *accounttest.Service) []string {
	t.Helper()
	list, err := s.SessionStore.RevokedSince(t.Context(), accounttest.Epoch.Add(-account.ClockSkew))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range list {
		ids = append(ids, r.SessionID)
	}
	slices.Sort(ids)
	return ids
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	ctx := t.Context()
	a, bob := s.AddAccount(t, "Alice"), s.AddAccount(t, "bob")
	caller, other := s.StartSession(t, a.UUID), s.StartSession(t, a.UUID)
	bobs := s.StartSession(t, bob.UUID)
	p := accounttest.Principal(caller)

	if err := s.DeleteAccount(ctx, p, wrongPassword, client); !errors.Is(err, account.ErrInvalidPassword) {
		t.Fatalf("DeleteAccount with a wrong password = %v, want ErrInvalidPassword", err)
	}
	if _, err := s.AccountStore.ByUUID(ctx, a.UUID); err != nil {
		t.Fatalf("a wrong password deleted the account: %v", err)
	}
	if err := s.DeleteAccount(ctx, p, password, client); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}

	if _, err := s.AccountStore.ByUUID(ctx, a.UUID); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("account after deletion: %v, want ErrNotFound", err)
	}
	want := sorted(caller.SessionID, other.SessionID)
	if got := sorted(announced(s)...); !slices.Equal(got, want) {
		t.Fatalf("announced %v, want both sessions %v", got, want)
	}
	// The sessions' rows are gone; their revocations are not.
	if got := revokedSince(t, s); !slices.Equal(got, want) {
		t.Fatalf("durable record lists %v, want %v", got, want)
	}
	for _, tok := range []account.Tokens{caller, other} {
		if _, err := s.Authenticate(ctx, tok.AccessToken); !errors.Is(err, account.ErrTokenRevoked) {
			t.Fatalf("access token after deletion: %v, want ErrTokenRevoked", err)
		}
		if _, err := s.Refresh(ctx, tok.RefreshToken, client); !errors.Is(err, account.ErrInvalidToken) {
			t.Fatalf("refresh after deletion: %v, want ErrInvalidToken", err)
		}
	}
	if _, err := s.Authenticate(ctx, bobs.AccessToken); err != nil {
		t.Fatalf("another account's token after the deletion: %v", err)
	}
	if list, _ := s.EventStore.List(ctx, a.UUID, 0, 100); len(list) != 0 {
		t.Fatalf("events left after deletion: %v", list)
	}
	// The id is free again, in any case.
	again := s.MustRegister(t, "ALICE", password)
	if again.UUID == a.UUID {
		t.Fatal("the new account got the deleted account's uuid")
	}
	if err := s.DeleteAccount(ctx, p, password, client); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("DeleteAccount by the deleted account's token = %v, want ErrInvalidToken", err)
	}
}

func TestDeleteAccountCountsWrongPasswords(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice")
	p := accounttest.Principal(s.StartSession(t, a.UUID))
	for range accounttest.MaxLoginFailures {
		_ = s.DeleteAccount(t.Context(), p, wrongPassword, client)
	}
	wantLockedOut(t, "DeleteAccount with the right password once locked out", s.DeleteAccount(t.Context(), p, password, client))
	if _, err := s.AccountStore.ByUUID(t.Context(), a.UUID); err != nil {
		t.Fatalf("a locked-out deletion deleted the account: %v", err)
	}
}

func TestFindAccount(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "Alice")
	for _, ref := range []string{a.UUID, "alice", "ALICE"} {
		got, err := s.FindAccount(t.Context(), ref)
		if err != nil || got.UUID != a.UUID || got.PasswordHash != "" {
			t.Fatalf("FindAccount(%q) = %+v, %v; want alice without her hash", ref, got, err)
		}
	}
	for _, ref := range []string{"bob", "", "00000000-0000-4000-8000-000000000000", "a b"} {
		if _, err := s.FindAccount(t.Context(), ref); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("FindAccount(%q) = %v, want ErrNotFound", ref, err)
		}
	}
}

func TestOperatorDisableEnable(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	ctx := t.Context()
	a := s.AddAccount(t, "alice")
	live := s.StartSession(t, a.UUID)
	op := account.Client{UserAgent: "accountd accounts"}

	res, err := s.DisableAccount(ctx, "alice", op)
	if err != nil || res.SessionsRevoked != 1 || !res.Account.Disabled {
		t.Fatalf("DisableAccount = %+v, %v; want the account disabled and 1 session revoked", res, err)
	}
	if _, err := s.Authenticate(ctx, live.AccessToken); !errors.Is(err, account.ErrTokenRevoked) {
		t.Fatalf("access token of a disabled account = %v, want ErrTokenRevoked at once", err)
	}
	if _, err := s.Login(ctx, "alice", password, client); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("login of a disabled account = %v, want ErrAccountDisabled", err)
	}
	if _, err := s.EnableAccount(ctx, a.UUID, op); err != nil {
		t.Fatal(err)
	}
	s.MustLogin(t, "alice", password)
	got := eventTypes(t, s, a.UUID)
	want := []account.EventType{account.EventAccountDisabled, account.EventSessionRevoked,
		account.EventAccountEnabled, account.EventLoginSucceeded}
	if !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	if _, err := s.DisableAccount(ctx, "nobody", op); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("DisableAccount(nobody) = %v, want ErrNotFound", err)
	}
}

func TestOperatorSetPasswordAndRevoke(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	ctx := t.Context()
	a := s.AddAccount(t, "alice")
	first, second := s.StartSession(t, a.UUID), s.StartSession(t, a.UUID)
	op := account.Client{UserAgent: "accountd accounts"}

	var verr *account.ValidationError
	for _, bad := range []string{"short", "alice"} {
		if _, err := s.SetPassword(ctx, "alice", bad, op); !errors.As(err, &verr) {
			t.Fatalf("SetPassword(%q) = %v, want a *ValidationError", bad, err)
		}
	}
	res, err := s.SetPassword(ctx, "alice", "a brand new password", op)
	if err != nil || res.SessionsRevoked != 2 {
		t.Fatalf("SetPassword = %+v, %v; want 2 sessions revoked", res, err)
	}
	for _, tok := range []account.Tokens{first, second} {
		if _, err := s.Authenticate(ctx, tok.AccessToken); !errors.Is(err, account.ErrTokenRevoked) {
			t.Fatalf("access token after set-password = %v, want ErrTokenRevoked", err)
		}
	}
	if _, err := s.Login(ctx, "alice", "a brand new password", client); err != nil {
		t.Fatalf("login with the set password: %v", err)
	}
	res, err = s.RevokeAccountSessions(ctx, a.UUID, op)
	if err != nil || res.SessionsRevoked != 1 {
		t.Fatalf("RevokeAccountSessions = %+v, %v; want the login's session revoked", res, err)
	}
	if _, err := s.RemoveAccount(ctx, "alice", op); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveAccount(ctx, "alice", op); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("second RemoveAccount = %v, want ErrNotFound", err)
	}
}

func TestListAccounts(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	for _, id := range []string{"carol", "Alice", "bob", "alicia", "a_b", "a%b"} {
		s.AddAccount(t, id)
	}
	cases := []struct {
		query string
		limit int
		want  []string
	}{
		{"", 10, []string{"a%b", "a_b", "Alice", "alicia", "bob", "carol"}},
		{"ALI", 10, []string{"Alice", "alicia"}},
		{"", 2, []string{"a%b", "a_b"}},
		{"_", 10, []string{"a_b"}},
		{"%", 10, []string{"a%b"}},
		{"zed", 10, nil},
	}
	for _, c := range cases {
		list, err := s.ListAccounts(t.Context(), c.query, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range list {
			if a.PasswordHash != "" {
				t.Fatalf("ListAccounts returned a password hash")
			}
			got = append(got, a.AccountID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("ListAccounts(%q, %d) = %v, want %v", c.query, c.limit, got, c.want)
		}
	}
	var verr *account.ValidationError
	for _, limit := range []int{0, account.MaxAccountListLimit + 1} {
		if _, err := s.ListAccounts(t.Context(), "", limit); !errors.As(err, &verr) {
			t.Errorf("ListAccounts(limit %d) = %v, want a *ValidationError", limit, err)
		}
	}
}
