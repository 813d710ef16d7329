package postgres_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

func newPasskey(accountUUID string, count uint32) account.Passkey {
	return account.Passkey{
		ID: []byte(rand.Text()), AccountUUID: accountUUID, Name: "Laptop", PublicKey: []byte("cose key"),
		SignCount: count, AAGUID: make([]byte, 16), Transports: []string{"internal", "hybrid"},
		AttestationFormat: "none", BackupEligible: true, CreatedAt: t0,
	}
}

func TestPasskeyStore(t *testing.T) {
	_, pool := pgtest.NewDatabase(t)
	store := postgres.NewPasskeyStore(pool)
	ctx := t.Context()
	alice, bob := newAccount(t, pool), newAccount(t, pool)

	t.Run("user handles", func(t *testing.T) {
		h, err := store.UserHandle(ctx, alice, []byte("first"))
		if err != nil || string(h) != "first" {
			t.Fatalf("UserHandle = %q, %v; want the new handle", h, err)
		}
		if h, err := store.UserHandle(ctx, alice, []byte("second")); err != nil || string(h) != "first" {
			t.Fatalf("UserHandle again = %q, %v; want the stored handle", h, err)
		}
		for _, id := range []string{newID(t), "not-a-uuid"} {
			if _, err := store.UserHandle(ctx, id, []byte("x")); !errors.Is(err, account.ErrNotFound) {
				t.Fatalf("UserHandle(%q) = %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("racing first handles agree", func(t *testing.T) {
		carol := newAccount(t, pool)
		handles := make([][]byte, 8)
		var wg sync.WaitGroup
		for i := range handles {
			wg.Go(func() {
				h, err := store.UserHandle(ctx, carol, []byte(rand.Text()))
				if err != nil {
					t.Errorf("UserHandle: %v", err)
				}
				handles[i] = h
			})
		}
		wg.Wait()
		for _, h := range handles {
			if !bytes.Equal(h, handles[0]) {
				t.Fatalf("racing UserHandle calls returned %q, want one handle", handles)
			}
		}
	})

	p := newPasskey(alice, 0)
	t.Run("add, list, find", func(t *testing.T) {
		if err := store.Add(ctx, p); err != nil {
			t.Fatalf("Add: %v", err)
		}
		if err := store.Add(ctx, p); !errors.Is(err, account.ErrPasskeyExists) {
			t.Fatalf("Add twice: %v, want ErrPasskeyExists", err)
		}
		theirs := p
		theirs.AccountUUID = bob
		if err := store.Add(ctx, theirs); !errors.Is(err, account.ErrPasskeyExists) {
			t.Fatalf("Add the id to another account: %v, want ErrPasskeyExists", err)
		}
		if err := store.Add(ctx, newPasskey(newID(t), 0)); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("Add to an unknown account: %v, want ErrNotFound", err)
		}
		later := newPasskey(alice, 7)
		later.CreatedAt, later.Transports = t0.Add(time.Minute), nil
		if err := store.Add(ctx, later); err != nil {
			t.Fatalf("Add: %v", err)
		}
		list, err := store.ByAccount(ctx, alice)
		if err != nil || len(list) != 2 {
			t.Fatalf("ByAccount = %+v, %v; want 2 passkeys", list, err)
		}
		later.Transports = []string{}
		if !reflect.DeepEqual(list, []account.Passkey{p, later}) {
			t.Fatalf("ByAccount = %+v\nwant %+v", list, []account.Passkey{p, later})
		}
		if list, err := store.ByAccount(ctx, bob); err != nil || len(list) != 0 {
			t.Fatalf("ByAccount(bob) = %+v, %v; want none", list, err)
		}
		o, err := store.ByID(ctx, p.ID)
		if err != nil || !reflect.DeepEqual(o.Passkey, p) || string(o.UserHandle) != "first" {
			t.Fatalf("ByID = %+v, %v; want the passkey with alice's handle", o, err)
		}
		if _, err := store.ByID(ctx, []byte("unknown")); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("ByID(unknown) = %v, want ErrNotFound", err)
		}
	})

	t.Run("use moves the counter forward only", func(t *testing.T) {
		use := func(count uint32) error {
			return store.Use(ctx, account.PasskeyUse{ID: p.ID, SignCount: count, BackupState: true, Now: t0.Add(time.Hour)})
		}
		for _, step := range []struct {
			count uint32
			ok    bool
		}{{0, true}, {0, true}, {3, true}, {3, false}, {2, false}, {0, false}, {4294967295, true}} {
			if err := use(step.count); (err == nil) != step.ok || (err != nil && !errors.Is(err, account.ErrNotFound)) {
				t.Fatalf("Use(%d) = %v, want ok = %v", step.count, err, step.ok)
			}
		}
		o, _ := store.ByID(ctx, p.ID)
		if o.Passkey.SignCount != 4294967295 || !o.Passkey.BackupState || !o.Passkey.LastUsedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("after use: %+v", o.Passkey)
		}
	})

	t.Run("racing uses with one counter: one wins", func(t *testing.T) {
		q := newPasskey(alice, 10)
		if err := store.Add(ctx, q); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 8 {
			wg.Go(func() {
				err := store.Use(ctx, account.PasskeyUse{ID: q.ID, SignCount: 11, Now: t0})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, account.ErrNotFound):
					t.Errorf("Use: %v", err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d racing uses with counter 11 succeeded, want 1", wins)
		}
	})

	t.Run("delete only one's own", func(t *testing.T) {
		if err := store.Delete(ctx, bob, p.ID); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("Delete by another account: %v, want ErrNotFound", err)
		}
		if err := store.Delete(ctx, alice, p.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := store.Delete(ctx, alice, p.ID); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("Delete again: %v, want ErrNotFound", err)
		}
		if err := store.Delete(ctx, "bad", p.ID); !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("Delete with a bad uuid: %v, want ErrNotFound", err)
		}
	})

	t.Run("deleting the account deletes its passkeys and handle", func(t *testing.T) {
		if _, err := pool.Exec(ctx, "DELETE FROM accounts WHERE uuid = $1", alice); err != nil {
			t.Fatal(err)
		}
		var n int
		err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM passkeys WHERE account_uuid = $1)
			+ (SELECT count(*) FROM webauthn_users WHERE account_uuid = $1)`, alice).Scan(&n)
		if err != nil || n != 0 {
			t.Fatalf("rows left of a deleted account = %d, %v; want 0", n, err)
		}
	})
}
