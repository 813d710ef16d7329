package security

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id settings of a Hasher.
type Argon2Params struct {
	// Memory is what one hash uses, in KiB (argon2's m).
	Memory uint32
	// Time is the number of passes over the memory (argon2's t).
	Time uint32
	// Threads is the number of lanes computed in parallel (argon2's p).
	Threads uint8
	// MaxMemory bounds, in KiB, the memory of all the argon2id computations
	// that run at once, new hashes and checks of stored ones alike.
	MaxMemory uint64
}

// DefaultArgon2Params are OWASP's recommended argon2id settings (19 MiB,
// two passes, one lane), with room for 13 of them at once.
var DefaultArgon2Params = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, MaxMemory: 256 * 1024}

// Sizes of what accountd's argon2id hashes hold, and the bounds a stored
// hash must respect to be checked at all.
const (
	argon2SaltBytes = 16
	argon2KeyBytes  = 32
	argon2MinSalt   = 8 // RFC 9106's minimum
	argon2MinKey    = 4
	argon2MaxKey    = 1024
	argon2Prefix    = "$argon2id$"
	// argon2MaxMaxMemory (1 PiB in KiB) keeps MaxMemory far inside int64.
	argon2MaxMaxMemory = 1 << 40
)

// ErrMalformedHash is returned for a stored hash that no algorithm of the
// Hasher can read.
var ErrMalformedHash = errors.New("malformed password hash")

// check reports what is wrong with p, if anything.
func (p Argon2Params) check() error {
	switch {
	case p.Time < 1:
		return errors.New("argon2 time must be at least 1")
	case p.Threads < 1:
		return errors.New("argon2 threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("argon2 memory must be at least %d KiB with %d threads", 8*uint32(p.Threads), p.Threads)
	case p.MaxMemory < uint64(p.Memory):
		return fmt.Errorf("argon2 max memory %d KiB is less than the memory of one hash (%d KiB)", p.MaxMemory, p.Memory)
	case p.MaxMemory > argon2MaxMaxMemory:
		return fmt.Errorf("argon2 max memory %d KiB is more than %d KiB", p.MaxMemory, uint64(argon2MaxMaxMemory))
	}
	return nil
}

// argon2Hash is a parsed PHC string of argon2id.
type argon2Hash struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// newArgon2Hash hashes password with p and a fresh random salt.
func newArgon2Hash(p Argon2Params, password []byte) argon2Hash {
	salt := make([]byte, argon2SaltBytes)
	_, _ = rand.Read(salt) // never fails (crypto/rand)
	return argon2Hash{
		memory: p.Memory, time: p.Time, threads: p.Threads, salt: salt,
		key: argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, argon2KeyBytes),
	}
}

// String encodes h as a PHC string, as the reference implementation does:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, unpadded standard base64.
func (h argon2Hash) String() string {
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", argon2Prefix, argon2.Version, h.memory, h.time, h.threads,
		base64.RawStdEncoding.EncodeToString(h.salt), base64.RawStdEncoding.EncodeToString(h.key))
}

// matches reports whether password hashes to h's key, in constant time.
func (h argon2Hash) matches(password []byte) bool {
	got := argon2.IDKey(password, h.salt, h.time, h.memory, h.threads, uint32(len(h.key))) //nolint:gosec // G115: at most argon2MaxKey
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// current reports whether h was made with p, as new hashes are.
func (h argon2Hash) current(p Argon2Params) bool {
	return h.memory == p.Memory && h.time == p.Time && h.threads == p.Threads &&
		len(h.key) == argon2KeyBytes && len(h.salt) >= argon2SaltBytes
}

// isArgon2id reports whether hash claims to be an argon2id PHC string.
func isArgon2id(hash string) bool { return strings.HasPrefix(hash, argon2Prefix) }

// parseArgon2 reads an argon2id PHC string. Only version 19 (0x13, the one
// golang.org/x/crypto computes) is accepted, and the parameters must be in
// the order m, t, p.
func parseArgon2(s string) (argon2Hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return argon2Hash{}, fmt.Errorf("%w: not an argon2id v=%d PHC string", ErrMalformedHash, argon2.Version)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return argon2Hash{}, fmt.Errorf("%w: argon2id parameters are not m,t,p", ErrMalformedHash)
	}
	var h argon2Hash
	m, errM := phcParam(params[0], "m", 32)
	t, errT := phcParam(params[1], "t", 32)
	p, errP := phcParam(params[2], "p", 8)
	if err := errors.Join(errM, errT, errP); err != nil {
		return argon2Hash{}, err
	}
	h.memory, h.time, h.threads = uint32(m), uint32(t), uint8(p) //nolint:gosec // G115: parsed with these sizes
	var err error
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return argon2Hash{}, fmt.Errorf("%w: argon2id salt is not base64", ErrMalformedHash)
	}
	if h.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return argon2Hash{}, fmt.Errorf("%w: argon2id hash is not base64", ErrMalformedHash)
	}
	switch {
	case h.time < 1 || h.threads < 1 || h.memory < 8*uint32(h.threads):
		return argon2Hash{}, fmt.Errorf("%w: argon2id parameters out of range", ErrMalformedHash)
	case len(h.salt) < argon2MinSalt || len(h.key) < argon2MinKey || len(h.key) > argon2MaxKey:
		return argon2Hash{}, fmt.Errorf("%w: argon2id salt or hash of a wrong length", ErrMalformedHash)
	}
	return h, nil
}

// phcParam reads "name=decimal" into an unsigned integer of bits bits.
func phcParam(s, name string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
		return 0, fmt.Errorf("%w: argon2id parameter %s missing or malformed", ErrMalformedHash, name)
	}
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%w: argon2id parameter %s out of range", ErrMalformedHash, name)
	}
	return n, nil
}
