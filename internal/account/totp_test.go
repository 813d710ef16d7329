package account_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

func TestTOTPEnrolment(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice")
	p := accounttest.Principal(s.StartSession(t, a.UUID))
	ctx := t.Context()

	if _, err := s.EnrollTOTP(ctx, p, wrongPassword, client); !errors.Is(err, account.ErrInvalidPassword) {
		t.Fatalf("EnrollTOTP with a wrong password = %v, want ErrInvalidPassword", err)
	}
	if _, err := s.ConfirmTOTP(ctx, p, "123456", client); !errors.Is(err, account.ErrTOTPNotPending) {
		t.Fatalf("ConfirmTOTP before enrolling = %v, want ErrTOTPNotPending", err)
	}
	first, err := s.EnrollTOTP(ctx, p, password, client)
	if err != nil || first.Secret == "" || first.URI == "" {
		t.Fatalf("EnrollTOTP = %+v, %v", first, err)
	}
	// Enrolling again replaces the pending secret: the first one's codes no
	// longer confirm.
	e, err := s.EnrollTOTP(ctx, p, password, client)
	if err != nil || e.Secret == first.Secret {
		t.Fatalf("second EnrollTOTP = %+v, %v; want a new secret", e, err)
	}
	if f, _ := s.MFAStatus(ctx, p); f.TOTP || f.RecoveryCodesLeft != 0 {
		t.Fatalf("MFAStatus while pending = %+v, want TOTP off", f)
	}
	if _, err := s.ConfirmTOTP(ctx, p, code(t, first.Secret, s.Clock.Now()), client); !errors.Is(err, account.ErrInvalidMFACode) {
		t.Fatalf("ConfirmTOTP with the replaced secret's code = %v, want ErrInvalidMFACode", err)
	}
	var verr *account.ValidationError
	if _, err := s.ConfirmTOTP(ctx, p, "12345x", client); !errors.As(err, &verr) {
		t.Fatalf("ConfirmTOTP of a malformed code = %v, want a *ValidationError", err)
	}
	// Pending, the account still logs in with its password alone.
	if _, err := s.Login(ctx, "alice", password, client); err != nil {
		t.Fatalf("Login while pending = %v, want tokens", err)
	}
	codes, err := s.ConfirmTOTP(ctx, p, code(t, e.Secret, s.Clock.Now()), client)
	if err != nil || len(codes) != account.RecoveryCodeCount {
		t.Fatalf("ConfirmTOTP = %v, %v; want %d recovery codes", codes, err, account.RecoveryCodeCount)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(codes)))) != len(codes) {
		t.Fatalf("recovery codes repeat: %v", codes)
	}
	if f, _ := s.MFAStatus(ctx, p); !f.TOTP || f.RecoveryCodesLeft != account.RecoveryCodeCount || f.Passkeys != 0 {
		t.Fatalf("MFAStatus = %+v, want TOTP on and %d recovery codes", f, account.RecoveryCodeCount)
	}
	if _, err := s.EnrollTOTP(ctx, p, password, client); !errors.Is(err, account.ErrTOTPEnabled) {
		t.Fatalf("EnrollTOTP with TOTP on = %v, want ErrTOTPEnabled", err)
	}
	if _, err := s.ConfirmTOTP(ctx, p, code(t, e.Secret, s.Clock.Now()), client); !errors.Is(err, account.ErrTOTPEnabled) {
		t.Fatalf("ConfirmTOTP with TOTP on = %v, want ErrTOTPEnabled", err)
	}
}

func TestDisableTOTP(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	ctx := t.Context()
	if err := f.s.DisableTOTP(ctx, f.caller, wrongPassword, f.now(t), client); !errors.Is(err, account.ErrInvalidPassword) {
		t.Fatalf("DisableTOTP with a wrong password = %v, want ErrInvalidPassword", err)
	}
	if err := f.s.DisableTOTP(ctx, f.caller, password, f.wrong(t), client); !errors.Is(err, account.ErrInvalidMFACode) {
		t.Fatalf("DisableTOTP with a wrong code = %v, want ErrInvalidMFACode", err)
	}
	if err := f.s.DisableTOTP(ctx, f.caller, password, "not-a-recovery-code", client); !errors.Is(err, account.ErrInvalidMFACode) {
		t.Fatalf("DisableTOTP with a wrong recovery code = %v, want ErrInvalidMFACode", err)
	}
	// A recovery code serves whoever lost the authenticator.
	if err := f.s.DisableTOTP(ctx, f.caller, password, f.recovery[0], client); err != nil {
		t.Fatalf("DisableTOTP with a recovery code = %v", err)
	}
	if st, _ := f.s.MFAStatus(ctx, f.caller); st.TOTP || st.RecoveryCodesLeft != 0 {
		t.Fatalf("MFAStatus after DisableTOTP = %+v, want nothing", st)
	}
	if err := f.s.DisableTOTP(ctx, f.caller, password, f.now(t), client); !errors.Is(err, account.ErrTOTPNotEnabled) {
		t.Fatalf("DisableTOTP again = %v, want ErrTOTPNotEnabled", err)
	}
	if _, err := f.s.Login(ctx, "alice", password, client); err != nil {
		t.Fatalf("Login after DisableTOTP = %v, want tokens at once", err)
	}
	// A wrong password and two wrong codes above: two more failures and
	// the default lock-out of five holds.
	for range 2 {
		if _, err := f.s.Login(ctx, "alice", wrongPassword, client); !errors.Is(err, account.ErrInvalidCredentials) {
			t.Fatal(err)
		}
	}
	_, err := f.s.Login(ctx, "alice", password, client)
	wantLockedOut(t, "Login after five failures of both kinds", err)
}

func TestDisableTOTPWithACode(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	if err := f.s.DisableTOTP(t.Context(), f.caller, password, f.now(t), client); err != nil {
		t.Fatalf("DisableTOTP with a code = %v", err)
	}
	if _, err := f.s.Login(t.Context(), "alice", password, client); err != nil {
		t.Fatalf("Login after DisableTOTP = %v", err)
	}
}

// Turning TOTP on and off, a wrong second factor and a recovery code are in
// the account's security history.
func TestMFAEvents(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	token := f.mfaToken(t)
	if _, err := f.finish(t, account.MFAAttempt{Token: token, Code: f.wrong(t)}); !errors.Is(err, account.ErrInvalidMFACode) {
		t.Fatal(err)
	}
	tokens, err := f.finish(t, account.MFAAttempt{Token: token, RecoveryCode: f.recovery[0]})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.DisableTOTP(t.Context(), f.caller, password, f.now(t), client); err != nil {
		t.Fatal(err)
	}
	var got []account.EventType
	for _, e := range f.s.EventStore.All() {
		got = append(got, e.Type)
		switch e.Type {
		case account.EventMFAEnabled, account.EventMFADisabled:
			if e.SessionID != f.caller.SessionID {
				t.Errorf("%s in session %q, want the caller's %q", e.Type, e.SessionID, f.caller.SessionID)
			}
		case account.EventLoginSucceeded:
			if e.SessionID != tokens.SessionID {
				t.Errorf("login_succeeded in session %q, want the new session %q", e.SessionID, tokens.SessionID)
			}
		}
	}
	want := []account.EventType{account.EventMFAEnabled, account.EventLoginFailed, account.EventRecoveryCodeUsed,
		account.EventLoginSucceeded, account.EventMFADisabled}
	if !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
}

// An account's factors go with it.
func TestDeleteAccountDeletesFactors(t *testing.T) {
	t.Parallel()
	f := withTOTP(t)
	if err := f.s.DeleteAccount(t.Context(), f.caller, password, client); err != nil {
		t.Fatal(err)
	}
	if st, err := f.s.Factors.Factors(t.Context(), f.account.UUID); err != nil || st != (account.Factors{}) {
		t.Fatalf("factors of a deleted account = %+v, %v; want none", st, err)
	}
}
