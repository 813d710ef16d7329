// Package app wires accountd's service together from its adapters: the
// PostgreSQL stores, the Redis revocation view and rate limiter, and the
// security helpers. `accountd serve` and every test harness build their
// instance with New, so the tests run the wiring that production runs.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	accounthttp "github.com/accountd/accountd/internal/http"
	"github.com/accountd/accountd/internal/keys"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/security"
)

// readyWait bounds how long New waits for the revocation view's first load;
// until it has one, access tokens get 503 rather than an unchecked answer.
const readyWait = 5 * time.Second

// Deps are the backends and helpers an instance runs on.
type Deps struct {
	Pool  *pgxpool.Pool
	Redis goredis.UniversalClient
	// KeyPrefix starts every Redis key and channel name of the instance;
	// instances that share it share revocations and rate limits.
	KeyPrefix string
	Hasher    *security.Hasher
	Tokens    *security.JWT
	Logger    *slog.Logger
	// FactorCipher seals TOTP secrets at rest (see FactorCipher); nil
	// stores them in the clear.
	FactorCipher *keys.Cipher
}

// Instance is one wired accountd: the account service and the revocation
// view it checks tokens against.
type Instance struct {
	Service *account.Service
	View    *redis.RevocationView
	done    chan struct{}
}

// New builds the service on d with the policies of cfg (its Limiter and
// MFA Challenges, when nil, are the Redis ones, its Factors the PostgreSQL
// store) and starts the
// revocation view, which runs until ctx ends; Done is closed then. It waits
// up to readyWait for the view's first load and logs when that takes
// longer: the instance serves meanwhile and refuses access tokens with 503.
func New(ctx context.Context, d Deps, cfg account.Config) *Instance {
	sessions := postgres.NewSessionStore(d.Pool)
	view := redis.NewRevocationView(d.Redis, d.KeyPrefix, sessions,
		account.RevocationWindow(d.Tokens.TTL()), d.Logger)
	if cfg.Limiter == nil {
		cfg.Limiter = redis.NewLimiter(d.Redis, d.KeyPrefix)
	}
	if cfg.Factors == nil {
		cipher := d.FactorCipher
		if cipher == nil {
			cipher = &keys.Cipher{}
		}
		cfg.Factors = postgres.NewFactorStore(d.Pool, cipher)
	}
	if cfg.Challenges == nil {
		cfg.Challenges = redis.NewMFAChallenges(d.Redis, d.KeyPrefix)
	}
	in := &Instance{
		Service: newService(d, sessions, view, cfg),
		View:    view,
		done:    make(chan struct{}),
	}
	go func() {
		defer close(in.done)
		view.Run(ctx)
	}()
	rctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	if err := view.Ready(rctx); err != nil && ctx.Err() == nil {
		d.Logger.Warn("revocation view not ready yet; access tokens get 503 until it is",
			slog.String("error", err.Error()))
	}
	return in
}

// newService builds the account service on d's stores.
func newService(d Deps, sessions *postgres.SessionStore, revocations account.Revocations, cfg account.Config) *account.Service {
	if cfg.Events == nil {
		cfg.Events = postgres.NewEventStore(d.Pool)
	}
	return account.NewService(postgres.NewAccountStore(d.Pool), sessions, revocations, d.Hasher, d.Tokens, cfg, d.Logger)
}

// NewOperator builds the account service for one-shot operator commands,
// which change accounts and never check access tokens. What it revokes is
// written to the durable record, which every instance polls, and announced
// on d.Redis's revocation channel, as an instance announces it; with
// d.Redis nil, the polls alone carry it (within a second as well). It
// starts nothing that runs on.
func NewOperator(d Deps, cfg account.Config) *account.Service {
	sessions := postgres.NewSessionStore(d.Pool)
	var revocations account.Revocations = recordOnly{}
	if d.Redis != nil {
		revocations = redis.NewRevocationView(d.Redis, d.KeyPrefix, sessions,
			account.RevocationWindow(d.Tokens.TTL()), d.Logger)
	}
	return newService(d, sessions, revocations, cfg)
}

// recordOnly is the Revocations of an operator command without Redis: the
// durable record holds the revocations already, and the instances' polls
// of it carry them.
type recordOnly struct{}

func (recordOnly) RevokeSessions(context.Context, []string, time.Time) error { return nil }

func (recordOnly) SessionRevoked(context.Context, string) (bool, error) {
	return false, account.ErrUnavailable
}

// Done is closed once the revocation view has stopped, after the ctx given
// to New ended.
func (in *Instance) Done() <-chan struct{} { return in.done }

// Checks are the dependency checks of /health for the instance's backends.
func Checks(d Deps) map[string]accounthttp.Check {
	return map[string]accounthttp.Check{
		"postgres": func(ctx context.Context) error { return d.Pool.Ping(ctx) },
		"redis":    func(ctx context.Context) error { return redis.Ping(ctx, d.Redis) },
	}
}
