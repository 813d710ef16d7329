package account_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
	"github.com/accountd/accountd/internal/security"
)

// passkeyFixture is a signed-in account on fakes, ready to register passkeys.
type passkeyFixture struct {
	s       *accounttest.Service
	pk      *accounttest.Passkeys
	account account.Account
	caller  account.Principal
}

func newPasskeyFixture(t *testing.T) *passkeyFixture {
	t.Helper()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice")
	return &passkeyFixture{
		s: s, pk: accounttest.NewPasskeys(s), account: a,
		caller: accounttest.Principal(s.StartSession(t, a.UUID)),
	}
}

// register registers a passkey with the credential id and counter for the
// caller, and fails the test if it cannot.
func (f *passkeyFixture) register(t *testing.T, caller account.Principal, id string, count uint32) account.Passkey {
	t.Helper()
	options, err := f.pk.BeginRegistration(t.Context(), caller)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	cred := accounttest.Credential{ID: []byte(id), UserHandle: accounttest.HandleIn(options), SignCount: count}
	p, err := f.pk.FinishRegistration(t.Context(), caller, "", cred.For(options), client)
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	return p
}

// login runs both steps of a passkey login with the credential.
func (f *passkeyFixture) login(t *testing.T, cred accounttest.Credential) (account.Tokens, error) {
	t.Helper()
	options, ceremony, err := f.pk.BeginLogin(t.Context())
	if err != nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	return f.pk.FinishLogin(t.Context(), ceremony, cred.For(options), accounttest.TestClient)
}

// handle returns the account's user handle.
func (f *passkeyFixture) handle(t *testing.T, accountUUID string) []byte {
	t.Helper()
	h, err := f.pk.Store.UserHandle(t.Context(), accountUUID, nil)
	if err != nil || len(h) == 0 {
		t.Fatalf("UserHandle = %x, %v", h, err)
	}
	return h
}

func TestPasskeyRegisterListLoginDelete(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t)
	p := f.register(t, f.caller, "cred-1", 0)
	if p.Name != account.DefaultPasskeyName || p.AccountUUID != f.account.UUID || p.CreatedAt.IsZero() {
		t.Fatalf("registered %+v, want the default name, the caller's account and a creation time", p)
	}
	list, err := f.pk.List(t.Context(), f.caller)
	if err != nil || len(list) != 1 || string(list[0].ID) != "cred-1" {
		t.Fatalf("List = %+v, %v; want the one passkey", list, err)
	}
	if h := f.handle(t, f.account.UUID); len(h) != 64 {
		t.Fatalf("user handle has %d bytes, want 64 random ones", len(h))
	}

	tokens, err := f.login(t, accounttest.Credential{ID: []byte("cred-1"), UserHandle: f.handle(t, f.account.UUID)})
	if err != nil {
		t.Fatalf("FinishLogin: %v", err)
	}
	p2, err := f.s.Authenticate(t.Context(), tokens.AccessToken)
	if err != nil || p2.AccountUUID != f.account.UUID || !slices.Equal(p2.AMR, []string{account.MethodPasskey}) {
		t.Fatalf("Authenticate = %+v, %v; want the account with amr [hwk]", p2, err)
	}
	if n := f.s.Observer.Logins(account.LoginOK); n != 1 {
		t.Fatalf("ok logins counted = %d, want 1", n)
	}
	if list, _ := f.pk.List(t.Context(), f.caller); list[0].LastUsedAt.IsZero() {
		t.Fatal("LastUsedAt is still zero after a login")
	}

	if err := f.pk.Delete(t.Context(), f.caller, account.PasskeyID(p.ID), client); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := f.login(t, accounttest.Credential{ID: []byte("cred-1"), UserHandle: f.handle(t, f.account.UUID)}); !errors.Is(err, account.ErrInvalidPasskey) {
		t.Fatalf("login with a removed passkey: %v, want ErrInvalidPasskey", err)
	}
	if err := f.pk.Delete(t.Context(), f.caller, account.PasskeyID(p.ID), client); !errors.Is(err, account.ErrPasskeyNotFound) {
		t.Fatalf("second Delete: %v, want ErrPasskeyNotFound", err)
	}
	want := []account.EventType{account.EventPasskeyAdded, account.EventLoginSucceeded, account.EventPasskeyRemoved}
	if got := eventTypes(t, f.s, f.account.UUID); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
}

func TestPasskeyRegistrationRules(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t)
	ctx := t.Context()

	if _, err := f.pk.FinishRegistration(ctx, f.caller, "", []byte(`{}`), client); !errors.Is(err, account.ErrNoCeremony) {
		t.Fatalf("finish without begin: %v, want ErrNoCeremony", err)
	}

	// The ceremony belongs to the session that began it, and is used once.
	options, err := f.pk.BeginRegistration(ctx, f.caller)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	other := accounttest.Principal(f.s.StartSession(t, f.account.UUID))
	cred := accounttest.Credential{ID: []byte("cred-1"), UserHandle: accounttest.HandleIn(options)}
	if _, err := f.pk.FinishRegistration(ctx, other, "", cred.For(options), client); !errors.Is(err, account.ErrNoCeremony) {
		t.Fatalf("finish in another session: %v, want ErrNoCeremony", err)
	}
	bad := cred
	bad.Invalid = true
	if _, err := f.pk.FinishRegistration(ctx, f.caller, "", bad.For(options), client); !errors.Is(err, account.ErrInvalidPasskey) {
		t.Fatalf("finish with a credential that does not verify: %v, want ErrInvalidPasskey", err)
	}
	if _, err := f.pk.FinishRegistration(ctx, f.caller, "", cred.For(options), client); !errors.Is(err, account.ErrNoCeremony) {
		t.Fatalf("finish twice: %v, want ErrNoCeremony (a ceremony is used once)", err)
	}

	// A bad name is refused before the ceremony is used up.
	options, _ = f.pk.BeginRegistration(ctx, f.caller)
	cred.UserHandle = accounttest.HandleIn(options)
	var verr *account.ValidationError
	if _, err := f.pk.FinishRegistration(ctx, f.caller, "bad\nname", cred.For(options), client); !errors.As(err, &verr) || verr.Fields[0].Field != "name" {
		t.Fatalf("finish with a control character in the name: %v, want a validation error on name", err)
	}
	p, err := f.pk.FinishRegistration(ctx, f.caller, "  Laptop  ", cred.For(options), client)
	if err != nil || p.Name != "Laptop" {
		t.Fatalf("finish = %+v, %v; want the passkey called Laptop", p, err)
	}

	// The ceremony expires.
	options, _ = f.pk.BeginRegistration(ctx, f.caller)
	f.s.Clock.Advance(account.PasskeyCeremonyTTL)
	cred2 := accounttest.Credential{ID: []byte("cred-2"), UserHandle: accounttest.HandleIn(options)}
	if _, err := f.pk.FinishRegistration(ctx, f.caller, "", cred2.For(options), client); !errors.Is(err, account.ErrNoCeremony) {
		t.Fatalf("finish after %v: %v, want ErrNoCeremony", account.PasskeyCeremonyTTL, err)
	}

	// A credential id that another account registered is refused.
	bob := f.s.AddAccount(t, "bob")
	bobCaller := accounttest.Principal(f.s.StartSession(t, bob.UUID))
	options, _ = f.pk.BeginRegistration(ctx, bobCaller)
	stolen := accounttest.Credential{ID: []byte("cred-1"), UserHandle: accounttest.HandleIn(options)}
	if _, err := f.pk.FinishRegistration(ctx, bobCaller, "", stolen.For(options), client); !errors.Is(err, account.ErrPasskeyExists) {
		t.Fatalf("register alice's credential id for bob: %v, want ErrPasskeyExists", err)
	}
	// And bob cannot remove alice's passkey.
	if err := f.pk.Delete(ctx, bobCaller, account.PasskeyID([]byte("cred-1")), client); !errors.Is(err, account.ErrPasskeyNotFound) {
		t.Fatalf("bob deletes alice's passkey: %v, want ErrPasskeyNotFound", err)
	}
	if err := f.pk.Delete(ctx, f.caller, "not base64url!", client); !errors.Is(err, account.ErrPasskeyNotFound) {
		t.Fatalf("delete a malformed id: %v, want ErrPasskeyNotFound", err)
	}

	// A disabled account registers nothing.
	if err := f.s.AccountStore.SetDisabled(f.account.UUID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pk.BeginRegistration(ctx, f.caller); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("begin for a disabled account: %v, want ErrAccountDisabled", err)
	}
}

// The signature counter must grow once it is not 0: a counter that does not
// is a replayed assertion or a cloned authenticator.
func TestPasskeySignCounter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		stored  uint32
		counts  []uint32
		wantErr []bool
	}{
		{"both zero, always", 0, []uint32{0, 0}, []bool{false, false}},
		{"grows", 5, []uint32{6, 9}, []bool{false, false}},
		{"same count", 5, []uint32{5}, []bool{true}},
		{"goes back", 5, []uint32{4}, []bool{true}},
		{"zero after non-zero", 0, []uint32{3, 0}, []bool{false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newPasskeyFixture(t)
			f.register(t, f.caller, "cred", tc.stored)
			for i, n := range tc.counts {
				_, err := f.login(t, accounttest.Credential{ID: []byte("cred"), UserHandle: f.handle(t, f.account.UUID), SignCount: n})
				if got := errors.Is(err, account.ErrInvalidPasskey); got != tc.wantErr[i] || (!got && err != nil) {
					t.Fatalf("login %d with counter %d: %v, want refused = %v", i, n, err, tc.wantErr[i])
				}
			}
		})
	}
}

func TestPasskeyLoginRules(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t)
	ctx := t.Context()
	f.register(t, f.caller, "alice-cred", 1)
	bob := f.s.AddAccount(t, "bob")
	f.register(t, accounttest.Principal(f.s.StartSession(t, bob.UUID)), "bob-cred", 1)
	alice := f.handle(t, f.account.UUID)

	for _, tc := range []struct {
		name string
		cred accounttest.Credential
	}{
		{"unknown credential", accounttest.Credential{ID: []byte("nobody"), UserHandle: alice, SignCount: 2}},
		{"user handle of another account", accounttest.Credential{ID: []byte("bob-cred"), UserHandle: alice, SignCount: 2}},
		{"no user handle", accounttest.Credential{ID: []byte("alice-cred"), SignCount: 2}},
		{"does not verify", accounttest.Credential{ID: []byte("alice-cred"), UserHandle: alice, SignCount: 2, Invalid: true}},
	} {
		if _, err := f.login(t, tc.cred); !errors.Is(err, account.ErrInvalidPasskey) {
			t.Errorf("%s: %v, want ErrInvalidPasskey", tc.name, err)
		}
	}
	if n := f.s.Observer.Logins(account.LoginInvalidCredentials); n != 4 {
		t.Errorf("failed logins counted as invalid_credentials = %d, want 4", n)
	}
	// Only the assertion of alice's own passkey, with her handle, goes in
	// her history; one that names nobody's, or someone else's with the
	// wrong handle, goes in nobody's.
	failed := func(uuid string) int {
		return len(slices.DeleteFunc(eventTypes(t, f.s, uuid), func(e account.EventType) bool { return e != account.EventLoginFailed }))
	}
	if a, b := failed(f.account.UUID), failed(bob.UUID); a != 1 || b != 0 {
		t.Errorf("login_failed events of alice and bob = %d, %d; want 1, 0", a, b)
	}

	// A ceremony finishes once, right or wrong, and not after 5 minutes.
	good := accounttest.Credential{ID: []byte("alice-cred"), UserHandle: alice, SignCount: 3}
	options, ceremony, _ := f.pk.BeginLogin(ctx)
	if _, err := f.pk.FinishLogin(ctx, ceremony, good.For(options), accounttest.TestClient); err != nil {
		t.Fatalf("FinishLogin: %v", err)
	}
	good.SignCount = 4
	if _, err := f.pk.FinishLogin(ctx, ceremony, good.For(options), accounttest.TestClient); !errors.Is(err, account.ErrNoCeremony) {
		t.Fatalf("the same ceremony again: %v, want ErrNoCeremony", err)
	}
	if _, err := f.pk.FinishLogin(ctx, "", good.For(options), accounttest.TestClient); !errors.Is(err, account.ErrNoCeremony) {
		t.Fatalf("no ceremony id: %v, want ErrNoCeremony", err)
	}
	options, ceremony, _ = f.pk.BeginLogin(ctx)
	f.s.Clock.Advance(account.PasskeyCeremonyTTL)
	if _, err := f.pk.FinishLogin(ctx, ceremony, good.For(options), accounttest.TestClient); !errors.Is(err, account.ErrNoCeremony) {
		t.Fatalf("a ceremony %v old: %v, want ErrNoCeremony", account.PasskeyCeremonyTTL, err)
	}

	// A disabled account logs in with nothing.
	if err := f.s.AccountStore.SetDisabled(f.account.UUID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(t, good); !errors.Is(err, account.ErrAccountDisabled) {
		t.Fatalf("login of a disabled account: %v, want ErrAccountDisabled", err)
	}
}

// A password change that commits between the passkey login's read of the
// account and its session does not fail the login: a passkey does not
// depend on the password.
func TestPasskeyLoginRacingPasswordChange(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t)
	f.register(t, f.caller, "cred", 0)
	var once sync.Once
	f.s.SessionStore.SetBeforeCreate(func(account.NewSession) {
		once.Do(func() {
			hash, _ := f.s.Hasher.Hash(t.Context(), "another password")
			if err := f.s.AccountStore.UpdatePasswordHash(t.Context(), f.account.UUID, accounttest.PasswordHash, hash); err != nil {
				t.Errorf("change the password: %v", err)
			}
		})
	})
	tokens, err := f.login(t, accounttest.Credential{ID: []byte("cred"), UserHandle: f.handle(t, f.account.UUID)})
	if err != nil || tokens.AccountUUID != f.account.UUID {
		t.Fatalf("login racing a password change = %+v, %v; want a session", tokens, err)
	}
}

// Every new account gets a handle of its own, not derived from its uuid.
func TestPasskeyUserHandles(t *testing.T) {
	t.Parallel()
	f := newPasskeyFixture(t)
	bob := f.s.AddAccount(t, "bob")
	f.register(t, f.caller, "a", 0)
	f.register(t, accounttest.Principal(f.s.StartSession(t, bob.UUID)), "b", 0)
	a, b := f.handle(t, f.account.UUID), f.handle(t, bob.UUID)
	if string(a) == string(b) || string(a) == f.account.UUID || string(security.HashToken(f.account.UUID)) == string(a) {
		t.Fatalf("handles %x and %x are not random and distinct", a, b)
	}
}
