package postgres_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/keys"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
	"github.com/accountd/accountd/internal/security"
)

const testTOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func newFactorStore(t *testing.T, secretKey []byte) (*postgres.FactorStore, sessionFixture) {
	t.Helper()
	_, pool := pgtest.NewDatabase(t)
	cipher, err := keys.NewCipherFor(secretKey, postgres.TOTPSecretPurpose)
	if err != nil {
		t.Fatal(err)
	}
	f := sessionFixture{pool: pool, store: postgres.NewSessionStore(pool), accountUUID: newAccount(t, pool)}
	return postgres.NewFactorStore(pool, cipher), f
}

// storedSecret reads the account's TOTP secret as the table holds it.
func storedSecret(t *testing.T, f sessionFixture) (secret []byte, encrypted bool) {
	t.Helper()
	err := f.pool.QueryRow(t.Context(), "SELECT secret, encrypted FROM totp_secrets WHERE account_uuid = $1",
		f.accountUUID).Scan(&secret, &encrypted)
	if err != nil {
		t.Fatalf("read totp_secrets: %v", err)
	}
	return secret, encrypted
}

func TestFactorStoreTOTP(t *testing.T) {
	t.Parallel()
	store, f := newFactorStore(t, bytes.Repeat([]byte("s"), 32))
	ctx := t.Context()
	a := f.accountUUID

	if got, err := store.Factors(ctx, a); err != nil || got != (account.Factors{}) {
		t.Fatalf("Factors of a new account = %+v, %v; want none", got, err)
	}
	if _, err := store.TOTP(ctx, a); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("TOTP before enrolling = %v, want ErrNotFound", err)
	}
	if _, err := store.PutPendingTOTP(ctx, newID(t), testTOTPSecret, t0); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("PutPendingTOTP of no account = %v, want ErrNotFound", err)
	}
	first, err := store.PutPendingTOTP(ctx, a, "AAAAAAAAAAAAAAAA", t0)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := store.PutPendingTOTP(ctx, a, testTOTPSecret, t0)
	if err != nil || pending.ID == first.ID {
		t.Fatalf("second PutPendingTOTP = %+v, %v; want a new id, not %d", pending, err, first.ID)
	}
	// At rest, the secret is sealed: not in the clear, not even in part.
	sealed, encrypted := storedSecret(t, f)
	if !encrypted || bytes.Contains(sealed, []byte(testTOTPSecret[:8])) {
		t.Fatalf("stored secret %x (encrypted %v) holds the secret in the clear", sealed, encrypted)
	}
	got, err := store.TOTP(ctx, a)
	if err != nil || got.Secret != testTOTPSecret || got.Confirmed || got.ID != pending.ID {
		t.Fatalf("TOTP = %+v, %v; want the pending secret opened", got, err)
	}

	hashes := make([][]byte, account.RecoveryCodeCount)
	for i := range hashes {
		hashes[i] = security.HashRecoveryCode(security.NewRecoveryCode())
	}
	confirm := account.TOTPConfirmation{AccountUUID: a, ID: first.ID, Step: 100, RecoveryCodeHashes: hashes, Now: t0}
	if err := store.ConfirmTOTP(ctx, confirm); !errors.Is(err, account.ErrTOTPNotPending) {
		t.Fatalf("ConfirmTOTP of a replaced enrolment = %v, want ErrTOTPNotPending", err)
	}
	if err := store.UseTOTPStep(ctx, a, 101); !errors.Is(err, account.ErrTOTPNotEnabled) {
		t.Fatalf("UseTOTPStep while pending = %v, want ErrTOTPNotEnabled", err)
	}
	confirm.ID = pending.ID
	if err := store.ConfirmTOTP(ctx, confirm); err != nil {
		t.Fatal(err)
	}
	if err := store.ConfirmTOTP(ctx, confirm); !errors.Is(err, account.ErrTOTPNotPending) {
		t.Fatalf("second ConfirmTOTP = %v, want ErrTOTPNotPending", err)
	}
	if got, _ := store.Factors(ctx, a); !got.TOTP || got.RecoveryCodesLeft != account.RecoveryCodeCount {
		t.Fatalf("Factors after ConfirmTOTP = %+v, want TOTP and %d codes", got, account.RecoveryCodeCount)
	}
	if _, err := store.PutPendingTOTP(ctx, a, testTOTPSecret, t0); !errors.Is(err, account.ErrTOTPEnabled) {
		t.Fatalf("PutPendingTOTP with TOTP on = %v, want ErrTOTPEnabled", err)
	}

	// The confirming step and earlier ones are used; later ones once each.
	for _, c := range []struct {
		step int64
		want error
	}{{100, account.ErrCodeReplayed}, {99, account.ErrCodeReplayed}, {101, nil}, {101, account.ErrCodeReplayed}, {103, nil}} {
		if err := store.UseTOTPStep(ctx, a, c.step); !errors.Is(err, c.want) {
			t.Fatalf("UseTOTPStep(%d) = %v, want %v", c.step, err, c.want)
		}
	}

	if err := store.UseRecoveryCode(ctx, a, hashes[2], t0); err != nil {
		t.Fatal(err)
	}
	if err := store.UseRecoveryCode(ctx, a, hashes[2], t0); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("second UseRecoveryCode = %v, want ErrNotFound", err)
	}
	if got, _ := store.Factors(ctx, a); got.RecoveryCodesLeft != account.RecoveryCodeCount-1 {
		t.Fatalf("recovery codes left = %d, want %d", got.RecoveryCodesLeft, account.RecoveryCodeCount-1)
	}

	if err := store.DeleteTOTP(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteTOTP(ctx, a); !errors.Is(err, account.ErrTOTPNotEnabled) {
		t.Fatalf("second DeleteTOTP = %v, want ErrTOTPNotEnabled", err)
	}
	if got, _ := store.Factors(ctx, a); got != (account.Factors{}) {
		t.Fatalf("Factors after DeleteTOTP = %+v, want none", got)
	}
	if err := store.UseRecoveryCode(ctx, a, hashes[3], t0); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("UseRecoveryCode after DeleteTOTP = %v, want ErrNotFound", err)
	}
}

// A sealed secret is bound to its account: moved to another account's row,
// it does not open.
func TestFactorStoreSecretBoundToAccount(t *testing.T) {
	t.Parallel()
	store, f := newFactorStore(t, bytes.Repeat([]byte("s"), 32))
	ctx := t.Context()
	other := newAccount(t, f.pool)
	for _, a := range []string{f.accountUUID, other} {
		if _, err := store.PutPendingTOTP(ctx, a, testTOTPSecret, t0); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.pool.Exec(ctx, `UPDATE totp_secrets SET secret = (SELECT secret FROM totp_secrets WHERE account_uuid = $1)
WHERE account_uuid = $2`, f.accountUUID, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.TOTP(ctx, other); err == nil || errors.Is(err, account.ErrNotFound) {
		t.Fatalf("TOTP of a secret moved from another account = %v, want a decryption error", err)
	}
}

// Without SECRET_KEY, secrets are stored in the clear, marked so; a store
// with a key still reads them.
func TestFactorStoreWithoutSecretKey(t *testing.T) {
	t.Parallel()
	clear, f := newFactorStore(t, nil)
	if _, err := clear.PutPendingTOTP(t.Context(), f.accountUUID, testTOTPSecret, t0); err != nil {
		t.Fatal(err)
	}
	if sealed, encrypted := storedSecret(t, f); encrypted || string(sealed) != testTOTPSecret {
		t.Fatalf("stored %q (encrypted %v), want the secret in the clear", sealed, encrypted)
	}
	cipher, _ := keys.NewCipherFor(bytes.Repeat([]byte("s"), 32), postgres.TOTPSecretPurpose)
	if got, err := postgres.NewFactorStore(f.pool, cipher).TOTP(t.Context(), f.accountUUID); err != nil || got.Secret != testTOTPSecret {
		t.Fatalf("TOTP = %+v, %v; want the secret", got, err)
	}
}

// Of racing uses of one step or one recovery code, exactly one wins.
func TestFactorStoreUsesRaceOnce(t *testing.T) {
	t.Parallel()
	store, f := newFactorStore(t, nil)
	ctx := t.Context()
	p, err := store.PutPendingTOTP(ctx, f.accountUUID, testTOTPSecret, t0)
	if err != nil {
		t.Fatal(err)
	}
	code := security.HashRecoveryCode("abcd-efgh-ijkl-mnop")
	err = store.ConfirmTOTP(ctx, account.TOTPConfirmation{
		AccountUUID: f.accountUUID, ID: p.ID, Step: 1, RecoveryCodeHashes: [][]byte{code}, Now: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	const racers = 8
	for name, use := range map[string]func() error{
		"step":          func() error { return store.UseTOTPStep(ctx, f.accountUUID, 2) },
		"recovery code": func() error { return store.UseRecoveryCode(ctx, f.accountUUID, code, t0) },
	} {
		var wg sync.WaitGroup
		errs := make([]error, racers)
		for i := range racers {
			wg.Go(func() { errs[i] = use() })
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, account.ErrCodeReplayed) && !errors.Is(err, account.ErrNotFound):
				t.Fatalf("%s: %v", name, err)
			}
		}
		if wins != 1 {
			t.Fatalf("%s: %d of %d racers won, want 1", name, wins, racers)
		}
	}
}

// An account's factors go with it.
func TestFactorsGoWithTheAccount(t *testing.T) {
	t.Parallel()
	store, f := newFactorStore(t, nil)
	ctx := t.Context()
	p, err := store.PutPendingTOTP(ctx, f.accountUUID, testTOTPSecret, t0)
	if err != nil {
		t.Fatal(err)
	}
	err = store.ConfirmTOTP(ctx, account.TOTPConfirmation{
		AccountUUID: f.accountUUID, ID: p.ID, Step: 1, RecoveryCodeHashes: [][]byte{newHash(t)}, Now: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, "DELETE FROM accounts WHERE uuid = $1", f.accountUUID); err != nil {
		t.Fatal(err)
	}
	var n int
	err = f.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM totp_secrets WHERE account_uuid = $1)
 + (SELECT count(*) FROM recovery_codes WHERE account_uuid = $1)`, f.accountUUID).Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("rows of a deleted account's factors: %d, %v; want 0", n, err)
	}
}

// Factors counts the account's passkeys, of the passkeys table.
func TestFactorsCountPasskeys(t *testing.T) {
	t.Parallel()
	store, f := newFactorStore(t, nil)
	for i := range 2 {
		_, err := f.pool.Exec(t.Context(), `INSERT INTO passkeys (id, account_uuid, name, public_key, aaguid, created_at)
VALUES ($1, $2, 'Passkey', '\x00', '\x00', $3)`, newHash(t), f.accountUUID, t0)
		if err != nil {
			t.Fatalf("insert passkey %d: %v", i, err)
		}
	}
	if got, err := store.Factors(t.Context(), f.accountUUID); err != nil || got != (account.Factors{Passkeys: 2}) {
		t.Fatalf("Factors = %+v, %v; want 2 passkeys and nothing else", got, err)
	}
}
