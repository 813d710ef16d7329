// Package keys is the life of the asymmetric keys that sign access tokens:
// each key is published in the JWKS before it signs, signs while it is the
// current key, and stays published until every token it signed has expired
// (life.go). The keys live in a Store shared by every instance; a Set holds
// each instance's copy, kept fresh by polling the store and by a feed of
// change announcements, and is what the JWT code signs and verifies with.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Algorithms of the keys this package makes.
const (
	ES256 = "ES256"
	EdDSA = "EdDSA"
	RS256 = "RS256"
)

// Algorithms lists every algorithm a key may use.
var Algorithms = []string{ES256, EdDSA, RS256}

// rsaBits is the size of RS256 keys.
const rsaBits = 2048

// Supported reports whether alg is one of Algorithms.
func Supported(alg string) bool { return slices.Contains(Algorithms, alg) }

// Record is a key as the Store keeps it: the private part is PKCS #8,
// sealed by a Cipher when Encrypted.
type Record struct {
	Life
	PublicKey  []byte // PKIX
	PrivateKey []byte
	Encrypted  bool
}

// Key is a usable key: its life and its parsed parts.
type Key struct {
	Life
	Public  crypto.PublicKey
	Private crypto.Signer
	Method  jwt.SigningMethod
}

// method returns the golang-jwt signing method of alg.
func method(alg string) (jwt.SigningMethod, error) {
	switch alg {
	case ES256:
		return jwt.SigningMethodES256, nil
	case EdDSA:
		return jwt.SigningMethodEdDSA, nil
	case RS256:
		return jwt.SigningMethodRS256, nil
	default:
		return nil, fmt.Errorf("unsupported key algorithm %q (want ES256, EdDSA or RS256)", alg)
	}
}

// generate makes a new private key for alg.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case RS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		_, err := method(alg)
		return nil, err
	}
}

// NewRecord makes a key for alg, published from created and signing from
// activate, sealed by c. Its kid is its JWK thumbprint (RFC 7638).
func NewRecord(alg string, created, activate time.Time, c *Cipher) (Record, error) {
	priv, err := generate(alg)
	if err != nil {
		return Record{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	kid, err := thumbprint(priv.Public())
	if err != nil {
		return Record{}, err
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return Record{}, fmt.Errorf("encode public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Record{}, fmt.Errorf("encode private key: %w", err)
	}
	sealed, encrypted, err := c.seal(kid, der)
	if err != nil {
		return Record{}, err
	}
	return Record{
		Life:      Life{ID: kid, Algorithm: alg, CreatedAt: created, ActivateAt: activate},
		PublicKey: pub, PrivateKey: sealed, Encrypted: encrypted,
	}, nil
}

// thumbprint is the RFC 7638 thumbprint of a public key, base64url.
func thumbprint(pub crypto.PublicKey) (string, error) {
	sum, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// Open parses a stored key, unsealing its private part with c.
func (r Record) Open(c *Cipher) (Key, error) {
	m, err := method(r.Algorithm)
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", r.ID, err)
	}
	der, err := c.open(r.ID, r.PrivateKey, r.Encrypted)
	if err != nil {
		return Key{}, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return Key{}, fmt.Errorf("key %s: parse private key: %w", r.ID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok || !matches(r.Algorithm, priv) {
		return Key{}, fmt.Errorf("key %s: private key does not fit %s", r.ID, r.Algorithm)
	}
	// The public key is derived from the private one, so that a row whose
	// public half was tampered with cannot publish another key.
	if kid, err := thumbprint(priv.Public()); err != nil || kid != r.ID {
		return Key{}, fmt.Errorf("key %s: kid is not the key's thumbprint", r.ID)
	}
	return Key{Life: r.Life, Public: priv.Public(), Private: priv, Method: m}, nil
}

// matches reports whether priv is a key of alg.
func matches(alg string, priv crypto.Signer) bool {
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		return alg == ES256 && k.Curve == elliptic.P256()
	case ed25519.PrivateKey:
		return alg == EdDSA
	case *rsa.PrivateKey:
		return alg == RS256 && k.N.BitLen() >= rsaBits
	default:
		return false
	}
}
