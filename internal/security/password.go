package security

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// MaxPasswordBytes is bcrypt's input limit; longer passwords are refused,
// never silently truncated.
const MaxPasswordBytes = 72

// ErrMismatch is returned by Hasher.Compare when the password is wrong.
var ErrMismatch = errors.New("password does not match")

// ErrBusy is returned when a hash slot could not be had before the context
// ended.
var ErrBusy = errors.New("password hashing is saturated")

// Hasher hashes and checks passwords with bcrypt. At most a fixed number of
// bcrypt computations run at once, so a flood of logins queues here instead
// of starving the rest of the service.
type Hasher struct {
	cost  int
	slots chan struct{}
	dummy []byte
	// queueTimeout bounds the wait for a slot; 0 waits as long as the
	// context allows.
	queueTimeout time.Duration
	// compares counts every bcrypt comparison, for tests and metrics.
	compares atomic.Int64
	// observer, when set, is told about queue waits and bcrypt durations.
	observer HashObserver
	// bg runs the bcrypt computations at a low OS priority.
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

// NewHasher returns a Hasher that hashes at cost and runs at most slots
// bcrypt computations at once.
func NewHasher(cost, slots int, opts ...HasherOption) (*Hasher, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d is outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if slots < 1 {
		slots = 1
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("accountd dummy password"), cost)
	if err != nil {
		return nil, fmt.Errorf("make dummy hash: %w", err)
	}
	h := &Hasher{cost: cost, slots: make(chan struct{}, slots), dummy: dummy, bg: newBackground()}
	for _, o := range opts {
		o(h)
	}
	return h, nil
}

// Cost returns the bcrypt cost new hashes are made with.
func (h *Hasher) Cost() int { return h.cost }

// Compares returns how many bcrypt comparisons the Hasher has made.
func (h *Hasher) Compares() int64 { return h.compares.Load() }

// Hash returns the bcrypt hash of password. It returns ErrBusy when no slot
// frees up before ctx ends.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", bcrypt.ErrPasswordTooLong
	}
	done, err := h.slot(ctx, OpHash)
	if err != nil {
		return "", err
	}
	defer done()
	var b []byte
	h.bg.run(func() { b, err = bcrypt.GenerateFromPassword([]byte(password), h.cost) })
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	return string(b), nil
}

// Compare checks password against hash. It returns ErrMismatch for a wrong
// password and ErrBusy when no slot frees up before ctx ends. An empty hash
// is compared against a dummy hash of the same cost, so that an unknown
// account costs as much time as a known one.
func (h *Hasher) Compare(ctx context.Context, hash, password string) error {
	done, err := h.slot(ctx, OpCompare)
	if err != nil {
		return err
	}
	defer done()
	h.compares.Add(1)
	if hash == "" {
		h.bg.run(func() { _ = bcrypt.CompareHashAndPassword(h.dummy, []byte(password)) })
		return ErrMismatch
	}
	h.bg.run(func() { err = bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return ErrMismatch
	default:
		return fmt.Errorf("bcrypt: %w", err)
	}
}

// NeedsRehash reports whether hash was made with another cost than the
// Hasher's.
func (h *Hasher) NeedsRehash(hash string) bool {
	cost, err := bcrypt.Cost([]byte(hash))
	return err != nil || cost != h.cost
}
