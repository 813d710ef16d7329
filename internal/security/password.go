package security

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/semaphore"
)

// MaxPasswordBytes is bcrypt's input limit; longer passwords are refused,
// never silently truncated. It is the limit with argon2id too, so that
// which algorithm runs never changes which passwords are accepted.
const MaxPasswordBytes = 72

// Algorithms a Hasher makes new hashes with.
const (
	Bcrypt   = "bcrypt"
	Argon2id = "argon2id"
)

// ErrMismatch is returned by Hasher.Compare when the password is wrong.
var ErrMismatch = errors.New("password does not match")

// ErrBusy is returned when a hash slot could not be had before the context
// ended.
var ErrBusy = errors.New("password hashing is saturated")

// ErrPasswordTooLong is returned by Hasher.Hash for a password of more than
// MaxPasswordBytes bytes.
var ErrPasswordTooLong = bcrypt.ErrPasswordTooLong

// Hasher hashes passwords with bcrypt or argon2id and checks them against
// hashes of either kind, told apart by their prefix. At most a fixed number
// of hash computations run at once, so a flood of logins queues here instead
// of starving the rest of the service; argon2id computations are further
// bounded by the memory they use together.
type Hasher struct {
	algorithm string
	cost      int
	argon2    Argon2Params
	slots     chan struct{}
	// memory holds the KiB of the argon2id computations that run, up to
	// argon2.MaxMemory.
	memory *semaphore.Weighted
	// dummy is what an unknown account is compared against: a hash of the
	// algorithm and settings of new hashes.
	dummy stored
	// queueTimeout bounds the wait for a slot; 0 waits as long as the
	// context allows.
	queueTimeout time.Duration
	// compares counts every comparison, for tests and metrics.
	compares atomic.Int64
	// argon2InUse and argon2Peak are the KiB of the argon2id computations
	// running now and at most at once, for tests of the memory bound.
	argon2InUse, argon2Peak atomic.Int64
	// observer, when set, is told about queue waits and hash durations.
	observer HashObserver
	// bg runs the hash computations at a low OS priority.
	bg *background
}

// HasherOption changes a setting of NewHasher.
type HasherOption func(*Hasher)

// WithQueueTimeout makes Hash and Compare give up with ErrBusy when no slot
// frees up within d, so that a flood of logins is answered quickly instead
// of waiting out the whole request. d <= 0 waits as long as the context
// allows.
func WithQueueTimeout(d time.Duration) HasherOption {
	return func(h *Hasher) { h.queueTimeout = max(d, 0) }
}

// WithBusy makes the Hasher tell busy(true) when a hash computation starts
// while none runs, and busy(false) when the last one running ends; see
// GOMAXPROCSGovernor.
func WithBusy(busy func(bool)) HasherOption {
	return func(h *Hasher) { h.bg.busy = busy }
}

// WithAlgorithm makes the Hasher make new hashes with algorithm, Bcrypt
// (the default) or Argon2id. Hashes of the other kind are still checked,
// and NeedsRehash reports them.
func WithAlgorithm(algorithm string) HasherOption {
	return func(h *Hasher) { h.algorithm = algorithm }
}

// WithArgon2 sets the argon2id parameters (DefaultArgon2Params unless
// set): those of new hashes when the algorithm is Argon2id, and the memory
// bound of every argon2id computation whatever the algorithm.
func WithArgon2(p Argon2Params) HasherOption {
	return func(h *Hasher) { h.argon2 = p }
}

// NewHasher returns a Hasher that makes bcrypt hashes at cost (or argon2id
// ones, see WithAlgorithm) and runs at most slots hash computations at once.
func NewHasher(cost, slots int, opts ...HasherOption) (*Hasher, error) {
	h := &Hasher{algorithm: Bcrypt, cost: cost, argon2: DefaultArgon2Params, bg: newBackground()}
	for _, o := range opts {
		o(h)
	}
	if err := checkBcryptCost(cost); err != nil {
		return nil, err
	}
	if err := h.argon2.check(); err != nil {
		return nil, err
	}
	if h.algorithm != Bcrypt && h.algorithm != Argon2id {
		return nil, fmt.Errorf("password hash algorithm %q is neither %s nor %s", h.algorithm, Bcrypt, Argon2id)
	}
	h.slots = make(chan struct{}, max(slots, 1))
	h.memory = semaphore.NewWeighted(int64(h.argon2.MaxMemory)) //nolint:gosec // G115: check keeps it under argon2MaxMaxMemory
	var err error
	if h.dummy, err = parseStored(h.dummyHash()); err != nil {
		return nil, fmt.Errorf("read dummy hash: %w", err)
	}
	return h, nil
}

// bcryptAlphabet is the base64 alphabet of bcrypt hashes.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// dummyHash returns a hash of the algorithm and settings of new hashes
// that no password matches: a random salt and digest, not computed. Checking
// a password against it costs what checking against a real one does, since
// that cost is set by the hash's parameters alone; computing a real one
// instead would add a whole bcrypt (hundreds of milliseconds at cost 12) to
// every start.
func (h *Hasher) dummyHash() string {
	if h.algorithm == Argon2id {
		a := argon2Hash{memory: h.argon2.Memory, time: h.argon2.Time, threads: h.argon2.Threads,
			salt: make([]byte, argon2SaltBytes), key: make([]byte, argon2KeyBytes)}
		_, _ = rand.Read(a.salt)
		_, _ = rand.Read(a.key)
		return a.String()
	}
	// $2a$<cost>$ then 22 characters of salt and 31 of digest. The last
	// character of each encodes only some bits; "." (zero) keeps them
	// canonical.
	var b [53]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = bcryptAlphabet[b[i]%byte(len(bcryptAlphabet))]
	}
	b[21], b[52] = '.', '.'
	return fmt.Sprintf("$2a$%02d$%s", h.cost, b[:])
}

// Algorithm returns the algorithm new hashes are made with.
func (h *Hasher) Algorithm() string { return h.algorithm }

// Cost returns the bcrypt cost new bcrypt hashes are made with.
func (h *Hasher) Cost() int { return h.cost }

// Argon2 returns the argon2id parameters of the Hasher.
func (h *Hasher) Argon2() Argon2Params { return h.argon2 }

// Compares returns how many comparisons the Hasher has made.
func (h *Hasher) Compares() int64 { return h.compares.Load() }

// Argon2PeakMemory returns the most KiB that argon2id computations of the
// Hasher have used at once.
func (h *Hasher) Argon2PeakMemory() uint64 { return uint64(h.argon2Peak.Load()) } //nolint:gosec // G115: never negative

// Hash returns the hash of password with the Hasher's algorithm, in the
// form NeedsRehash and Compare read. It returns ErrPasswordTooLong for a
// password of more than MaxPasswordBytes and ErrBusy when no slot frees up
// before ctx ends.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	var memory uint32
	if h.algorithm == Argon2id {
		memory = h.argon2.Memory
	}
	done, err := h.slot(ctx, OpHash, memory)
	if err != nil {
		return "", err
	}
	defer done()
	var s string
	h.bg.run(func() { s, err = h.generate([]byte(password)) })
	return s, err
}

// generate hashes password with the Hasher's algorithm, on the caller's
// thread, without a slot.
func (h *Hasher) generate(password []byte) (string, error) {
	if h.algorithm == Argon2id {
		var a argon2Hash
		h.trackArgon2(h.argon2.Memory, func() { a = newArgon2Hash(h.argon2, password) })
		return a.String(), nil
	}
	b, err := bcrypt.GenerateFromPassword(password, h.cost)
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	return string(b), nil
}

// Compare checks password against hash, bcrypt or argon2id. It returns
// ErrMismatch for a wrong password, ErrMalformedHash for a hash of neither
// kind, and ErrBusy when no slot frees up before ctx ends. An empty hash is
// compared against a dummy hash of the algorithm and settings of new hashes,
// so that an unknown account costs as much time as a known one.
func (h *Hasher) Compare(ctx context.Context, hash, password string) error {
	s := h.dummy
	if hash != "" {
		var err error
		if s, err = parseStored(hash); err != nil {
			return err
		}
	}
	done, err := h.slot(ctx, OpCompare, s.memory())
	if err != nil {
		return err
	}
	defer done()
	h.compares.Add(1)
	h.bg.run(func() { err = h.verify(s, []byte(password)) })
	if hash == "" {
		return ErrMismatch
	}
	return err
}

// NeedsRehash reports whether hash was made with another algorithm or other
// settings than new hashes are.
func (h *Hasher) NeedsRehash(hash string) bool {
	if h.algorithm == Argon2id {
		a, err := parseArgon2(hash)
		return err != nil || !a.current(h.argon2)
	}
	return !isBcrypt(hash) || bcryptCost(hash) != h.cost
}

// stored is a stored hash of either kind, read.
type stored struct {
	bcrypt string
	argon2 *argon2Hash
}

// parseStored reads a stored hash by its prefix.
func parseStored(hash string) (stored, error) {
	switch {
	case isBcrypt(hash):
		return stored{bcrypt: hash}, nil
	case isArgon2id(hash):
		a, err := parseArgon2(hash)
		if err != nil {
			return stored{}, err
		}
		return stored{argon2: &a}, nil
	default:
		return stored{}, fmt.Errorf("%w: neither bcrypt nor argon2id", ErrMalformedHash)
	}
}

// memory is the KiB of memory that checking a password against s uses,
// beside bcrypt's few KiB.
func (s stored) memory() uint32 {
	if s.argon2 != nil {
		return s.argon2.memory
	}
	return 0
}

// verify checks password against s: ErrMismatch when it is wrong.
func (h *Hasher) verify(s stored, password []byte) error {
	if s.argon2 == nil {
		return compareBcrypt(s.bcrypt, password)
	}
	ok := false
	h.trackArgon2(s.argon2.memory, func() { ok = s.argon2.matches(password) })
	if !ok {
		return ErrMismatch
	}
	return nil
}

// trackArgon2 runs f, an argon2id computation with memory KiB, keeping
// count of the memory such computations use at once.
func (h *Hasher) trackArgon2(memory uint32, f func()) {
	n := h.argon2InUse.Add(int64(memory))
	defer h.argon2InUse.Add(-int64(memory))
	for peak := h.argon2Peak.Load(); n > peak && !h.argon2Peak.CompareAndSwap(peak, n); peak = h.argon2Peak.Load() {
	}
	f()
}

// isArgon2 reports whether s is an argon2id hash.
func (s stored) isArgon2() bool { return s.argon2 != nil }
