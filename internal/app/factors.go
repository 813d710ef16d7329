package app

import (
	"fmt"
	"log/slog"

	"github.com/accountd/accountd/internal/keys"
	"github.com/accountd/accountd/internal/postgres"
)

// FactorCipher returns the cipher that seals TOTP secrets at rest under
// secret (SECRET_KEY), with a key of their own derived from it. Without a
// secret they are stored in the clear, and the log says so.
func FactorCipher(secret []byte, log *slog.Logger) (*keys.Cipher, error) {
	if len(secret) == 0 {
		log.Warn("SECRET_KEY is unset: TOTP secrets are stored unencrypted in PostgreSQL")
	}
	c, err := keys.NewCipherFor(secret, postgres.TOTPSecretPurpose)
	if err != nil {
		return nil, fmt.Errorf("SECRET_KEY: %w", err)
	}
	return c, nil
}
