package security

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// ProcsPerHashSlot is how many Go Ps the process has per hash slot while a
// hash runs: with one slot per CPU and twice as many Ps as CPUs, requests
// that need no hash find a free P while every slot hashes (the hashes run
// on low-priority threads, and the kernel lets the requests go first).
// While no hash runs the process keeps one P per CPU, since idle extra Ps
// cost every request scheduler work (threads woken to look for work that
// the CPUs cannot run anyway): about 15% of the CPU of GET /me under load.
// See GOMAXPROCSGovernor.
const ProcsPerHashSlot = 2

// HashSlots returns how many hash computations a process with gomaxprocs
// Ps (as it has them while no hash runs) runs at once: one per CPU.
func HashSlots(gomaxprocs int) int { return max(1, gomaxprocs) }

// GOMAXPROCSGovernor returns the func that WithBusy wants for a process
// whose GOMAXPROCS is base while no hash runs: it gives the process
// ProcsPerHashSlot times as many Ps while any hash runs, through set
// (runtime.GOMAXPROCS in production). Changing GOMAXPROCS stops the world
// for some microseconds; it happens at most twice per burst of hashes.
func GOMAXPROCSGovernor(base int, set func(int) int) func(busy bool) {
	return func(busy bool) {
		if busy {
			set(ProcsPerHashSlot * base)
		} else {
			set(base)
		}
	}
}

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
