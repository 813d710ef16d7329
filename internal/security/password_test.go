package security

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestHasher(t *testing.T) {
	h, err := NewHasher(4, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hash, err := h.Hash(ctx, "securepass123")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if err := h.Compare(ctx, hash, "securepass123"); err != nil {
		t.Fatalf("Compare(right password) = %v, want nil", err)
	}
	if err := h.Compare(ctx, hash, "wrong-password"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Compare(wrong password) = %v, want ErrMismatch", err)
	}
	if err := h.Compare(ctx, "", "anything"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Compare(no hash) = %v, want ErrMismatch", err)
	}
	if got := h.Compares(); got != 3 {
		t.Fatalf("Compares() = %d, want 3 (the unknown account pays one too)", got)
	}
	if _, err := h.Hash(ctx, strings.Repeat("x", 73)); err == nil {
		t.Fatal("Hash accepted a 73-byte password")
	}
	if h.NeedsRehash(hash) {
		t.Fatal("NeedsRehash of a same-cost hash = true")
	}
	h5, _ := NewHasher(5, 1)
	if !h5.NeedsRehash(hash) {
		t.Fatal("NeedsRehash of a cost-4 hash for a cost-5 hasher = false")
	}
}

func TestHasherBound(t *testing.T) {
	h, _ := NewHasher(4, 1)
	h.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "securepass123"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with no free slot = %v, want ErrBusy", err)
	}
	<-h.slots
	if _, err := h.Hash(context.Background(), "securepass123"); err != nil {
		t.Fatalf("Hash once the slot is free: %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	parent, child := NewRefreshToken(), NewRefreshToken()
	sealed := Seal(parent, child)
	got, err := Open(parent, sealed)
	if err != nil || got != child {
		t.Fatalf("Open = %q, %v; want the child", got, err)
	}
	if _, err := Open(NewRefreshToken(), sealed); !errors.Is(err, ErrUnseal) {
		t.Fatalf("Open with another token = %v, want ErrUnseal", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := Open(parent, sealed); !errors.Is(err, ErrUnseal) {
		t.Fatalf("Open of altered data = %v, want ErrUnseal", err)
	}
	if _, err := Open(parent, []byte{1, 2}); !errors.Is(err, ErrUnseal) {
		t.Fatalf("Open of short data = %v, want ErrUnseal", err)
	}
}

func TestRefreshTokenAndHash(t *testing.T) {
	a, b := NewRefreshToken(), NewRefreshToken()
	if a == b || len(a) != 43 {
		t.Fatalf("tokens %q, %q: want two different 43-character (256-bit) tokens", a, b)
	}
	if len(HashToken(a)) != 32 || string(HashToken(a)) == string(HashToken(b)) {
		t.Fatal("HashToken: want distinct 32-byte SHA-256 hashes")
	}
	if string(sealKey(a)) == string(HashToken(a)) {
		t.Fatal("the seal key equals the stored hash")
	}
	id := NewID()
	if len(id) != 36 || id[14] != '4' {
		t.Fatalf("NewID() = %q, want a version-4 UUID", id)
	}
}

// The dummy hash that unknown accounts are checked against is made, not
// computed, so it must still be one that bcrypt (or argon2id) does the whole
// work for: well-formed, with the hasher's cost, and matched by no password.
func TestDummyHashCostsAFullCheck(t *testing.T) {
	for range 20 {
		h, err := NewHasher(5, 1)
		if err != nil {
			t.Fatalf("NewHasher: %v", err)
		}
		if cost, err := bcrypt.Cost([]byte(h.dummy.bcrypt)); err != nil || cost != 5 {
			t.Fatalf("dummy %q: cost %d, %v; want 5", h.dummy.bcrypt, cost, err)
		}
		err = bcrypt.CompareHashAndPassword([]byte(h.dummy.bcrypt), []byte("accountd dummy password"))
		if !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			t.Fatalf("dummy %q: compare = %v, want a mismatch after the whole computation", h.dummy.bcrypt, err)
		}
		if h.NeedsRehash(h.dummy.bcrypt) {
			t.Fatalf("dummy %q does not have the settings of new hashes", h.dummy.bcrypt)
		}
	}
	h := newArgon2Hasher(t, 1, testArgon2)
	if h.dummy.argon2 == nil || h.dummy.argon2.memory != testArgon2.Memory || h.dummy.argon2.time != testArgon2.Time ||
		len(h.dummy.argon2.key) != argon2KeyBytes {
		t.Fatalf("argon2id dummy %+v does not have the hasher's parameters", h.dummy.argon2)
	}
	if err := h.verify(h.dummy, []byte("accountd dummy password")); !errors.Is(err, ErrMismatch) {
		t.Fatalf("argon2id dummy: verify = %v, want ErrMismatch", err)
	}
}
