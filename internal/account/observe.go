package account

import "errors"

// Observer is told the outcome of the Service's security-relevant
// operations, for metrics. Its methods are called on the request path: they
// must be quick and safe for concurrent use. Config.Observer may be nil.
type Observer interface {
	// Login reports the outcome of one login attempt.
	Login(outcome LoginOutcome)
	// Refresh reports the outcome of one refresh attempt.
	Refresh(outcome RefreshOutcome)
	// SessionsRevoked reports that n sessions were revoked, and why.
	SessionsRevoked(reason RevokeReason, n int)
}

// LoginOutcome is how a login attempt ended.
type LoginOutcome string

// Outcomes of a login attempt.
const (
	LoginOK                 LoginOutcome = "ok"
	LoginInvalidCredentials LoginOutcome = "invalid_credentials" //nolint:gosec // a label, not a credential
	LoginDisabled           LoginOutcome = "disabled"
	LoginRateLimited        LoginOutcome = "rate_limited"
	LoginUnavailable        LoginOutcome = "unavailable"
	LoginError              LoginOutcome = "error"
)

// LoginOutcomes lists every LoginOutcome.
var LoginOutcomes = []LoginOutcome{
	LoginOK, LoginInvalidCredentials, LoginDisabled, LoginRateLimited, LoginUnavailable, LoginError,
}

// RefreshOutcome is how a refresh attempt ended.
type RefreshOutcome string

// Outcomes of a refresh attempt.
const (
	// RefreshOK is a rotation: a fresh child was issued.
	RefreshOK RefreshOutcome = "ok"
	// RefreshRotated is a token presented again within the grace period,
	// which got the child its first use produced.
	RefreshRotated RefreshOutcome = "rotated"
	// RefreshReused is a replay after the grace period, which revoked the
	// session.
	RefreshReused RefreshOutcome = "reused"
	// RefreshInvalid is a missing, unknown, expired or revoked token.
	RefreshInvalid RefreshOutcome = "invalid"
	// RefreshDisabled is a token of a disabled account, left as it was.
	RefreshDisabled RefreshOutcome = "disabled"
	// RefreshSessionExpired is a token of a session past its maximum
	// lifetime.
	RefreshSessionExpired RefreshOutcome = "session_expired"
	RefreshRateLimited    RefreshOutcome = "rate_limited"
	RefreshUnavailable    RefreshOutcome = "unavailable"
	RefreshError          RefreshOutcome = "error"
)

// RefreshOutcomes lists every RefreshOutcome.
var RefreshOutcomes = []RefreshOutcome{
	RefreshOK, RefreshRotated, RefreshReused, RefreshInvalid, RefreshDisabled, RefreshSessionExpired,
	RefreshRateLimited, RefreshUnavailable, RefreshError,
}

// RevokeReason says why sessions were revoked.
type RevokeReason string

// Reasons for revoking sessions.
const (
	RevokeLogout         RevokeReason = "logout"
	RevokeLogoutOthers   RevokeReason = "logout_others"
	RevokeLogoutGlobal   RevokeReason = "logout_global"
	RevokeSessionDelete  RevokeReason = "session_delete"
	RevokePasswordChange RevokeReason = "password_change"
	RevokeTokenReuse     RevokeReason = "refresh_token_reused"
	RevokeAccountDelete  RevokeReason = "account_delete"
	RevokeAccountDisable RevokeReason = "account_disable"
	// RevokeOperator is an operator's revoke-sessions command.
	RevokeOperator RevokeReason = "operator"
)

// RevokeReasons lists every RevokeReason.
var RevokeReasons = []RevokeReason{
	RevokeLogout, RevokeLogoutOthers, RevokeLogoutGlobal, RevokeSessionDelete, RevokePasswordChange, RevokeTokenReuse,
	RevokeAccountDelete, RevokeAccountDisable, RevokeOperator,
}

// revokeReason is the reason a logout of scope gives.
func revokeReason(scope LogoutScope) RevokeReason {
	switch scope {
	case ScopeOthers:
		return RevokeLogoutOthers
	case ScopeGlobal:
		return RevokeLogoutGlobal
	default:
		return RevokeLogout
	}
}

// nopObserver is the Observer of a Service configured without one.
type nopObserver struct{}

func (nopObserver) Login(LoginOutcome)                {}
func (nopObserver) Refresh(RefreshOutcome)            {}
func (nopObserver) SessionsRevoked(RevokeReason, int) {}

// observer returns the configured Observer, or one that ignores everything.
func (s *Service) observer() Observer {
	if s.cfg.Observer == nil {
		return nopObserver{}
	}
	return s.cfg.Observer
}

// loginOutcome classifies the error Login returned.
func loginOutcome(err error) LoginOutcome {
	switch {
	case err == nil:
		return LoginOK
	case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrInvalidPasskey), errors.Is(err, ErrNoCeremony):
		return LoginInvalidCredentials
	case errors.Is(err, ErrAccountDisabled):
		return LoginDisabled
	case errors.Is(err, ErrRateLimited):
		return LoginRateLimited
	case Unavailable(err):
		return LoginUnavailable
	default:
		return LoginError
	}
}

// refreshOutcome classifies the error Refresh returned; ok is the outcome
// of a success.
func refreshOutcome(ok RefreshOutcome, err error) RefreshOutcome {
	switch {
	case err == nil:
		return ok
	case errors.Is(err, ErrSessionExpired):
		return RefreshSessionExpired
	case errors.Is(err, ErrTokenReused):
		return RefreshReused
	case errors.Is(err, ErrInvalidToken), errors.Is(err, ErrNotAuthenticated):
		return RefreshInvalid
	case errors.Is(err, ErrAccountDisabled):
		return RefreshDisabled
	case errors.Is(err, ErrRateLimited):
		return RefreshRateLimited
	case Unavailable(err):
		return RefreshUnavailable
	default:
		return RefreshError
	}
}
