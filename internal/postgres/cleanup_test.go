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
