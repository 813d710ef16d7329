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
	EventStore   *EventStore
	Revocations  *Revocations
	Limiter      *Limiter
	Observer     *Observer
	Factors      *FactorStore
	Challenges   *Challenges
	Clock        *Clock
	Hasher       *security.Hasher
	JWT          *security.JWT
	// refreshTTL is the Service's, for StartSession.
	refreshTTL time.Duration
}

// Option changes how NewService builds the Service.
type Option func(*options)

type options struct {
	cfg    account.Config
	hasher *security.Hasher
	log    *slog.Logger
}

// WithReuseGrace sets how long a rotated refresh token still yields its
// child.
func WithReuseGrace(d time.Duration) Option {
	return func(o *options) { o.cfg.ReuseGrace = d }
}

// WithLimits sets the rate limits the Service enforces.
func WithLimits(l account.Limits) Option {
	return func(o *options) { o.cfg.Limits = l }
}

// WithConfig lets f change anything else of the account.Config (its clock,
// limiter, observer, factor store and challenges are the fakes', and so is
// its event store unless f sets one).
func WithConfig(f func(*account.Config)) Option {
	return func(o *options) { f(&o.cfg) }
}

// WithLogger makes the Service log to log instead of nowhere.
func WithLogger(log *slog.Logger) Option {
	return func(o *options) { o.log = log }
}

// WithHasher makes the Service use h instead of a hasher of its own. The
// subtests of a table can share one: making a hasher costs a bcrypt hash,
// tens of milliseconds under the race detector.
func WithHasher(h *security.Hasher) Option {
	return func(o *options) { o.hasher = h }
}

// NewHasher returns a hasher at bcrypt's lowest cost, as NewService makes.
func NewHasher(t testing.TB) *security.Hasher {
	t.Helper()
	h, err := security.NewHasher(4, 2)
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	return h
}

// NewService returns an account.Service on new fakes whose clock starts at
// Epoch. Its hasher uses bcrypt's lowest cost; its access tokens are HS256
// with a random 64-byte key and live AccessTTL; refresh tokens live
// RefreshTTL with a grace of ReuseGrace; MaxLoginFailures wrong passwords
// lock an account id out for LoginFailureWindow.
func NewService(t testing.TB, opts ...Option) *Service {
	t.Helper()
	clock := NewClock(Epoch)
	tokens, err := security.NewJWT(security.JWTConfig{
		Algorithm: "HS256", Key: security.RandomKey(64), Issuer: "accountd", TTL: AccessTTL, Now: clock.Now,
	})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	accounts := NewAccountStore()
	accounts.SetClock(clock.Now)
	s := &Service{
		AccountStore: accounts, SessionStore: NewSessionStore(accounts), EventStore: NewEventStore(accounts),
		Revocations: NewRevocations(clock.Now),
		Limiter:     NewLimiter(clock.Now), Observer: NewObserver(), Clock: clock, JWT: tokens,
		Factors: NewFactorStore(accounts), Challenges: NewChallenges(clock.Now),
	}
	o := options{cfg: account.Config{
		RefreshTTL: RefreshTTL, ReuseGrace: ReuseGrace,
		Limits: account.Limits{
			PerIP:         account.PerWindow(60, time.Minute),
			LoginFailures: account.LockoutAfter(MaxLoginFailures, LoginFailureWindow),
		},
	}}
	for _, opt := range opts {
		opt(&o)
	}
	o.cfg.Now, o.cfg.Limiter, o.cfg.Observer = clock.Now, s.Limiter, s.Observer
	if o.cfg.Events == nil {
		o.cfg.Events = s.EventStore
	}
	o.cfg.Factors, o.cfg.Challenges = s.Factors, s.Challenges
	s.Hasher = o.hasher
	if s.Hasher == nil {
		s.Hasher = NewHasher(t)
	}
	s.refreshTTL = o.cfg.RefreshTTL
	log := o.log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.Service = account.NewService(accounts, s.SessionStore, s.Revocations, s.Hasher, tokens, o.cfg, log)
	return s
}
