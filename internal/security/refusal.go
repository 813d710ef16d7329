package security

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// Reasons a TokenObserver is told for a refused access token.
const (
	ReasonMalformed     = "malformed"      // not a JWT, or not one of ours in shape
	ReasonUnknownKey    = "unknown_kid"    // no published key has its kid
	ReasonRevokedKey    = "revoked_key"    // its key was revoked
	ReasonAlgorithm     = "bad_algorithm"  // an alg we never sign with, or not its key's
	ReasonBadSignature  = "bad_signature"  // the signature does not verify
	ReasonExpired       = "expired"        // past its exp
	ReasonInvalidClaims = "invalid_claims" // wrong iss, aud, typ, nbf or iat, or claims missing
	ReasonUnavailable   = "keys_unavailable"
)

// RefusalReasons lists every reason, for metrics that start at zero.
var RefusalReasons = []string{
	ReasonMalformed, ReasonUnknownKey, ReasonRevokedKey, ReasonAlgorithm, ReasonBadSignature,
	ReasonExpired, ReasonInvalidClaims, ReasonUnavailable,
}

// TokenObserver is told why access tokens are refused, for metrics. It is
// called on the request path: it must be quick and safe for concurrent use.
type TokenObserver interface {
	TokenRefused(reason string)
}

// Claim problems found after the signature checked out.
var (
	errBadType       = errors.New("not an access token")
	errMissingClaims = errors.New("claims missing")
)

// refusalReason classifies why verify failed.
func refusalReason(err error) string {
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		return ReasonUnavailable
	case errors.Is(err, ErrUnknownKey):
		return ReasonUnknownKey
	case errors.Is(err, ErrKeyRevoked):
		return ReasonRevokedKey
	case errors.Is(err, ErrKeyAlgorithm):
		return ReasonAlgorithm
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ReasonMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ReasonBadSignature
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return ReasonAlgorithm // an alg golang-jwt does not know, such as none
	case errors.Is(err, ErrTokenExpired), errors.Is(err, jwt.ErrTokenExpired):
		return ReasonExpired
	default:
		return ReasonInvalidClaims
	}
}

// refuse reports why a token was refused and returns the error Verify
// gives for it: ErrTokenExpired, ErrKeysUnavailable or ErrTokenInvalid.
func (j *JWT) refuse(err error) error {
	reason := refusalReason(err)
	if j.observer != nil {
		j.observer.TokenRefused(reason)
	}
	switch reason {
	case ReasonExpired:
		return ErrTokenExpired
	case ReasonUnavailable:
		return ErrKeysUnavailable
	default:
		return ErrTokenInvalid
	}
}
