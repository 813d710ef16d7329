package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/app"
	"github.com/accountd/accountd/internal/config"
	accounthttp "github.com/accountd/accountd/internal/http"
	"github.com/accountd/accountd/internal/keys"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/security"
)

const keysUsage = "usage: accountd keys list [--json] | rotate [--now] | revoke KID"

// keysCommand runs `accountd keys list | rotate [--now] | revoke KID`:
// exit 0 done, 1 failed or no such key, 2 usage.
func keysCommand(ctx context.Context, args, environ []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("%s", keysUsage)
	}
	sub, rest := args[0], args[1:]
	flags := map[string]bool{}
	var operands []string
	for _, a := range rest {
		if a == "--json" || a == "--now" {
			flags[a] = true
		} else {
			operands = append(operands, a)
		}
	}
	switch {
	case sub == "list" && len(operands) == 0 && !flags["--now"]:
	case sub == "rotate" && len(operands) == 0 && !flags["--json"]:
	case sub == "revoke" && len(operands) == 1 && len(flags) == 0:
	default:
		return usageErrorf("%s", keysUsage)
	}
	return withDatabase(ctx, environ, func(cfg config.Config, pool *pgxpool.Pool) error {
		if cfg.HMAC() {
			return usageErrorf("keys: ALGORITHM=%s signs with SECRET_KEY and has no keys to manage; "+
				"set ALGORITHM to ES256, EdDSA or RS256", cfg.Algorithm)
		}
		m, closeFeed, err := keyManager(ctx, cfg, pool)
		if err != nil {
			return err
		}
		defer closeFeed()
		switch sub {
		case "list":
			return listKeys(ctx, m, flags["--json"], stdout)
		case "rotate":
			return rotateKey(ctx, m, flags["--now"], stdout)
		default:
			return revokeKey(ctx, m, operands[0], stdout)
		}
	})
}

// keyPolicy is the key life that cfg sets.
func keyPolicy(cfg config.Config) keys.Policy {
	return keys.Policy{Algorithm: cfg.Algorithm, Rotation: cfg.SigningKeyRotation,
		JWKSMaxAge: cfg.JWKSMaxAge, TokenTTL: cfg.AccessTTL()}
}

// keyManager returns the manager of the keys in pool, announcing its changes
// on Redis when REDIS_URL is set (else the instances learn them by polling,
// within a second as well). Its security events go to stderr.
func keyManager(ctx context.Context, cfg config.Config, pool *pgxpool.Pool) (*keys.Manager, func(), error) {
	cipher, err := keys.NewCipher([]byte(cfg.SecretKey))
	if err != nil {
		return nil, nil, err
	}
	log := newLogger(cfg, os.Stderr)
	kc := keys.Config{Policy: keyPolicy(cfg), Cipher: cipher, Store: postgres.NewKeyStore(pool), Log: log}
	closeFeed := func() {}
	if cfg.RedisURL != "" {
		rdb, err := redis.Open(ctx, string(cfg.RedisURL))
		if err != nil {
			log.Warn("Redis unreachable: instances learn of the change by polling", slog.String("error", err.Error()))
		} else {
			kc.Feed, closeFeed = redis.NewKeyFeed(rdb, cfg.RedisKeyPrefix), func() { _ = rdb.Close() }
		}
	}
	return keys.NewManager(kc), closeFeed, nil
}

// keyJSON is one key in `keys list --json`.
type keyJSON struct {
	KID        string     `json:"kid"`
	Algorithm  string     `json:"algorithm"`
	State      string     `json:"state"`
	CreatedAt  time.Time  `json:"created_at"`
	ActivateAt time.Time  `json:"activate_at"`
	RetiredAt  *time.Time `json:"retired_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	Until      *time.Time `json:"until,omitempty"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func listKeys(ctx context.Context, m *keys.Manager, asJSON bool, stdout io.Writer) error {
	list, err := m.List(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]keyJSON, len(list))
		for i, s := range list {
			out[i] = keyJSON{KID: s.ID, Algorithm: s.Algorithm, State: string(s.State), CreatedAt: s.CreatedAt,
				ActivateAt: s.ActivateAt, RetiredAt: optionalTime(s.RetiredAt), RevokedAt: optionalTime(s.RevokedAt),
				Until: optionalTime(s.Until)}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tSIGNS FROM\tUNTIL")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Algorithm, s.State, stamp(s.CreatedAt),
			stamp(s.ActivateAt), stamp(s.Until))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func rotateKey(ctx context.Context, m *keys.Manager, now bool, stdout io.Writer) error {
	s, err := m.Rotate(ctx, now)
	if err != nil {
		return err
	}
	if now {
		_, err = fmt.Fprintf(stdout, "key %s (%s) signs now. Verifiers that fetched the JWKS in the last %s may "+
			"refuse its tokens as an unknown kid until they fetch it again.\n", s.ID, s.Algorithm, m.Policy().JWKSMaxAge)
		return err
	}
	_, err = fmt.Fprintf(stdout, "key %s (%s) is published and signs from %s.\n", s.ID, s.Algorithm, stamp(s.ActivateAt))
	return err
}

func revokeKey(ctx context.Context, m *keys.Manager, kid string, stdout io.Writer) error {
	err := m.Revoke(ctx, kid)
	if errors.Is(err, keys.ErrNotFound) {
		return &exitError{code: exitNotFound, err: fmt.Errorf("keys revoke: no unrevoked key %q", kid)}
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "key %s revoked: it left the JWKS and every instance refuses its tokens "+
		"within a second.\n", kid)
	return err
}

// tokenConfig is how cfg has access tokens signed, with refusals counted
// by obs.
func tokenConfig(cfg config.Config, obs security.TokenObserver) app.TokenConfig {
	p := keyPolicy(cfg)
	return app.TokenConfig{
		Algorithm: cfg.Algorithm, Secret: []byte(cfg.SecretKey), Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		TTL: p.TokenTTL, JWKSMaxAge: p.JWKSMaxAge, Rotation: p.Rotation, Observer: obs,
	}
}

// jwksSource is what the JWKS endpoint publishes: the key set, or nothing
// under HS* (a nil *keys.Set must not become a non-nil interface).
func jwksSource(set *keys.Set) accounthttp.JWKSSource {
	if set == nil {
		return nil
	}
	return set
}
