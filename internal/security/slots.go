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

// acquire takes a hash slot and, for an argon2id computation, memory KiB
// of the argon2id memory budget (all of it when memory exceeds it, so that
// such a hash runs alone), waiting at most the queue timeout (or until ctx
// ends): ErrBusy when either does not free up. Memory is taken first, so a
// computation waiting for memory holds no slot that bcrypt could use.
func (h *Hasher) acquire(ctx context.Context, memory uint32) error {
	weight := h.weight(memory)
	if h.tryAcquire(weight) {
		return nil
	}
	if h.queueTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.queueTimeout)
		defer cancel()
	}
	if weight > 0 {
		if err := h.memory.Acquire(ctx, weight); err != nil {
			return fmt.Errorf("%w: %w", ErrBusy, err)
		}
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		h.releaseMemory(weight)
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// tryAcquire takes what acquire takes if it is free now.
func (h *Hasher) tryAcquire(weight int64) bool {
	if weight > 0 && !h.memory.TryAcquire(weight) {
		return false
	}
	select {
	case h.slots <- struct{}{}:
		return true
	default:
		h.releaseMemory(weight)
		return false
	}
}

// weight is what a computation with memory KiB takes of the memory budget.
func (h *Hasher) weight(memory uint32) int64 {
	return int64(min(uint64(memory), h.argon2.MaxMemory)) //nolint:gosec // G115: at most argon2MaxMaxMemory
}

func (h *Hasher) releaseMemory(weight int64) {
	if weight > 0 {
		h.memory.Release(weight)
	}
}

// release gives back what acquire took for a computation with memory KiB.
func (h *Hasher) release(memory uint32) {
	<-h.slots
	h.releaseMemory(h.weight(memory))
}

// Hold takes one slot, as a bcrypt computation does, until release is
// called; calling release again does nothing. It returns ErrBusy as Hash
// does. The service never needs it; it lets tests fill the slots without
// burning CPU.
func (h *Hasher) Hold(ctx context.Context) (release func(), err error) {
	if err := h.acquire(ctx, 0); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { h.release(0) }) }, nil
}

// slot waits for a hash slot (and memory KiB of the argon2id budget) as
// acquire does, reporting the wait, and returns the func that gives them
// back and reports how long the work held them.
func (h *Hasher) slot(ctx context.Context, op string, memory uint32) (done func(), err error) {
	start := time.Now()
	err = h.acquire(ctx, memory)
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
		h.release(memory)
	}, nil
}
