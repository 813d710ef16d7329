package security

import "time"

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
