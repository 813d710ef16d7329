package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/accountd/accountd/internal/cache"
	"github.com/accountd/accountd/internal/security"
)

// Config holds the service's policies.
type Config struct {
	// RefreshTTL is the lifetime of each refresh token, unless its session
	// ends first.
	RefreshTTL time.Duration
	// SessionMaxLifetime is how long a session lives after its login,
	// however often it is refreshed; 0 means no limit.
	SessionMaxLifetime time.Duration
	// ReuseGrace is how long after its rotation a refresh token still
	// yields the child its first use produced.
	ReuseGrace time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Limiter keeps the counts of Limits; nil turns every limit off.
	Limiter Limiter
	// Limits are the rate limits to enforce.
	Limits Limits
	// Observer is told the outcome of logins, refreshes and revocations,
	// for metrics; nil ignores them.
	Observer Observer
	// Breached is the list of breached passwords that new passwords must
	// not be in; nil turns the check off.
	Breached BreachedPasswords
	// Events keeps the security history; nil keeps none. Logins write
	// theirs through SessionStore.Create, in the session's own statement.
	Events EventStore
	// Factors keeps the accounts' second factors; nil turns them off, and
	// every login is by password alone. Challenges must be set with it.
	Factors FactorStore
	// Challenges keeps the logins that wait for their second factor.
	Challenges MFAChallenges
	// OTP checks TOTP codes; security.TOTP when nil.
	OTP OTP
}

// Service carries out the account use cases on top of the stores.
type Service struct {
	accounts    AccountStore
	sessions    SessionStore
	revocations Revocations
	hasher      *security.Hasher
	tokens      *security.JWT
	cfg         Config
	profiles    *cache.Map[string, cachedProfile]
	log         *slog.Logger
}

// NewService returns a Service that uses the given stores and helpers.
func NewService(accounts AccountStore, sessions SessionStore, revocations Revocations,
	hasher *security.Hasher, tokens *security.JWT, cfg Config, log *slog.Logger) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionMaxLifetime <= 0 {
		cfg.SessionMaxLifetime = noSessionLimit
	}
	if cfg.OTP == nil {
		cfg.OTP = security.NewTOTP(TOTPIssuer)
	}
	return &Service{
		accounts: accounts, sessions: sessions, revocations: revocations,
		hasher: hasher, tokens: tokens, cfg: cfg, log: log, profiles: newProfileCache(),
	}
}

// noSessionLimit stands for "no SessionMaxLifetime": longer than any
// refresh token lives.
const noSessionLimit = 100 * 365 * 24 * time.Hour

// Tokens is what a login or a refresh hands to the client.
type Tokens struct {
	AccessToken     string
	AccessExpiresIn time.Duration
	RefreshToken    string
	// RefreshExpiresIn never reaches past SessionExpiresAt.
	RefreshExpiresIn time.Duration
	SessionID        string
	AccountUUID      string
	// SessionExpiresAt is when the session ends, however often it is
	// refreshed (SessionMaxLifetime after its login).
	SessionExpiresAt time.Time
	// AccessExpiresAt and RefreshExpiresAt are when the two tokens expire,
	// to the second for the access token (its exp claim).
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
}

// Principal is the caller that an access token names.
type Principal struct {
	AccountUUID string
	SessionID   string
	TokenID     string
	IssuedAt    time.Time // of the access token
	// ExpiresAt is when the access token expires; zero when the caller was
	// not named by an access token.
	ExpiresAt time.Time
	// AMR says how the session was authenticated (RFC 8176), as the access
	// token carries it; nil for tokens that carry none.
	AMR []string
}

// Register creates an account. It returns a *ValidationError for a bad
// account id or password (code CodePasswordBreached for a password in the
// list of breached passwords) and ErrAccountExists when the id is taken.
func (s *Service) Register(ctx context.Context, accountID, password string, c Client) (Account, error) {
	var v ValidationError
	checkAccountID(&v, "account_id", accountID)
	checkPassword(&v, "password", password, accountID)
	if err := v.orNil(); err != nil {
		return Account{}, err
	}
	if err := s.checkBreached(ctx, "password", password); err != nil {
		return Account{}, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return Account{}, err
	}
	a, err := s.accounts.Create(ctx, NewAccount{AccountID: accountID, PasswordHash: hash, CreatedAt: s.cfg.Now()})
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	s.record(ctx, s.event(a.UUID, EventAccountCreated, "", c))
	s.log.LogAttrs(ctx, slog.LevelInfo, "account registered", slog.String("event", "account_registered"),
		slog.String("account_uuid", a.UUID))
	return a, nil
}

// Exists reports whether an account with the id exists, in any case.
func (s *Service) Exists(ctx context.Context, accountID string) (bool, error) {
	if err := ValidateAccountID("account_id", accountID); err != nil {
		return false, err
	}
	_, err := s.accounts.ByAccountID(ctx, accountID)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("find account: %w", err)
	}
}

// Login checks the credentials and starts a session. Wrong passwords and
// unknown accounts both give ErrInvalidCredentials after one bcrypt
// comparison; a disabled account gives ErrAccountDisabled after a correct
// password. An account id with too many failed logins gives a
// *RateLimitError, even with the right password. An account with a second
// factor gives, after a correct password, an *MFARequiredError whose token
// LoginMFA takes to finish the login.
func (s *Service) Login(ctx context.Context, accountID, password string, c Client) (_ Tokens, err error) {
	defer func() { s.observer().Login(loginOutcome(err)) }()
	if err := s.checkLockout(ctx, accountID, c); err != nil {
		return Tokens{}, err
	}
	var a Account
	if ValidAccountID(accountID) {
		var err error
		a, err = s.accounts.ByAccountID(ctx, accountID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Tokens{}, fmt.Errorf("find account: %w", err)
		}
	}
	if err := s.compare(ctx, a.PasswordHash, password); err != nil {
		if errors.Is(err, ErrInvalidPassword) {
			s.log.LogAttrs(ctx, slog.LevelWarn, "login failed", slog.String("event", "login_failed"),
				slog.String("account_uuid", a.UUID), slog.String("client_ip", c.IPAddress))
			if a.UUID != "" {
				s.record(ctx, s.event(a.UUID, EventLoginFailed, "", c))
			}
			if err := s.countFailure(ctx, accountID, a.UUID, c); err != nil {
				return Tokens{}, err
			}
			return Tokens{}, ErrInvalidCredentials
		}
		return Tokens{}, err
	}
	// Failures that raced this attempt may have locked the account meanwhile.
	if err := s.checkLockout(ctx, accountID, c); err != nil {
		return Tokens{}, err
	}
	if a.Disabled {
		return Tokens{}, ErrAccountDisabled
	}
	if err := s.requireSecondFactor(ctx, a, password, c); err != nil {
		return Tokens{}, err
	}
	tokens, err := s.startSession(ctx, a, c, []string{MethodPassword})
	if err != nil {
		return Tokens{}, err
	}
	if s.hasher.NeedsRehash(a.PasswordHash) {
		s.rehash(ctx, a, password)
	}
	return tokens, nil
}

// rehash stores a hash of the current cost, unless the password changed
// meanwhile. A failure only delays it to the next login, so it is logged,
// not returned.
func (s *Service) rehash(ctx context.Context, a Account, password string) {
	hash, err := s.hash(ctx, password)
	if err == nil {
		err = s.accounts.UpdatePasswordHash(ctx, a.UUID, a.PasswordHash, hash)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "rehash password", slog.String("account_uuid", a.UUID),
			slog.String("error", err.Error()))
	}
}

// startSession starts a session of a, whose password hash the caller has
// just verified. A password change that committed since then wins: the
// login fails with ErrInvalidCredentials.
func (s *Service) startSession(ctx context.Context, a Account, c Client, amr []string) (Tokens, error) {
	now := s.cfg.Now()
	sessionID := security.NewID()
	refresh := security.NewRefreshToken()
	ends := now.Add(s.cfg.SessionMaxLifetime)
	refreshTTL := min(s.cfg.RefreshTTL, ends.Sub(now))
	err := s.sessions.Create(ctx, NewSession{
		ID: sessionID, AccountUUID: a.UUID, PasswordHash: a.PasswordHash, AMR: amr,
		TokenHash: security.HashToken(refresh),
		Client:    c, CreatedAt: now, ExpiresAt: now.Add(refreshTTL),
		Event: s.event(a.UUID, EventLoginSucceeded, sessionID, c),
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return Tokens{}, ErrInvalidCredentials
	case err != nil:
		return Tokens{}, fmt.Errorf("create session: %w", err)
	}
	return s.issue(Session{
		ID: sessionID, AccountUUID: a.UUID, CreatedAt: now, ExpiresAt: now.Add(refreshTTL), AMR: amr,
	}, refresh, now)
}

// issue hands out the session's refresh token with a fresh access token;
// the refresh token expires when sess says, counted from now.
func (s *Service) issue(sess Session, refresh string, now time.Time) (Tokens, error) {
	access, claims, err := s.tokens.Issue(sess.AccountUUID, sess.ID, sess.AMR...)
	if errors.Is(err, security.ErrKeysUnavailable) {
		return Tokens{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{
		AccessToken: access, AccessExpiresIn: s.tokens.TTL(),
		RefreshToken: refresh, RefreshExpiresIn: sess.ExpiresAt.Sub(now),
		SessionID: sess.ID, AccountUUID: sess.AccountUUID,
		SessionExpiresAt: s.sessionEnd(sess),
		AccessExpiresAt:  claims.ExpiresAt, RefreshExpiresAt: sess.ExpiresAt,
	}, nil
}

// sessionEnd is when sess ends, however often it is refreshed.
func (s *Service) sessionEnd(sess Session) time.Time {
	return sess.CreatedAt.Add(s.cfg.SessionMaxLifetime)
}

// hash runs bcrypt, reporting a full hash queue as ErrUnavailable.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	h, err := s.hasher.Hash(ctx, password)
	if errors.Is(err, security.ErrBusy) {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return h, err
}

// compare checks a password against hash ("" for an unknown account, which
// still pays one comparison). It returns ErrInvalidPassword on a mismatch.
func (s *Service) compare(ctx context.Context, hash, password string) error {
	if len(password) > security.MaxPasswordBytes {
		// No stored password is this long; pay the same time all the same.
		hash, password = "", password[:security.MaxPasswordBytes]
	}
	err := s.hasher.Compare(ctx, hash, password)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, security.ErrMismatch):
		return ErrInvalidPassword
	case errors.Is(err, security.ErrBusy):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	default:
		return err
	}
}
