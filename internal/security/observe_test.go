package security

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// observed records what a Hasher reports.
type observed struct {
	mu     sync.Mutex
	events []string
}

func (o *observed) HashWaited(op string, _ time.Duration, acquired bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if acquired {
		o.events = append(o.events, "wait "+op)
	} else {
		o.events = append(o.events, "busy "+op)
	}
}

func (o *observed) HashRan(op string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d <= 0 {
		o.events = append(o.events, "ran "+op+" in no time")
		return
	}
	o.events = append(o.events, "ran "+op)
}

func TestHasherObserver(t *testing.T) {
	o := &observed{}
	h, err := NewHasher(4, 1, WithObserver(o))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hash, err := h.Hash(ctx, "securepass123")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Compare(ctx, hash, "wrong-password"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Compare = %v, want ErrMismatch", err)
	}
	release, err := h.Hold(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := h.Compare(short, hash, "securepass123"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Compare with every slot held = %v, want ErrBusy", err)
	}
	release()

	// Hold is not bcrypt work: it reports nothing of its own wait.
	want := []string{"wait hash", "ran hash", "wait compare", "ran compare", "busy compare"}
	if !slices.Equal(o.events, want) {
		t.Errorf("observed %q, want %q", o.events, want)
	}
}
