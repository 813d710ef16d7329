package security

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// refreshTokenBytes is the entropy of a refresh token: 256 bits.
const refreshTokenBytes = 32

// ErrUnseal is returned when sealed data cannot be opened with a token.
var ErrUnseal = errors.New("cannot unseal")

// NewRefreshToken returns a new opaque refresh token: 256 random bits,
// base64url-encoded.
func NewRefreshToken() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(refreshTokenBytes))
}

// HashToken returns the SHA-256 hash of a token, the only form in which
// refresh tokens are stored.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// sealKey derives the key that seals a child token from its parent token.
// It is an HMAC with a fixed label, so it differs from the stored hash.
func sealKey(token string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("accountd refresh child seal v1"))
	return m.Sum(nil)
}

// Seal encrypts secret with a key derived from token (AES-256-GCM). Only a
// holder of token can open the result.
func Seal(token, secret string) []byte {
	gcm := newGCM(sealKey(token))
	nonce := randomBytes(gcm.NonceSize())
	return gcm.Seal(nonce, nonce, []byte(secret), nil)
}

// Open decrypts what Seal made with the same token. It returns ErrUnseal
// when sealed was not made with token or was altered.
func Open(token string, sealed []byte) (string, error) {
	gcm := newGCM(sealKey(token))
	if len(sealed) < gcm.NonceSize() {
		return "", ErrUnseal
	}
	nonce, box := sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():]
	plain, err := gcm.Open(nil, nonce, box, nil)
	if err != nil {
		return "", ErrUnseal
	}
	return string(plain), nil
}

func newGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(fmt.Sprintf("aes with a 32-byte key: %v", err)) // cannot happen
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("gcm: %v", err)) // cannot happen
	}
	return gcm
}

// randomBytes returns n bytes from crypto/rand, which never fails on the
// platforms Go supports.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// NewID returns a random (version 4) UUID in its text form.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return UUIDv4(b)
}

// UUIDv4 formats 16 random bytes as a version 4 UUID, setting its version
// and variant bits.
func UUIDv4(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:36], b[10:16])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:])
}

// RandomKey returns n random bytes, for a signing key made at start.
func RandomKey(n int) []byte { return randomBytes(n) }
