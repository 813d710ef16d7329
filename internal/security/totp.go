package security

import (
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters (RFC 6238 as authenticator apps use it): SHA-1, six
// digits, 30-second steps, one step of skew either way.
const (
	TOTPPeriod     = 30 * time.Second
	totpSkew       = 1
	totpSecretSize = 20 // 160 bits, RFC 4226's recommendation
)

var totpDigits = otp.DigitsSix

// TOTP makes and checks time-based one-time passwords with
// github.com/pquerna/otp. It is safe for concurrent use.
type TOTP struct {
	issuer string
}

// NewTOTP returns a TOTP whose secrets name issuer in their otpauth URIs,
// which is what authenticator apps show above the code.
func NewTOTP(issuer string) *TOTP { return &TOTP{issuer: issuer} }

// NewSecret returns a new random secret (base32, as authenticator apps take
// it) and its otpauth:// URI for accountName.
func (t *TOTP) NewSecret(accountName string) (secret, uri string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: t.issuer, AccountName: accountName, Period: uint(TOTPPeriod / time.Second),
		SecretSize: totpSecretSize, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", fmt.Errorf("generate totp secret: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// Verify reports whether code is the code of secret at now or one step
// before or after it, and returns that step (Unix time / 30 s), so that the
// caller can refuse a code of a step already used. A malformed code or
// secret is simply not valid.
func (t *TOTP) Verify(secret, code string, now time.Time) (step int64, ok bool) {
	current := TOTPStep(now)
	for _, s := range []int64{current - totpSkew, current, current + totpSkew} {
		if s < 0 {
			continue
		}
		valid, err := hotp.ValidateCustom(code, uint64(s), secret, hotp.ValidateOpts{
			Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
		})
		if err == nil && valid {
			return s, true
		}
	}
	return 0, false
}

// TOTPStep is the time step that t falls in.
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }
