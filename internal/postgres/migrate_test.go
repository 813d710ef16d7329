package postgres_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

// openEmpty opens a new database that has no migrations applied.
func openEmpty(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(t.Context(), pgtest.UnusedDatabaseURL(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func status(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var buf bytes.Buffer
	if err := postgres.MigrationStatus(t.Context(), pool, &buf); err != nil {
		t.Fatalf("MigrationStatus: %v", err)
	}
	return buf.String()
}

func tableExists(t *testing.T, pool *pgxpool.Pool, name string) bool {
	t.Helper()
	var exists bool
	if err := pool.QueryRow(t.Context(), "SELECT to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
		t.Fatalf("check table %s: %v", name, err)
	}
	return exists
}

func TestMigrateUpStatusDown(t *testing.T) {
	pool := openEmpty(t)

	if got := status(t, pool); !strings.Contains(got, "00001_initial.sql") || !strings.Contains(got, "pending") {
		t.Fatalf("status before Migrate = %q, want 00001_initial.sql pending", got)
	}

	if err := postgres.Migrate(t.Context(), pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for _, table := range []string{"accounts", "sessions", "refresh_tokens"} {
		if !tableExists(t, pool, table) {
			t.Fatalf("table %s missing after Migrate, want it created", table)
		}
	}
	got := status(t, pool)
	if !strings.Contains(got, "00001_initial.sql") || !strings.Contains(got, "applied 20") {
		t.Fatalf("status after Migrate = %q, want 00001_initial.sql applied with a time", got)
	}
	if err := postgres.Migrate(t.Context(), pool); err != nil {
		t.Fatalf("second Migrate: got %v, want nil (nothing to do)", err)
	}

	// Roll back every migration, newest first.
	for range strings.Count(got, "\n") {
		if err := postgres.MigrateDown(t.Context(), pool); err != nil {
			t.Fatalf("MigrateDown: %v", err)
		}
	}
	if tableExists(t, pool, "accounts") {
		t.Fatal("table accounts exists after MigrateDown, want it dropped")
	}
	if got := status(t, pool); !strings.Contains(got, "pending") {
		t.Fatalf("status after MigrateDown = %q, want pending", got)
	}
	if err := postgres.MigrateDown(t.Context(), pool); err == nil {
		t.Fatal("MigrateDown with nothing applied: got nil, want an error")
	}
}

func TestMigrateConcurrently(t *testing.T) {
	dbURL := pgtest.UnusedDatabaseURL(t)
	const instances = 2
	var wg sync.WaitGroup
	errs := make([]error, instances)
	for i := range instances {
		wg.Go(func() {
			// Each instance has its own pool, as separate processes would.
			pool, err := postgres.Open(t.Context(), dbURL)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			errs[i] = postgres.Migrate(t.Context(), pool)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: Migrate: got %v, want nil", i, err)
		}
	}
}
