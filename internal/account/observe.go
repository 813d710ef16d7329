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
	// MFALogin reports the outcome of one attempt to finish a login with a
	// second factor.
	MFALogin(factor Factor, outcome MFAOutcome)
}

// LoginOutcome is how a login attempt ended.
type LoginOutcome string

// Outcomes of a login attempt.
const (
	LoginOK LoginOutcome = "ok"
	// LoginMFARequired is a right password that must be followed by a
	// second factor (see MFAOutcome).
	LoginMFARequired        LoginOutcome = "mfa_required"
	LoginInvalidCredentials LoginOutcome = "invalid_credentials" //nolint:gosec // a label, not a credential
	LoginDisabled           LoginOutcome = "disabled"
	LoginRateLimited        LoginOutcome = "rate_limited"
	LoginUnavailable        LoginOutcome = "unavailable"
	LoginError              LoginOutcome = "error"
)

// LoginOutcomes lists every LoginOutcome.
var LoginOutcomes = []LoginOutcome{
	LoginOK, LoginMFARequired, LoginInvalidCredentials, LoginDisabled, LoginRateLimited, LoginUnavailable, LoginError,
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

// Factor is a second factor that finishes a login.
type Factor string

// Second factors.
const (
	FactorTOTP         Factor = "totp"
	FactorRecoveryCode Factor = "recovery_code"
)

// AllFactors lists every Factor.
var AllFactors = []Factor{FactorTOTP, FactorRecoveryCode}

// MFAOutcome is how an attempt to finish a login with a second factor
// ended.
type MFAOutcome string

// Outcomes of the second step of a login.
const (
	MFAOK MFAOutcome = "ok"
	// MFAInvalidCode is a wrong, replayed or used code.
	MFAInvalidCode MFAOutcome = "invalid_code"
	// MFAInvalidToken is an mfa_token that is unknown, expired, burned or
	// used.
	MFAInvalidToken MFAOutcome = "invalid_token"
	// MFAInvalidRequest is a request that offers no factor or both.
	MFAInvalidRequest MFAOutcome = "invalid_request"
	MFADisabled       MFAOutcome = "disabled"
	MFARateLimited    MFAOutcome = "rate_limited"
	MFAUnavailable    MFAOutcome = "unavailable"
	MFAError          MFAOutcome = "error"
)

// MFAOutcomes lists every MFAOutcome.
var MFAOutcomes = []MFAOutcome{
	MFAOK, MFAInvalidCode, MFAInvalidToken, MFAInvalidRequest, MFADisabled, MFARateLimited, MFAUnavailable, MFAError,
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
func (nopObserver) MFALogin(Factor, MFAOutcome)       {}

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
	case errors.Is(err, ErrMFARequired):
		return LoginMFARequired
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

// mfaOutcome classifies the error LoginMFA returned.
func mfaOutcome(err error) MFAOutcome {
	var verr *ValidationError
	switch {
	case err == nil:
		return MFAOK
	case errors.Is(err, ErrInvalidMFACode):
		return MFAInvalidCode
	case errors.Is(err, ErrInvalidToken):
		return MFAInvalidToken
	case errors.As(err, &verr):
		return MFAInvalidRequest
	case errors.Is(err, ErrAccountDisabled):
		return MFADisabled
	case errors.Is(err, ErrRateLimited):
		return MFARateLimited
	case Unavailable(err):
		return MFAUnavailable
	default:
		return MFAError
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
