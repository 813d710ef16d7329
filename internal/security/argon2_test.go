package security

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testArgon2 are argon2id settings cheap enough for tests under -race.
var testArgon2 = Argon2Params{Memory: 1024, Time: 1, Threads: 1, MaxMemory: 64 * 1024}

// phcArgon2id is the shape of accountd's argon2id hashes.
var phcArgon2id = regexp.MustCompile(`^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func newArgon2Hasher(t *testing.T, slots int, p Argon2Params) *Hasher {
	t.Helper()
	h, err := NewHasher(4, slots, WithAlgorithm(Argon2id), WithArgon2(p))
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	return h
}

func TestArgon2idHasher(t *testing.T) {
	h := newArgon2Hasher(t, 2, testArgon2)
	ctx := context.Background()
	hash, err := h.Hash(ctx, "securepass123")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if !phcArgon2id.MatchString(hash) {
		t.Fatalf("Hash = %q, want a PHC string $argon2id$v=19$m=1024,t=1,p=1$<salt>$<hash>", hash)
	}
	if err := h.Compare(ctx, hash, "securepass123"); err != nil {
		t.Fatalf("Compare(right password) = %v, want nil", err)
	}
	if err := h.Compare(ctx, hash, "securepass124"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Compare(wrong password) = %v, want ErrMismatch", err)
	}
	if err := h.Compare(ctx, "", "securepass123"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Compare(no hash) = %v, want ErrMismatch", err)
	}
	if got := h.Compares(); got != 3 {
		t.Fatalf("Compares() = %d, want 3 (the unknown account pays one too)", got)
	}
	if !h.dummy.isArgon2() {
		t.Fatal("the dummy hash of an argon2id hasher is not argon2id: unknown accounts would answer faster")
	}
	if _, err := h.Hash(ctx, strings.Repeat("x", MaxPasswordBytes+1)); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("Hash(73 bytes) = %v, want ErrPasswordTooLong", err)
	}
	if h.NeedsRehash(hash) {
		t.Fatal("NeedsRehash of a hash with the same settings = true")
	}
	for _, p := range []Argon2Params{
		{Memory: 2048, Time: 1, Threads: 1, MaxMemory: 64 * 1024},
		{Memory: 1024, Time: 2, Threads: 1, MaxMemory: 64 * 1024},
		{Memory: 1024, Time: 1, Threads: 2, MaxMemory: 64 * 1024},
	} {
		if !newArgon2Hasher(t, 1, p).NeedsRehash(hash) {
			t.Errorf("NeedsRehash of an m=1024,t=1,p=1 hash for a hasher with %+v = false", p)
		}
	}
}

// TestReferenceVector checks a hash made by the reference implementation's
// command-line tool: echo -n securepass123 | argon2 somesaltSOMESALT -id -t 2 -k 1024 -p 1 -l 32 -e
func TestReferenceVector(t *testing.T) {
	const ref = "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHRTT01FU0FMVA$2n9SuwHVouLpl6qhfBPmYoVlzB+g5SRlRyupfbut+fI"
	h := newArgon2Hasher(t, 1, testArgon2)
	if err := h.Compare(context.Background(), ref, "securepass123"); err != nil {
		t.Fatalf("Compare(reference hash, its password) = %v, want nil", err)
	}
	a, err := parseArgon2(ref)
	if err != nil {
		t.Fatal(err)
	}
	if a.String() != ref {
		t.Fatalf("re-encoded = %q, want %q", a.String(), ref)
	}
}

// TestMigrationBothWays checks that each kind of hasher reads the other's
// hashes and asks for them to be re-hashed.
func TestMigrationBothWays(t *testing.T) {
	ctx := context.Background()
	bc, err := NewHasher(4, 1, WithArgon2(testArgon2))
	if err != nil {
		t.Fatal(err)
	}
	ar := newArgon2Hasher(t, 1, testArgon2)
	bHash, _ := bc.Hash(ctx, "securepass123")
	aHash, _ := ar.Hash(ctx, "securepass123")
	for _, c := range []struct {
		name string
		h    *Hasher
		hash string
	}{{"argon2id hasher, bcrypt hash", ar, bHash}, {"bcrypt hasher, argon2id hash", bc, aHash}} {
		if err := c.h.Compare(ctx, c.hash, "securepass123"); err != nil {
			t.Errorf("%s: Compare(right password) = %v, want nil", c.name, err)
		}
		if err := c.h.Compare(ctx, c.hash, "wrong-password"); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: Compare(wrong password) = %v, want ErrMismatch", c.name, err)
		}
		if !c.h.NeedsRehash(c.hash) {
			t.Errorf("%s: NeedsRehash = false, want true", c.name)
		}
	}
	for _, hash := range []string{strings.Replace(bHash, "$2a$", "$2b$", 1), strings.Replace(bHash, "$2a$", "$2y$", 1)} {
		if err := ar.Compare(ctx, hash, "securepass123"); err != nil {
			t.Errorf("Compare(%.4s... hash) = %v, want nil", hash, err)
		}
	}
}

func TestMalformedHashes(t *testing.T) {
	h := newArgon2Hasher(t, 1, testArgon2)
	good := "$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHRTT01FU0FMVA$2n9SuwHVouLpl6qhfBPmYoVlzB+g5SRlRyupfbut+fI"
	for _, bad := range []string{
		"plain",
		"$argon2i$v=19$m=1024,t=2,p=1$c29tZXNhbHRTT01FU0FMVA$2n9SuwHVouLpl6qhfBPmYoVlzB+g5SRlRyupfbut+fI",
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "$v=19", "", 1),
		strings.Replace(good, "m=1024,t=2,p=1", "t=2,m=1024,p=1", 1),
		strings.Replace(good, "m=1024,t=2,p=1", "m=1024,t=0,p=1", 1),
		strings.Replace(good, "m=1024,t=2,p=1", "m=1024,t=2,p=0", 1),
		strings.Replace(good, "m=1024,t=2,p=1", "m=1024,t=2,p=256", 1),
		strings.Replace(good, "m=1024,t=2,p=1", "m=7,t=2,p=1", 1),
		strings.Replace(good, "m=1024,t=2,p=1", "m=01024,t=2,p=1", 1),
		strings.Replace(good, "m=1024,t=2,p=1", "m=-1,t=2,p=1", 1),
		strings.Replace(good, "m=1024,t=2,p=1", "m=1024,t=2", 1),
		strings.Replace(good, "c29tZXNhbHRTT01FU0FMVA", "c29tZQ", 1), // 4-byte salt
		strings.Replace(good, "c29tZXNhbHRTT01FU0FMVA", "c29tZXNhbHRTT01FU0FMVA==", 1),
		good + "$",
		good[:len(good)-40],
	} {
		if err := h.Compare(context.Background(), bad, "securepass123"); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Compare(%q) = %v, want ErrMalformedHash", bad, err)
		}
		if !h.NeedsRehash(bad) {
			t.Errorf("NeedsRehash(%q) = false, want true", bad)
		}
	}
}

func TestArgon2ParamsChecked(t *testing.T) {
	for _, p := range []Argon2Params{
		{Memory: 1024, Time: 0, Threads: 1, MaxMemory: 1024},
		{Memory: 1024, Time: 1, Threads: 0, MaxMemory: 1024},
		{Memory: 15, Time: 1, Threads: 2, MaxMemory: 1024},
		{Memory: 2048, Time: 1, Threads: 1, MaxMemory: 1024},
		{Memory: 1024, Time: 1, Threads: 1, MaxMemory: 1 << 41},
	} {
		if _, err := NewHasher(4, 1, WithAlgorithm(Argon2id), WithArgon2(p)); err == nil {
			t.Errorf("NewHasher with %+v: nil error", p)
		}
	}
	if _, err := NewHasher(4, 1, WithAlgorithm("scrypt")); err == nil {
		t.Error("NewHasher with algorithm scrypt: nil error")
	}
}

// TestArgon2MemoryBound runs 32 comparisons at once and checks, with the
// Hasher's own count of the memory its argon2id computations hold, that
// they never use more than MaxMemory together, whatever the CPU slots
// would allow; a stored hash bigger than the budget runs alone.
func TestArgon2MemoryBound(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		slots    int
		p        Argon2Params
		hashes   []Argon2Params // of the stored hashes compared, in turn
		wantPeak uint64
	}{
		{"memory binds", 8, Argon2Params{Memory: 1024, Time: 1, Threads: 1, MaxMemory: 2048}, nil, 2048},
		{"slots bind", 1, Argon2Params{Memory: 1024, Time: 1, Threads: 1, MaxMemory: 8192}, nil, 1024},
		{"mixed settings", 8, Argon2Params{Memory: 1024, Time: 1, Threads: 1, MaxMemory: 3072},
			[]Argon2Params{{Memory: 2048, Time: 1, Threads: 1}, {Memory: 1024, Time: 1, Threads: 2}}, 3072},
		{"over budget runs alone", 8, Argon2Params{Memory: 1024, Time: 1, Threads: 1, MaxMemory: 2048},
			[]Argon2Params{{Memory: 4096, Time: 1, Threads: 1}}, 4096},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newArgon2Hasher(t, c.slots, c.p)
			hashes := []string{newArgon2Hash(c.p, []byte("securepass123")).String()}
			for _, p := range c.hashes {
				hashes = append(hashes, newArgon2Hash(p, []byte("securepass123")).String())
			}
			h.argon2Peak.Store(0) // forget the dummy hash and the set-up
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			for i := range 32 {
				wg.Go(func() {
					if err := h.Compare(ctx, hashes[i%len(hashes)], "securepass123"); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("Compare: %v", err)
			}
			if peak := h.Argon2PeakMemory(); peak > c.wantPeak || peak == 0 {
				t.Fatalf("argon2id computations used %d KiB at once, want 1..%d", peak, c.wantPeak)
			}
			if n := h.argon2InUse.Load(); n != 0 {
				t.Fatalf("%d KiB still counted in use after every comparison returned", n)
			}
			if got := h.Compares(); got != 32 {
				t.Fatalf("Compares() = %d, want 32", got)
			}
		})
	}
}

// TestArgon2MemoryBusy checks that waiting for argon2id memory gives up
// with ErrBusy like waiting for a slot does, and holds no slot meanwhile.
func TestArgon2MemoryBusy(t *testing.T) {
	h := newArgon2Hasher(t, 2, Argon2Params{Memory: 1024, Time: 1, Threads: 1, MaxMemory: 1024})
	if !h.memory.TryAcquire(1024) {
		t.Fatal("could not take the whole budget")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "securepass123"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with no memory free = %v, want ErrBusy", err)
	}
	if len(h.slots) != 0 {
		t.Fatalf("%d slots held after giving up, want 0", len(h.slots))
	}
	// bcrypt needs no argon2id memory.
	bh, _ := NewHasher(4, 2)
	if err := h.Compare(context.Background(), mustHash(t, bh), "securepass123"); err != nil {
		t.Fatalf("bcrypt Compare while the argon2id budget is taken: %v", err)
	}
	h.memory.Release(1024)
	if _, err := h.Hash(context.Background(), "securepass123"); err != nil {
		t.Fatalf("Hash once the memory is free: %v", err)
	}
}

func mustHash(t *testing.T, h *Hasher) string {
	t.Helper()
	s, err := h.Hash(context.Background(), "securepass123")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
