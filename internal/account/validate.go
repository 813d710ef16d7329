package account

import (
	"strings"
	"unicode/utf8"

	"github.com/accountd/accountd/internal/security"
)

// Limits of the inputs the contract accepts.
const (
	MinAccountIDLength = 3
	MaxAccountIDLength = 64
	MinPasswordLength  = 8
)

// ValidAccountID reports whether id has 3 to 64 characters from
// A-Z a-z 0-9 . _ - @ +.
func ValidAccountID(id string) bool {
	if len(id) < MinAccountIDLength || len(id) > MaxAccountIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '-', c == '@', c == '+':
		default:
			return false
		}
	}
	return true
}

// checkAccountID adds the problem with id, if any, to v.
func checkAccountID(v *ValidationError, field, id string) {
	switch {
	case len(id) < MinAccountIDLength:
		v.add(field, "string_too_short", "String should have at least 3 characters")
	case len(id) > MaxAccountIDLength:
		v.add(field, "string_too_long", "String should have at most 64 characters")
	case !ValidAccountID(id):
		v.add(field, "string_pattern_mismatch", "String should contain only letters, digits and . _ - @ +")
	}
}

// checkPassword adds the problems with a new password, if any, to v. The
// message never repeats the password.
func checkPassword(v *ValidationError, field, password, accountID string) {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		v.add(field, "string_too_short", "String should have at least 8 characters")
	case len(password) > security.MaxPasswordBytes:
		v.add(field, "string_too_long", "String should have at most 72 bytes")
	case accountID != "" && strings.EqualFold(password, accountID):
		v.add(field, "value_error", "Password must not equal the account id")
	}
}

// ValidateAccountID returns a *ValidationError when id is not a valid
// account id, reported at field.
func ValidateAccountID(field, id string) error {
	var v ValidationError
	checkAccountID(&v, field, id)
	return v.orNil()
}
