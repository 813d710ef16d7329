package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// Limit is a rate in the terms of the generic cell rate algorithm (GCRA):
// Burst events may happen at once, and after that one more every Interval.
// The zero Limit is off.
type Limit struct {
	Burst    int
	Interval time.Duration
}

// PerWindow returns a Limit of n events per window that may all come at
// once: bursts of n, refilled at an even n per window. n <= 0 turns it off.
func PerWindow(n int, window time.Duration) Limit {
	if n <= 0 || window <= 0 {
		return Limit{}
	}
	return Limit{Burst: n, Interval: window / time.Duration(n)}
}

// LockoutAfter returns a Limit that allows n events and then refuses more
// until window has passed since the first of them; after that it lets one
// through per window until they have all aged out (n windows after the
// last). n <= 0 turns it off.
func LockoutAfter(n int, window time.Duration) Limit {
	if n <= 0 || window <= 0 {
		return Limit{}
	}
	return Limit{Burst: n, Interval: window}
}

// Off reports whether the limit lets everything through.
func (l Limit) Off() bool { return l.Burst <= 0 || l.Interval <= 0 }

// Limits are the rate limits the Service enforces.
type Limits struct {
	// PerIP bounds how often one client address may call each Action.
	PerIP Limit
	// LoginFailures bounds wrong passwords per account id (in any case), at
	// login and wherever a signed-in caller must confirm the password. Once
	// it is reached, all of them are refused, even with the right password,
	// until the limit lets one through again.
	LoginFailures Limit
}

// Limiter counts events per key in storage that every instance shares, so
// that a limit holds across instances.
type Limiter interface {
	// Allow records one event under key and returns nil when limit allows
	// it. Otherwise it records nothing and returns a *RateLimitError that
	// says when to retry. It returns ErrUnavailable when it cannot tell.
	Allow(ctx context.Context, key string, limit Limit) error
	// Check returns what Allow would return, without recording anything.
	Check(ctx context.Context, key string, limit Limit) error
}

// Action names what a per-IP limit guards; each has its own count.
type Action string

// Actions guarded by Limits.PerIP.
const (
	ActionLogin          Action = "token"
	ActionRegister       Action = "register"
	ActionExists         Action = "exist"
	ActionVerifyPassword Action = "verify_password"
	ActionChangePassword Action = "change_password"
	ActionDeleteAccount  Action = "delete_account"
	// ActionPasskeyLogin counts both steps of passkey logins.
	ActionPasskeyLogin Action = "passkey_login"
	// ActionLoginMFA is the second step of a login.
	ActionLoginMFA Action = "token_mfa"
	// ActionMFA is turning a second factor on or off.
	ActionMFA Action = "mfa"
)

// AllowClient counts one call of action from the client's address. It
// returns a *RateLimitError when the client is over Limits.PerIP, and
// ErrUnavailable when the count cannot be kept: limits fail closed.
func (s *Service) AllowClient(ctx context.Context, action Action, c Client) error {
	limit := s.cfg.Limits.PerIP
	if s.cfg.Limiter == nil || limit.Off() {
		return nil
	}
	err := s.cfg.Limiter.Allow(ctx, "ip:"+string(action)+":"+clientKey(c), limit)
	if errors.Is(err, ErrRateLimited) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "rate limited", slog.String("event", "rate_limited"),
			slog.String("action", string(action)), slog.String("client_ip", c.IPAddress))
	}
	if action == ActionLogin && err != nil {
		// Refused before Login runs, but a login attempt all the same.
		s.observer().Login(loginOutcome(err))
	}
	return wrapLimitErr("check client rate", err)
}

// clientKey is the part of a limit key that names a client: its address,
// or its Alias when it has no address.
func clientKey(c Client) string {
	if _, err := netip.ParseAddr(c.IPAddress); err != nil && c.Alias != "" {
		return "alias:" + c.Alias
	}
	return ipKey(c.IPAddress)
}

// ipKey is the part of a limit key that names a client address. An IPv6 client is
// counted by its /64, which one subscriber usually holds whole.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	switch {
	case err != nil:
		return "unknown"
	case a.Is6() && !a.Is4In6():
		p, _ := a.Prefix(64)
		return p.String()
	default:
		return a.Unmap().String()
	}
}

// loginKey is the key that counts failed logins for accountID. Ids that
// cannot exist are not counted: no login with them can succeed anyway, and
// the per-IP limit bounds them.
func loginKey(accountID string) (string, bool) {
	if !ValidAccountID(accountID) {
		return "", false
	}
	return "login:" + strings.ToLower(accountID), true
}

// checkLockout refuses a password check for accountID while the account id
// is locked out by wrong passwords.
func (s *Service) checkLockout(ctx context.Context, accountID string, c Client) error {
	key, ok := loginKey(accountID)
	if s.cfg.Limiter == nil || s.cfg.Limits.LoginFailures.Off() || !ok {
		return nil
	}
	err := s.cfg.Limiter.Check(ctx, key, s.cfg.Limits.LoginFailures)
	if errors.Is(err, ErrRateLimited) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "login locked out", slog.String("event", "login_locked_out"),
			slog.String("client_ip", c.IPAddress))
	}
	return wrapLimitErr("check login failures", err)
}

// countFailure counts a wrong password for accountID, the id of the
// account accountUUID ("" when there is no such account). It returns nil
// once counted, or what the limiter said when it could not count it: a
// *RateLimitError when the limit was already reached, ErrUnavailable when
// the count cannot be kept. The failure that locks an existing account out
// is recorded as login_locked_out; finding that out costs the failure, and
// only it, one more call of the limiter.
func (s *Service) countFailure(ctx context.Context, accountID, accountUUID string, c Client) error {
	key, ok := loginKey(accountID)
	limit := s.cfg.Limits.LoginFailures
	if s.cfg.Limiter == nil || limit.Off() || !ok {
		return nil
	}
	if err := s.cfg.Limiter.Allow(ctx, key, limit); err != nil {
		return wrapLimitErr("count login failure", err)
	}
	if accountUUID != "" && errors.Is(s.cfg.Limiter.Check(ctx, key, limit), ErrRateLimited) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "login locked out", slog.String("event", "login_locked_out"),
			slog.String("account_uuid", accountUUID), slog.String("client_ip", c.IPAddress))
		s.record(ctx, s.event(accountUUID, EventLoginLockedOut, "", c))
	}
	return nil
}

// wrapLimitErr adds context to a limiter's error; errors.As still finds a
// *RateLimitError in it, with the retry time for the client.
func wrapLimitErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", op, err)
}
