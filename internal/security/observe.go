package security

import (
	"context"
	"time"
)

// HashObserver is told about the bcrypt work of a Hasher, for metrics. Its
// methods are called on the request path: they must be quick and safe for
// concurrent use.
type HashObserver interface {
	// HashWaited reports how long an operation ("hash" or "compare") waited
	// for a bcrypt slot; acquired is false when it gave up with ErrBusy.
	HashWaited(op string, wait time.Duration, acquired bool)
	// HashRan reports how long the bcrypt computation of an operation took.
	HashRan(op string, d time.Duration)
}

// WithObserver makes the Hasher report its queue waits and bcrypt durations
// to o.
func WithObserver(o HashObserver) HasherOption {
	return func(h *Hasher) { h.observer = o }
}

// Operations that a HashObserver is told about.
const (
	OpHash    = "hash"
	OpCompare = "compare"
)

// slot waits for a bcrypt slot as acquire does, reporting the wait, and
// returns the func that gives the slot back and reports how long the work
// held it.
func (h *Hasher) slot(ctx context.Context, op string) (done func(), err error) {
	start := time.Now()
	err = h.acquire(ctx)
	if h.observer != nil {
		h.observer.HashWaited(op, time.Since(start), err == nil)
	}
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	return func() {
		if h.observer != nil {
			h.observer.HashRan(op, time.Since(begin))
		}
		h.release()
	}, nil
}
