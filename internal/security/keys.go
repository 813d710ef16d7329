package security

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// Errors a SigningKeys returns for a token's key.
var (
	// ErrUnknownKey is a kid that names no published key.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrKeyRevoked is a kid whose key was revoked.
	ErrKeyRevoked = errors.New("signing key revoked")
	// ErrKeyAlgorithm is a token whose alg is not its key's.
	ErrKeyAlgorithm = errors.New("algorithm does not match the signing key")
	// ErrKeysUnavailable says that the keys may be out of date, so no token
	// can be checked: callers answer 503, never accept.
	ErrKeysUnavailable = errors.New("signing keys unavailable")
)

// SigningKey is the key new tokens are signed with.
type SigningKey struct {
	ID     string // the kid header
	Method jwt.SigningMethod
	Key    any // what Method.Sign takes
}

// SigningKeys is where a JWT finds the key to sign with and the keys to
// verify with. Its methods are called on the request path: they must be
// quick (no I/O) and safe for concurrent use.
type SigningKeys interface {
	// Signing returns the key to sign with now, or ErrKeysUnavailable when
	// there is none.
	Signing() (SigningKey, error)
	// Verifying returns the public (or HMAC) key of kid for a token signed
	// with alg. It returns ErrUnknownKey, ErrKeyRevoked, ErrKeyAlgorithm or
	// ErrKeysUnavailable.
	Verifying(kid, alg string) (any, error)
	// Usable checks, without any cryptography, that kid still names a key
	// whose tokens are accepted; it returns the errors of Verifying.
	Usable(kid string) error
	// Algorithms lists every alg a token may carry.
	Algorithms() []string
}

// hmacKeys is one fixed HMAC key: the HS256/HS384/HS512 settings of the
// original, where SECRET_KEY signs and verifies.
type hmacKeys struct {
	key SigningKey
}

// hmacKeyIDLabel makes the kid of an HMAC key: a MAC of this label, which
// names the key without revealing anything about it.
const hmacKeyIDLabel = "accountd signing key id"

// newHMACKeys returns the SigningKeys of one HMAC secret.
func newHMACKeys(method jwt.SigningMethod, secret []byte) hmacKeys {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(hmacKeyIDLabel))
	kid := "hs-" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:12])
	return hmacKeys{key: SigningKey{ID: kid, Method: method, Key: secret}}
}

func (h hmacKeys) Signing() (SigningKey, error) { return h.key, nil }

// Verifying accepts the key's own kid and, for tokens issued before
// accountd put a kid on every token, none.
func (h hmacKeys) Verifying(kid, alg string) (any, error) {
	if err := h.Usable(kid); err != nil {
		return nil, err
	}
	if alg != h.key.Method.Alg() {
		return nil, ErrKeyAlgorithm
	}
	return h.key.Key, nil
}

func (h hmacKeys) Usable(kid string) error {
	if kid != "" && kid != h.key.ID {
		return ErrUnknownKey
	}
	return nil
}

func (h hmacKeys) Algorithms() []string { return []string{h.key.Method.Alg()} }
