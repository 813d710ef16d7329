package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/keys"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/security"
)

// TokenConfig is how an instance signs and verifies access tokens.
type TokenConfig struct {
	// Algorithm is ES256, EdDSA or RS256 (keys shared through PostgreSQL),
	// or HS256, HS384 or HS512 (Secret signs).
	Algorithm string
	// Secret is SECRET_KEY: the HMAC key under HS* (empty: a random key for
	// this process), else what seals the signing keys at rest (empty: they
	// are stored in the clear).
	Secret           []byte
	Issuer, Audience string
	TTL              time.Duration
	// JWKSMaxAge and Rotation are the key life's JWKS_MAX_AGE and
	// SIGNING_KEY_ROTATION.
	JWKSMaxAge, Rotation time.Duration
	// Now is the key life's and the tokens' clock; time.Now when nil.
	Now func() time.Time
	// Observer, when set, is told why tokens are refused.
	Observer security.TokenObserver
}

// Tokens signs and verifies access tokens.
type Tokens struct {
	JWT *security.JWT
	// Keys is the instance's copy of the signing keys, nil under HS*.
	Keys *keys.Set
}

// hmacAlgorithm reports whether alg signs with SECRET_KEY.
func hmacAlgorithm(alg string) bool { return strings.HasPrefix(alg, "HS") }

// randomSecretBytes is the size of the per-process HMAC key made when
// SECRET_KEY is unset.
const randomSecretBytes = 64

// NewTokens builds the token signer of c on d's PostgreSQL, Redis and
// logger. Under an asymmetric algorithm it loads the signing keys, making
// the first one when there is none, and keeps them fresh until ctx ends.
func NewTokens(ctx context.Context, d Deps, c TokenConfig) (Tokens, error) {
	jc := security.JWTConfig{Issuer: c.Issuer, Audience: c.Audience, TTL: c.TTL, Now: c.Now, Observer: c.Observer}
	if hmacAlgorithm(c.Algorithm) {
		jc.Algorithm, jc.Key = c.Algorithm, c.Secret
		if len(jc.Key) == 0 {
			d.Logger.Warn("SECRET_KEY is unset: using a random key for this process alone; " +
				"tokens will not survive a restart nor work on other instances")
			jc.Key = security.RandomKey(randomSecretBytes)
		}
		j, err := security.NewJWT(jc)
		if err != nil {
			return Tokens{}, fmt.Errorf("SECRET_KEY/ALGORITHM: %w", err)
		}
		return Tokens{JWT: j}, nil
	}
	if len(c.Secret) == 0 {
		d.Logger.Warn("SECRET_KEY is unset: signing keys are stored unencrypted in PostgreSQL")
	}
	cipher, err := keys.NewCipher(c.Secret)
	if err != nil {
		return Tokens{}, err
	}
	set := keys.NewSet(keys.Config{
		Policy: keys.Policy{Algorithm: c.Algorithm, Rotation: c.Rotation, JWKSMaxAge: c.JWKSMaxAge, TokenTTL: c.TTL},
		Cipher: cipher, Store: postgres.NewKeyStore(d.Pool), Feed: redis.NewKeyFeed(d.Redis, d.KeyPrefix),
		Now: c.Now, Log: d.Logger,
	})
	if err := set.Start(ctx); errors.Is(err, account.ErrUnavailable) {
		// As with the revocation view: the instance serves meanwhile, and
		// tokens get 503 until the keys are loaded.
		d.Logger.Warn("signing keys not loaded yet; tokens get 503 until they are", slog.String("error", err.Error()))
	} else if err != nil {
		return Tokens{}, err
	}
	jc.Keys = set
	j, err := security.NewJWT(jc)
	if err != nil {
		return Tokens{}, err
	}
	d.Logger.LogAttrs(ctx, slog.LevelInfo, "signing keys loaded", slog.String("algorithm", c.Algorithm),
		slog.Bool("encrypted_at_rest", cipher.Encrypts()))
	return Tokens{JWT: j, Keys: set}, nil
}
