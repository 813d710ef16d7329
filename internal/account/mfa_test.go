package account_test

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
	"github.com/accountd/accountd/internal/security"
)

// totpFixture is an account whose TOTP is on, with a signed-in caller.
type totpFixture struct {
	s        *accounttest.Service
	account  account.Account
	caller   account.Principal
	secret   string
	recovery []string
}

// withTOTP enrols and confirms TOTP for a new account "alice", and moves
// the clock to the next step, so that a code of now is not the one that
// confirmed it.
func withTOTP(t *testing.T, opts ...accounttest.Option) *totpFixture {
	t.Helper()
	s := accounttest.NewService(t, opts...)
	a := s.AddAccount(t, "alice")
	p := accounttest.Principal(s.StartSession(t, a.UUID))
	e, err := s.EnrollTOTP(t.Context(), p, password, client)
	if err != nil {
		t.Fatalf("EnrollTOTP: %v", err)
	}
	codes, err := s.ConfirmTOTP(t.Context(), p, code(t, e.Secret, s.Clock.Now()), client)
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	s.Clock.Advance(security.TOTPPeriod)
	return &totpFixture{s: s, account: a, caller: p, secret: e.Secret, recovery: codes}
}

// code is the TOTP code of secret at time at.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatalf("GenerateCode: %v", err)
	}
	return c
}

// now is the code of the fixture's secret at the clock's time.
func (f *totpFixture) now(t *testing.T) string { return code(t, f.secret, f.s.Clock.Now()) }

// wrong is a well-formed code that is not the right one now.
func (f *totpFixture) wrong(t *testing.T) string {
	if f.now(t) == "000000" {
		return "111111"
	}
	return "000000"
}

// mfaToken logs in with the password and returns the mfa_token that the
// login asks to finish with.
func (f *totpFixture) mfaToken(t *testing.T) string {
	t.Helper()
	_, err := f.s.Login(t.Context(), "alice", password, client)
	var mfa *account.MFARequiredError
	if !errors.As(err, &mfa) || !errors.Is(err, account.ErrMFARequired) || mfa.Token == "" {
		t.Fatalf("Login with TOTP on = %v, want an *MFARequiredError with a token", err)
	}
	return mfa.Token
}

func (f *totpFixture) finish(t *testing.T, m account.MFAAttempt) (account.Tokens, error) {
	t.Helper()
	return f.s.LoginMFA(t.Context(), m, client)
}

func TestLoginWithTOTP(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	ctx := t.Context()
	token := f.mfaToken(t)
	c := f.now(t)
	tokens, err := f.finish(t, account.MFAAttempt{Token: token, Code: c})
	if err != nil {
		t.Fatalf("LoginMFA = %v", err)
	}
	p, err := f.s.Authenticate(ctx, tokens.AccessToken)
	if err != nil || !slices.Equal(p.AMR, []string{account.MethodPassword, account.MethodOTP}) {
		t.Fatalf("access token: %+v, %v; want amr [pwd otp]", p, err)
	}
	// The mfa_token is single-use.
	if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: c}); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("LoginMFA with a used mfa_token = %v, want ErrInvalidToken", err)
	}
	// The code is accepted once: not again in its step, and no code of an
	// earlier step either.
	if _, err := f.finish(t, account.MFAAttempt{Token: f.mfaToken(t), Code: c}); !errors.Is(err, account.ErrInvalidMFACode) {
		t.Fatalf("LoginMFA with a replayed code = %v, want ErrInvalidMFACode", err)
	}
	earlier := code(t, f.secret, f.s.Clock.Now().Add(-security.TOTPPeriod))
	if _, err := f.finish(t, account.MFAAttempt{Token: f.mfaToken(t), Code: earlier}); !errors.Is(err, account.ErrInvalidMFACode) {
		t.Fatalf("LoginMFA with the code of an earlier step = %v, want ErrInvalidMFACode", err)
	}
	f.s.Clock.Advance(security.TOTPPeriod)
	if _, err := f.finish(t, account.MFAAttempt{Token: f.mfaToken(t), Code: f.now(t)}); err != nil {
		t.Fatalf("LoginMFA with the next step's code = %v", err)
	}
	if n := f.s.Observer.Logins(account.LoginMFARequired); n != 4 {
		t.Fatalf("observed %d logins needing a second factor, want 4", n)
	}
	if ok, bad := f.s.Observer.MFALogins(account.FactorTOTP, account.MFAOK),
		f.s.Observer.MFALogins(account.FactorTOTP, account.MFAInvalidCode); ok != 2 || bad != 2 {
		t.Fatalf("observed %d ok and %d invalid TOTP logins, want 2 and 2", ok, bad)
	}
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	ctx := t.Context()
	tokens, err := f.finish(t, account.MFAAttempt{Token: f.mfaToken(t), RecoveryCode: f.recovery[3]})
	if err != nil {
		t.Fatalf("LoginMFA with a recovery code = %v", err)
	}
	if p, _ := f.s.Authenticate(ctx, tokens.AccessToken); !slices.Equal(p.AMR, []string{"pwd", "otp"}) {
		t.Fatalf("amr = %v, want [pwd otp]", p.AMR)
	}
	if st, _ := f.s.MFAStatus(ctx, f.caller); st.RecoveryCodesLeft != account.RecoveryCodeCount-1 {
		t.Fatalf("recovery codes left = %d, want %d", st.RecoveryCodesLeft, account.RecoveryCodeCount-1)
	}
	_, err = f.finish(t, account.MFAAttempt{Token: f.mfaToken(t), RecoveryCode: f.recovery[3]})
	if !errors.Is(err, account.ErrInvalidMFACode) {
		t.Fatalf("LoginMFA with a used recovery code = %v, want ErrInvalidMFACode", err)
	}
	if n := f.s.Observer.MFALogins(account.FactorRecoveryCode, account.MFAOK); n != 1 {
		t.Fatalf("observed %d recovery code logins, want 1", n)
	}
}

// Five wrong codes burn the mfa_token: the right code then finds none. The
// lock-out is set high here, so that it is the token that stops them.
func TestWrongCodesBurnTheToken(t *testing.T) {
	t.Parallel()
	f := withTOTP(t, accounttest.WithLimits(account.Limits{LoginFailures: account.LockoutAfter(100, time.Hour)}))
	token := f.mfaToken(t)
	for i := range account.MaxMFAFailures {
		if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: f.wrong(t)}); !errors.Is(err, account.ErrInvalidMFACode) {
			t.Fatalf("wrong code %d = %v, want ErrInvalidMFACode", i+1, err)
		}
	}
	if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: f.now(t)}); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("right code after %d wrong ones = %v, want ErrInvalidToken", account.MaxMFAFailures, err)
	}
	if _, err := f.finish(t, account.MFAAttempt{Token: f.mfaToken(t), Code: f.now(t)}); err != nil {
		t.Fatalf("a new login = %v, want tokens", err)
	}
}

func TestMFATokenExpires(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	token := f.mfaToken(t)
	f.s.Clock.Advance(account.MFATokenTTL)
	if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: f.now(t)}); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("LoginMFA after %v = %v, want ErrInvalidToken", account.MFATokenTTL, err)
	}
	if _, err := f.finish(t, account.MFAAttempt{Token: "no such token", Code: f.now(t)}); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("LoginMFA with an unknown token = %v, want ErrInvalidToken", err)
	}
}

// Wrong codes count toward the account's lock-out with wrong passwords;
// once it is locked, neither step goes through, even when right.
func TestWrongCodesLockTheAccountOut(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	ctx := t.Context()
	for range 2 {
		if _, err := f.s.Login(ctx, "alice", wrongPassword, client); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatalf("Login with a wrong password = %v", err)
		}
	}
	token := f.mfaToken(t)
	for range accounttest.MaxLoginFailures - 2 {
		if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: f.wrong(t)}); !errors.Is(err, account.ErrInvalidMFACode) {
			t.Fatalf("wrong code = %v, want ErrInvalidMFACode", err)
		}
	}
	_, err := f.finish(t, account.MFAAttempt{Token: token, Code: f.now(t)})
	wantLockedOut(t, "LoginMFA with the right code", err)
	_, err = f.s.Login(ctx, "alice", password, client)
	wantLockedOut(t, "Login with the right password", err)
	if n := f.s.Observer.MFALogins(account.FactorTOTP, account.MFARateLimited); n != 1 {
		t.Fatalf("observed %d rate-limited second steps, want 1", n)
	}
}

// A password change between the two steps voids the mfa_token, as it ends
// every other session.
func TestPasswordChangeVoidsTheMFAToken(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	token := f.mfaToken(t)
	if err := f.s.ChangePassword(t.Context(), f.caller, password, "another password", client); err != nil {
		t.Fatal(err)
	}
	if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: f.now(t)}); !errors.Is(err, account.ErrInvalidToken) {
		t.Fatalf("LoginMFA after a password change = %v, want ErrInvalidToken", err)
	}
}

// A hash of another cost is replaced at the first step, where the password
// is at hand, and the mfa_token is bound to the new hash.
func TestMFALoginRehashes(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	oldHash, err := security.NewHasher(5, 1)
	if err != nil {
		t.Fatal(err)
	}
	h, err := oldHash.Hash(t.Context(), password)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.AccountStore.UpdatePasswordHash(t.Context(), f.account.UUID, accounttest.PasswordHash, h); err != nil {
		t.Fatal(err)
	}
	token := f.mfaToken(t)
	if a, _ := f.s.AccountStore.ByUUID(t.Context(), f.account.UUID); a.PasswordHash == h {
		t.Fatal("the hash of another cost was not replaced at the first step")
	}
	if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: f.now(t)}); err != nil {
		t.Fatalf("LoginMFA after a rehash = %v, want tokens", err)
	}
}

func TestMFAAttemptValidation(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	token := f.mfaToken(t)
	for _, m := range []account.MFAAttempt{
		{Token: token},
		{Token: token, Code: f.now(t), RecoveryCode: f.recovery[0]},
		{Token: token, Code: "12345"},
		{Token: token, Code: "abcdef"},
	} {
		var verr *account.ValidationError
		if _, err := f.finish(t, m); !errors.As(err, &verr) {
			t.Fatalf("LoginMFA(%+v) = %v, want a *ValidationError", m, err)
		}
	}
	// None of them counted: the token still works, with a spaced code.
	c := f.now(t)
	if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: c[:3] + " " + c[3:]}); err != nil {
		t.Fatalf("LoginMFA with a valid code = %v", err)
	}
}

// A factor store without a challenge store never lets a login skip the
// factor: the first step fails as unavailable.
func TestSecondFactorWithoutChallengeStore(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	s := account.NewService(f.s.AccountStore, f.s.SessionStore, f.s.Revocations, f.s.Hasher, f.s.JWT,
		account.Config{RefreshTTL: accounttest.RefreshTTL, Now: f.s.Clock.Now, Factors: f.s.Factors},
		slog.New(slog.DiscardHandler))
	if _, err := s.Login(t.Context(), "alice", password, client); !account.Unavailable(err) {
		t.Fatalf("Login = %v, want an unavailable error, never tokens", err)
	}
}

// A replayed code is a right one that another request used first (two tabs
// racing with the same code): it counts as a failed login but does not burn
// the mfa_token, so racing losers cannot void the token the winner is about
// to take. Wrong codes still burn it (TestWrongCodesBurnTheMFAToken).
func TestReplayedCodesDoNotBurnTheMFAToken(t *testing.T) {
	t.Parallel()
	// The account's lock-out is set high: it is the mfa_token under test.
	f := withTOTP(t, accounttest.WithLimits(account.Limits{LoginFailures: account.LockoutAfter(100, time.Hour)}))
	used := f.now(t)
	if _, err := f.finish(t, account.MFAAttempt{Token: f.mfaToken(t), Code: used}); err != nil {
		t.Fatalf("LoginMFA = %v", err)
	}
	token := f.mfaToken(t)
	for range account.MaxMFAFailures + 1 {
		if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: used}); !errors.Is(err, account.ErrInvalidMFACode) {
			t.Fatalf("LoginMFA with a replayed code = %v, want ErrInvalidMFACode", err)
		}
	}
	f.s.Clock.Advance(security.TOTPPeriod)
	if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: f.now(t)}); err != nil {
		t.Fatalf("LoginMFA after replayed codes = %v, want the mfa_token still live", err)
	}
}
