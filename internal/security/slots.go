package security

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// ProcsPerHashSlot is how many Go Ps the process keeps per bcrypt slot: with
// one slot per CPU and twice as many Ps as CPUs, requests that need no
// bcrypt find a free P while every slot hashes (the hashes run on
// low-priority threads, and the kernel lets the requests go first).
// cmd/accountd raises GOMAXPROCS by this factor; HashSlots divides by it.
const ProcsPerHashSlot = 2

// HashSlots returns how many bcrypt computations a process with gomaxprocs
// Ps runs at once: one per CPU, at least one.
func HashSlots(gomaxprocs int) int { return max(1, gomaxprocs/ProcsPerHashSlot) }

// acquire takes a bcrypt slot, waiting at most the queue timeout (or until
// ctx ends): ErrBusy when none frees up.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.queueTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.queueTimeout)
		defer cancel()
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hold takes one slot, as a bcrypt computation does, until release is
// called; calling release again does nothing. It returns ErrBusy as Hash
// does. The service never needs it; it lets tests fill the slots without
// burning CPU.
func (h *Hasher) Hold(ctx context.Context) (release func(), err error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(h.release) }, nil
}

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
