package security

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// isBcrypt reports whether hash claims to be a bcrypt hash: $2a$, $2b$ or
// $2y$, the prefixes that golang.org/x/crypto/bcrypt reads.
func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

// checkBcryptCost reports a cost that bcrypt does not accept.
func checkBcryptCost(cost int) error {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return fmt.Errorf("bcrypt cost %d is outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	return nil
}

// compareBcrypt checks password against a bcrypt hash: ErrMismatch when it
// is wrong, ErrMalformedHash when hash is not one bcrypt can read.
func compareBcrypt(hash string, password []byte) error {
	err := bcrypt.CompareHashAndPassword([]byte(hash), password)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return ErrMismatch
	default:
		return fmt.Errorf("%w: bcrypt: %w", ErrMalformedHash, err)
	}
}

// bcryptCost returns the cost of a bcrypt hash, or -1 for one that is not.
func bcryptCost(hash string) int {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return -1
	}
	return cost
}
