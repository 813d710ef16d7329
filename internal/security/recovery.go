package security

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// recoveryCodeBytes is the entropy of a recovery code: 80 bits, so that its
// plain SHA-256 hash withstands an offline search.
const recoveryCodeBytes = 10

// recoveryEncoding spells recovery codes in lower-case base32 (a-z, 2-7),
// which has no 0/O or 1/l to confuse.
var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewRecoveryCode returns a new single-use recovery code of 80 random bits:
// sixteen characters in groups of four, such as "abcd-efgh-ijkl-mnop".
func NewRecoveryCode() string {
	s := recoveryEncoding.EncodeToString(randomBytes(recoveryCodeBytes))
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// HashRecoveryCode returns the SHA-256 hash of a recovery code, the only
// form in which it is stored. Case, dashes and spaces do not matter, so a
// code typed as "ABCD EFGH IJKL MNOP" matches.
func HashRecoveryCode(code string) []byte {
	code = strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case 'A' <= r && r <= 'Z':
			return r + ('a' - 'A')
		default:
			return r
		}
	}, code)
	sum := sha256.Sum256([]byte(code))
	return sum[:]
}
