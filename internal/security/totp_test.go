package security_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/accountd/accountd/internal/security"
)

func TestTOTP(t *testing.T) {
	t.Parallel()
	tt := security.NewTOTP("accountd")
	secret, uri, err := tt.NewSecret("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/accountd:alice@example.com" {
		t.Fatalf("uri = %q (%v), want otpauth://totp/accountd:alice@example.com?...", uri, err)
	}
	q := u.Query()
	if q.Get("secret") != secret || q.Get("issuer") != "accountd" || q.Get("algorithm") != "SHA1" ||
		q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Fatalf("uri query = %v, want the secret, issuer accountd, SHA1, 6 digits, 30 s", q)
	}
	if len(secret) != 32 { // 20 bytes in base32 without padding
		t.Fatalf("secret %q has %d characters, want 32", secret, len(secret))
	}
	if other, _, _ := tt.NewSecret("alice@example.com"); other == secret {
		t.Error("two secrets are equal")
	}

	// A fixed secret and time keep the table deterministic: with random
	// ones, two steps' codes could coincide once in a million runs.
	secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	step := security.TOTPStep(now)
	for _, c := range []struct {
		name   string
		at     time.Time
		ok     bool
		wantAt int64
	}{
		{"now", now, true, step},
		{"one step back", now.Add(-security.TOTPPeriod), true, step - 1},
		{"one step ahead", now.Add(security.TOTPPeriod), true, step + 1},
		{"two steps back", now.Add(-2 * security.TOTPPeriod), false, 0},
		{"two steps ahead", now.Add(2 * security.TOTPPeriod), false, 0},
	} {
		code, err := totp.GenerateCode(secret, c.at)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tt.Verify(secret, code, now)
		if ok != c.ok || got != c.wantAt {
			t.Errorf("%s: Verify = %d, %v; want %d, %v", c.name, got, ok, c.wantAt, c.ok)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := tt.Verify(secret, bad, now); ok {
			t.Errorf("Verify(%q) = ok, want refused", bad)
		}
	}
	if _, ok := tt.Verify("not base32!", "123456", now); ok {
		t.Error("Verify with a malformed secret = ok, want refused")
	}
}
