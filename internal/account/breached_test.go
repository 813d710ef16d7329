package account_test

import (
	"errors"
	"testing"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

const breachedPassword = "password123456"

func withBreached(list account.BreachedPasswords) accounttest.Option {
	return accounttest.WithConfig(func(c *account.Config) { c.Breached = list })
}

// wantBreached fails unless err is the validation error of a breached
// password at field.
func wantBreached(t *testing.T, err error, field string) {
	t.Helper()
	var v *account.ValidationError
	if !errors.As(err, &v) || v.Code != account.CodePasswordBreached || len(v.Fields) != 1 ||
		v.Fields[0].Field != field || v.Fields[0].Type != account.CodePasswordBreached {
		t.Fatalf("error = %#v, want a ValidationError with code %s at %s", err, account.CodePasswordBreached, field)
	}
}

func TestRegisterRefusesBreachedPassword(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t, withBreached(accounttest.NewBreachedPasswords(breachedPassword)))
	_, err := s.Register(t.Context(), "alice", breachedPassword, client)
	wantBreached(t, err, "password")
	if _, err := s.AccountStore.ByAccountID(t.Context(), "alice"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("account after a refused registration: %v, want ErrNotFound", err)
	}
	if _, err := s.Register(t.Context(), "alice", "not in the list", client); err != nil {
		t.Fatalf("Register(unlisted password) = %v", err)
	}
	// Plain validation comes first: a short password is too short.
	var v *account.ValidationError
	if _, err := s.Register(t.Context(), "bob", "short", client); !errors.As(err, &v) || v.Code != "" {
		t.Fatalf("Register(short password) = %#v, want a plain ValidationError", err)
	}
}

func TestChangePasswordRefusesBreachedPassword(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t, withBreached(accounttest.NewBreachedPasswords(breachedPassword)))
	a := s.AddAccount(t, "alice")
	caller := s.StartSession(t, a.UUID)
	err := s.ChangePassword(t.Context(), accounttest.Principal(caller), accounttest.Password, breachedPassword, client)
	wantBreached(t, err, "new_password")
	s.MustLogin(t, "alice", accounttest.Password) // unchanged
}

func TestSetPasswordRefusesBreachedPassword(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t, withBreached(accounttest.NewBreachedPasswords(breachedPassword)))
	a := s.AddAccount(t, "alice")
	_, err := s.SetPassword(t.Context(), a.UUID, breachedPassword, account.Client{UserAgent: "accountd accounts"})
	wantBreached(t, err, "password")
	s.MustLogin(t, "alice", accounttest.Password) // unchanged
}

func TestBreachedListErrors(t *testing.T) {
	t.Parallel()
	list := accounttest.NewBreachedPasswords()
	list.Err = errors.New("disk on fire")
	s := accounttest.NewService(t, withBreached(list))
	_, err := s.Register(t.Context(), "alice", "not in the list", client)
	var v *account.ValidationError
	if !errors.Is(err, list.Err) || errors.As(err, &v) {
		t.Fatalf("Register with a failing list = %v, want its error, not a validation error", err)
	}
}

func TestNoBreachedList(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	if _, err := s.Register(t.Context(), "alice", breachedPassword, client); err != nil {
		t.Fatalf("Register without a list = %v, want nil", err)
	}
}
