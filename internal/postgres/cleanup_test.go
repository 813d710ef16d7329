package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/internal/postgres"
)

func TestCleanup(t *testing.T) {
	f := newSessionFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	retention := 24 * time.Hour

	// A session that expired long ago, one revoked long ago, one revoked a
	// moment ago (kept: it is the record of a fresh revocation), and a live one.
	expired, _ := f.newSession(t, now.Add(-30*24*time.Hour))
	revokedOld, _ := f.newSession(t, now.Add(-3*time.Hour))
	revokedNew, _ := f.newSession(t, now.Add(-2*time.Hour))
	live, _ := f.newSession(t, now.Add(-time.Hour))
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := f.pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`UPDATE sessions SET revoked_at = $2 WHERE id = $1`, revokedOld, now.Add(-48*time.Hour))
	exec(`UPDATE sessions SET revoked_at = $2 WHERE id = $1`, revokedNew, now.Add(-time.Minute))

	res, err := postgres.Cleanup(ctx, f.pool, now, retention, retention)
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if !res.Ran || res.Sessions != 2 || res.RefreshTokens != 2 {
		t.Fatalf("Cleanup = %+v, want it to run and delete 2 sessions and 2 refresh tokens", res)
	}
	for id, want := range map[string]bool{expired: false, revokedOld: false, revokedNew: true, live: true} {
		var n int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n == 1) != want {
			t.Errorf("session %s present = %v, want %v", id, n == 1, want)
		}
	}
	if got := f.countTokens(t, live); got != 1 {
		t.Errorf("live session has %d refresh tokens, want 1", got)
	}

	// While another instance holds the lock, Cleanup skips.
	err = pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(0x6163636f756e74)); err != nil {
			return err
		}
		res, err := postgres.Cleanup(ctx, f.pool, now, retention, retention)
		if err != nil {
			return err
		}
		if res.Ran {
			t.Errorf("Cleanup ran while another transaction held the lock")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCleanupInBatches deletes more sessions than one batch holds, in
// batches, and skips a session whose row a request holds locked instead of
// waiting for it: cleanup never stalls a refresh.
func TestCleanupInBatches(t *testing.T) {
	f := newSessionFixture(t)
	ctx := context.Background()
	now := time.Now().UTC()
	const expired = 23
	for range expired {
		id, hash := f.newSession(t, now.Add(-30*24*time.Hour))
		// A rotated chain: the child's parent_id must be cleared or deleted.
		if _, err := f.pool.Exec(ctx, `
INSERT INTO refresh_tokens (session_id, parent_id, token_hash, created_at, expires_at)
SELECT session_id, id, $2, created_at, expires_at FROM refresh_tokens WHERE token_hash = $1`, hash, newHash(t)); err != nil {
			t.Fatalf("add a child token to %s: %v", id, err)
		}
	}
	live, _ := f.newSession(t, now.Add(-time.Hour))

	// A request holds one expired session's row locked while cleanup runs.
	held, _ := f.newSession(t, now.Add(-30*24*time.Hour))
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE`, held); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := postgres.CleanupInBatches(cctx, f.pool, now.Add(-24*time.Hour), 5)
	if err != nil {
		t.Fatalf("Cleanup with a row held by a request: %v (it must skip the row, not wait)", err)
	}
	// The held session's own token is not locked: it goes with the
	// expired tokens.
	if !res.Ran || res.Sessions != expired || res.RefreshTokens != 2*expired+1 || res.Batches < expired/5 {
		t.Fatalf("Cleanup = %+v, want %d sessions and %d tokens deleted in at least %d batches",
			res, expired, 2*expired+1, expired/5)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = postgres.CleanupInBatches(ctx, f.pool, now.Add(-24*time.Hour), 5)
	if err != nil || res.Sessions != 1 {
		t.Fatalf("second Cleanup = %+v, %v; want the session that was held deleted", res, err)
	}
	var left int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM sessions`).Scan(&left); err != nil || left != 1 {
		t.Fatalf("%d sessions left (%v), want only the live one", left, err)
	}
	if got := f.countTokens(t, live); got != 1 {
		t.Errorf("live session has %d refresh tokens, want 1", got)
	}
}
