package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// cipherInfo binds the derived key to its one use.
const cipherInfo = "accountd signing keys at rest v1"

// ErrSealed is stored data (a signing key, a second-factor secret) that is
// encrypted while no SECRET_KEY is set.
var ErrSealed = errors.New("data is encrypted and SECRET_KEY is unset")

// Cipher seals the private parts of keys at rest with AES-256-GCM under a
// key derived (HKDF-SHA256) from SECRET_KEY. A Cipher of no secret stores
// them in the clear.
type Cipher struct {
	aead cipher.AEAD // nil: no encryption
}

// NewCipher returns the Cipher of secret for signing keys; an empty secret
// encrypts nothing.
func NewCipher(secret []byte) (*Cipher, error) { return NewCipherFor(secret, cipherInfo) }

// NewCipherFor returns a Cipher of secret for another use than signing
// keys, such as second-factor secrets. purpose (the HKDF info) binds the
// derived key to that one use, so that what one use sealed cannot be opened
// as another's. An empty secret encrypts nothing.
func NewCipherFor(secret []byte, purpose string) (*Cipher, error) {
	if len(secret) == 0 {
		return &Cipher{}, nil
	}
	key, err := hkdf.Key(sha256.New, secret, nil, purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key encryption key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("key encryption cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("key encryption cipher: %w", err)
	}
	return &Cipher{aead: aead}, nil
}

// Encrypts reports whether keys are sealed at rest.
func (c *Cipher) Encrypts() bool { return c.aead != nil }

// seal encrypts the private key der of kid, which is bound to it as
// additional data, so that a sealed key cannot be moved to another row.
func (c *Cipher) seal(kid string, der []byte) (sealed []byte, encrypted bool, err error) {
	sealed, encrypted, err = c.Seal(kid, der)
	if err != nil {
		return nil, false, fmt.Errorf("seal key %s: %w", kid, err)
	}
	return sealed, encrypted, nil
}

// open reverses seal.
func (c *Cipher) open(kid string, data []byte, encrypted bool) ([]byte, error) {
	der, err := c.Open(kid, data, encrypted)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", kid, err)
	}
	return der, nil
}

// Seal encrypts plaintext bound to name (additional data: what it belongs
// to, such as a row's key), so that it opens only under the same name. It
// returns plaintext itself, not encrypted, when the Cipher has no secret.
func (c *Cipher) Seal(name string, plaintext []byte) (sealed []byte, encrypted bool, err error) {
	if c.aead == nil {
		return plaintext, false, nil
	}
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(plaintext)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, false, err
	}
	return c.aead.Seal(nonce, nonce, plaintext, []byte(name)), true, nil
}

// Open reverses Seal: data is returned as it is unless encrypted. It
// returns ErrSealed when data is encrypted and the Cipher has no secret.
func (c *Cipher) Open(name string, data []byte, encrypted bool) ([]byte, error) {
	if !encrypted {
		return data, nil
	}
	if c.aead == nil {
		return nil, ErrSealed
	}
	n := c.aead.NonceSize()
	if len(data) < n {
		return nil, errors.New("sealed data too short")
	}
	plain, err := c.aead.Open(nil, data[:n], data[n:], []byte(name))
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt (was SECRET_KEY changed?): %w", err)
	}
	return plain, nil
}
