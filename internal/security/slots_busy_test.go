package security

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// WithBusy is told when hashing starts while none ran and when the last
// hash running ends, however the hashes overlap; the governor turns that
// into GOMAXPROCS.
func TestHasherTellsWhenBusy(t *testing.T) {
	var mu sync.Mutex
	var procs []int
	set := func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		procs = append(procs, n)
		return 0
	}
	h, err := NewHasher(4, 4, WithBusy(GOMAXPROCSGovernor(3, set)))
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	ctx := context.Background()
	if _, err := h.Hash(ctx, "one at a time"); err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if want := []int{6, 3}; !slices.Equal(procs, want) {
		t.Fatalf("GOMAXPROCS set to %v for one hash, want %v", procs, want)
	}

	// Overlapping hashes: the first raises, the last lowers, in order,
	// and nothing is left raised.
	procs = nil
	release, err := h.Hold(ctx) // holds a slot, runs nothing
	if err != nil {
		t.Fatalf("Hold: %v", err)
	}
	started := make(chan struct{})
	block := make(chan struct{})
	go h.bg.run(func() { close(started); <-block })
	<-started
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := h.Compare(ctx, "", "unknown account"); err == nil {
				t.Error("Compare against the dummy hash matched")
			}
		})
	}
	wg.Wait()
	close(block)
	release()
	for {
		h.bg.mu.Lock()
		running := h.bg.running
		h.bg.mu.Unlock()
		if running == 0 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int{6, 3}; !slices.Equal(procs, want) {
		t.Fatalf("GOMAXPROCS set to %v for overlapping hashes, want %v", procs, want)
	}
}

// Without WithBusy nothing is told, and one slot per CPU is the default.
func TestHashSlotsOnePerCPU(t *testing.T) {
	if got := HashSlots(4); got != 4 {
		t.Fatalf("HashSlots(4) = %d, want 4", got)
	}
	if got := HashSlots(0); got != 1 {
		t.Fatalf("HashSlots(0) = %d, want 1", got)
	}
}
