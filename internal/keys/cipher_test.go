package keys_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/accountd/accountd/internal/keys"
)

// Seal and Open serve other uses than signing keys: what one purpose or one
// name sealed opens under that purpose and name alone.
func TestCipherForPurpose(t *testing.T) {
	t.Parallel()
	secret := bytes.Repeat([]byte("k"), 32)
	totp, err := keys.NewCipherFor(secret, "purpose a")
	if err != nil {
		t.Fatal(err)
	}
	other, err := keys.NewCipherFor(secret, "purpose b")
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("JBSWY3DPEHPK3PXP")
	sealed, encrypted, err := totp.Seal("row-1", plain)
	if err != nil || !encrypted || bytes.Contains(sealed, plain) {
		t.Fatalf("Seal = %x, %v, %v; want encrypted data without the plaintext", sealed, encrypted, err)
	}
	if got, err := totp.Open("row-1", sealed, true); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v; want %q", got, err, plain)
	}
	if _, err := totp.Open("row-2", sealed, true); err == nil {
		t.Fatal("Open under another name succeeded")
	}
	if _, err := other.Open("row-1", sealed, true); err == nil {
		t.Fatal("Open by another purpose succeeded")
	}
	clear, err := keys.NewCipherFor(nil, "purpose a")
	if err != nil || clear.Encrypts() {
		t.Fatalf("cipher of no secret: %v, encrypts %v; want one that stores in the clear", err, clear.Encrypts())
	}
	if _, err := clear.Open("row-1", sealed, true); !errors.Is(err, keys.ErrSealed) {
		t.Fatalf("Open of sealed data without a secret = %v, want ErrSealed", err)
	}
	if got, enc, _ := clear.Seal("row-1", plain); enc || !bytes.Equal(got, plain) {
		t.Fatalf("Seal without a secret = %q, %v; want the plaintext, not encrypted", got, enc)
	}
}
