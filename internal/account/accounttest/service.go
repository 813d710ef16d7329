// Package accounttest holds in-memory fakes of the interfaces that package
// account declares, with the semantics of the real adapters, and NewService,
// which builds an account.Service on them with a settable clock, so that the
// domain's rules are tested in milliseconds, without PostgreSQL or Redis.
package accounttest

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/security"
)

// Policies of the Service that NewService builds, as accountd's defaults
// have them.
const (
	AccessTTL          = 30 * time.Minute
	RefreshTTL         = 7 * 24 * time.Hour
	ReuseGrace         = 10 * time.Second
	MaxLoginFailures   = 5
	LoginFailureWindow = 15 * time.Minute
)

// Service is an account.Service on in-memory fakes, with the fakes and its
// clock at hand.
type Service struct {
	*account.Service
	// AccountStore and SessionStore are named for their types: Sessions
	// is a method of the Service.
	AccountStore *AccountStore
	SessionStore *SessionStore
	Revocations  *Revocations
	Limiter      *Limiter
	Observer     *Observer
	Clock        *Clock
	Hasher       *security.Hasher
	JWT          *security.JWT
	// refreshTTL is the Service's, for StartSession.
	refreshTTL time.Duration
}

// Option changes the account.Config that NewService builds the Service
// with.
type Option func(*account.Config)

// WithReuseGrace sets how long a rotated refresh token still yields its
// child.
func WithReuseGrace(d time.Duration) Option {
	return func(c *account.Config) { c.ReuseGrace = d }
}

// WithLimits sets the rate limits the Service enforces.
func WithLimits(l account.Limits) Option {
	return func(c *account.Config) { c.Limits = l }
}

// NewService returns an account.Service on new fakes whose clock starts at
// Epoch. Its hasher uses bcrypt's lowest cost; its access tokens are HS256
// with a random 64-byte key and live AccessTTL; refresh tokens live
// RefreshTTL with a grace of ReuseGrace; MaxLoginFailures wrong passwords
// lock an account id out for LoginFailureWindow.
func NewService(t testing.TB, opts ...Option) *Service {
	t.Helper()
	clock := NewClock(Epoch)
	hasher, err := security.NewHasher(4, 2)
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	tokens, err := security.NewJWT(security.JWTConfig{
		Algorithm: "HS256", Key: security.RandomKey(64), Issuer: "accountd", TTL: AccessTTL, Now: clock.Now,
	})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	accounts := NewAccountStore()
	s := &Service{
		AccountStore: accounts, SessionStore: NewSessionStore(accounts), Revocations: NewRevocations(clock.Now),
		Limiter: NewLimiter(clock.Now), Observer: NewObserver(), Clock: clock, Hasher: hasher, JWT: tokens,
	}
	cfg := account.Config{
		RefreshTTL: RefreshTTL, ReuseGrace: ReuseGrace, Now: clock.Now, Limiter: s.Limiter,
		Limits: account.Limits{
			PerIP:         account.PerWindow(60, time.Minute),
			LoginFailures: account.LockoutAfter(MaxLoginFailures, LoginFailureWindow),
		},
		Observer: s.Observer,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s.refreshTTL = cfg.RefreshTTL
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.Service = account.NewService(accounts, s.SessionStore, s.Revocations, hasher, tokens, cfg, log)
	return s
}
