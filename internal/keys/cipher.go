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

// ErrSealed is a stored key that is encrypted while no SECRET_KEY is set.
var ErrSealed = errors.New("signing key is encrypted and SECRET_KEY is unset")

// Cipher seals the private parts of keys at rest with AES-256-GCM under a
// key derived (HKDF-SHA256) from SECRET_KEY. A Cipher of no secret stores
// them in the clear.
type Cipher struct {
	aead cipher.AEAD // nil: no encryption
}

// NewCipher returns the Cipher of secret; an empty secret encrypts nothing.
func NewCipher(secret []byte) (*Cipher, error) {
	if len(secret) == 0 {
		return &Cipher{}, nil
	}
	key, err := hkdf.Key(sha256.New, secret, nil, cipherInfo, 32)
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
	if c.aead == nil {
		return der, false, nil
	}
	nonce := make([]byte, c.aead.NonceSize(), c.aead.NonceSize()+len(der)+c.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, false, fmt.Errorf("seal key %s: %w", kid, err)
	}
	return c.aead.Seal(nonce, nonce, der, []byte(kid)), true, nil
}

// open reverses seal.
func (c *Cipher) open(kid string, data []byte, encrypted bool) ([]byte, error) {
	if !encrypted {
		return data, nil
	}
	if c.aead == nil {
		return nil, fmt.Errorf("key %s: %w", kid, ErrSealed)
	}
	n := c.aead.NonceSize()
	if len(data) < n {
		return nil, fmt.Errorf("key %s: sealed key too short", kid)
	}
	der, err := c.aead.Open(nil, data[:n], data[n:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("key %s: cannot decrypt (was SECRET_KEY changed?): %w", kid, err)
	}
	return der, nil
}
