package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

func TestAccountStore(t *testing.T) {
	_, pool := pgtest.NewDatabase(t)
	store := postgres.NewAccountStore(pool)
	ctx := t.Context()

	created, err := store.Create(ctx, account.NewAccount{AccountID: "John.Doe", PasswordHash: "h1", CreatedAt: t0})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if created.UUID == "" || created.AccountID != "John.Doe" || created.PasswordHash != "h1" || created.Disabled {
		t.Fatalf("Create returned %+v, want a new enabled John.Doe with hash h1", created)
	}
	if !created.CreatedAt.Equal(t0) {
		t.Fatalf("CreatedAt = %v, want %v", created.CreatedAt, t0)
	}

	t.Run("duplicate in another case", func(t *testing.T) {
		_, err := store.Create(ctx, account.NewAccount{AccountID: "john.DOE", PasswordHash: "h2"})
		if !errors.Is(err, account.ErrAccountExists) {
			t.Fatalf("got %v, want %v", err, account.ErrAccountExists)
		}
	})

	t.Run("zero CreatedAt means now", func(t *testing.T) {
		a, err := store.Create(ctx, account.NewAccount{AccountID: "someone", PasswordHash: "h"})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if d := time.Since(a.CreatedAt); d < -time.Minute || d > time.Minute {
			t.Fatalf("CreatedAt = %v, want about now", a.CreatedAt)
		}
	})

	t.Run("lookups", func(t *testing.T) {
		for _, id := range []string{"John.Doe", "john.doe", "JOHN.DOE"} {
			got, err := store.ByAccountID(ctx, id)
			if err != nil {
				t.Fatalf("ByAccountID(%q): %v", id, err)
			}
			if got != created {
				t.Fatalf("ByAccountID(%q) = %+v, want %+v", id, got, created)
			}
		}
		got, err := store.ByUUID(ctx, created.UUID)
		if err != nil || got != created {
			t.Fatalf("ByUUID = %+v, %v, want %+v, nil", got, err, created)
		}
	})

	t.Run("not found", func(t *testing.T) {
		if _, err := store.ByAccountID(ctx, "nobody"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("ByAccountID(nobody): got %v, want %v", err, account.ErrNotFound)
		}
		for _, id := range []string{newID(t), "not-a-uuid", "", "'; DROP TABLE accounts; --"} {
			if _, err := store.ByUUID(ctx, id); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("ByUUID(%q): got %v, want %v", id, err, account.ErrNotFound)
			}
		}
		if err := store.UpdatePasswordHash(ctx, newID(t), "h", "x"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("UpdatePasswordHash(unknown): got %v, want %v", err, account.ErrNotFound)
		}
		if err := store.UpdatePasswordHash(ctx, "bad", "h", "x"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("UpdatePasswordHash(bad): got %v, want %v", err, account.ErrNotFound)
		}
	})

	t.Run("update password hash", func(t *testing.T) {
		if err := store.UpdatePasswordHash(ctx, created.UUID, "not-the-hash", "h3"); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("UpdatePasswordHash(stale old hash): got %v, want %v", err, account.ErrNotFound)
		}
		if err := store.UpdatePasswordHash(ctx, created.UUID, created.PasswordHash, "h3"); err != nil {
			t.Fatalf("UpdatePasswordHash: %v", err)
		}
		got, err := store.ByUUID(ctx, created.UUID)
		if err != nil {
			t.Fatalf("ByUUID: %v", err)
		}
		if got.PasswordHash != "h3" {
			t.Fatalf("PasswordHash = %q, want %q", got.PasswordHash, "h3")
		}
		var updated time.Time
		if err := pool.QueryRow(ctx, "SELECT updated_at FROM accounts WHERE uuid = $1", created.UUID).Scan(&updated); err != nil {
			t.Fatalf("read updated_at: %v", err)
		}
		if d := time.Since(updated); d < -time.Minute || d > time.Minute {
			t.Fatalf("updated_at = %v, want about now", updated)
		}
	})
}
