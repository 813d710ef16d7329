package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

func TestOpenCreatesMissingDatabase(t *testing.T) {
	for _, scheme := range []string{"postgres://", "postgresql://", "postgresql+asyncpg://"} {
		t.Run(scheme, func(t *testing.T) {
			dbURL := pgtest.UnusedDatabaseURL(t)
			dbURL = scheme + strings.SplitN(dbURL, "://", 2)[1]
			wantName := dbURL[strings.LastIndex(dbURL, "/")+1 : strings.Index(dbURL, "?")]

			pool, err := postgres.Open(t.Context(), dbURL)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer pool.Close()
			var got string
			if err := pool.QueryRow(t.Context(), "SELECT current_database()").Scan(&got); err != nil {
				t.Fatalf("query: %v", err)
			}
			if got != wantName {
				t.Fatalf("current_database() = %q, want %q", got, wantName)
			}

			// A second Open finds the database there and leaves it alone.
			again, err := postgres.Open(t.Context(), dbURL)
			if err != nil {
				t.Fatalf("second Open: %v", err)
			}
			again.Close()
		})
	}
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := postgres.ParseConfig("postgresql+asyncpg://postgres@127.0.0.1:5432/accountd")
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if cfg.MaxConns != 16 {
		t.Fatalf("MaxConns = %d, want 16", cfg.MaxConns)
	}
	if cfg.ConnConfig.Database != "accountd" {
		t.Fatalf("Database = %q, want %q", cfg.ConnConfig.Database, "accountd")
	}
	cfg, err = postgres.ParseConfig("postgres://postgres@127.0.0.1/accountd?pool_max_conns=3")
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if cfg.MaxConns != 3 {
		t.Fatalf("MaxConns = %d, want 3 as the URL says", cfg.MaxConns)
	}
}

func TestParseConfigHidesPassword(t *testing.T) {
	_, err := postgres.ParseConfig("postgres://user:s3cret@127.0.0.1:notaport/db")
	if err == nil {
		t.Fatal("ParseConfig accepted a bad port, want an error")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %q shows the password", err)
	}
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://postgres@127.0.0.1:1/accountd?sslmode=disable&connect_timeout=2")
	if !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("Open on a closed port: got %v, want %v", err, account.ErrUnavailable)
	}
}

func TestClosedPoolIsUnavailable(t *testing.T) {
	dbURL, _ := pgtest.NewDatabase(t)
	pool, err := postgres.Open(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	pool.Close()

	_, err = postgres.NewAccountStore(pool).ByAccountID(t.Context(), "john")
	if !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("ByAccountID on a closed pool: got %v, want %v", err, account.ErrUnavailable)
	}
	_, err = postgres.NewSessionStore(pool).Active(t.Context(), newID(t), t0)
	if !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("Active on a closed pool: got %v, want %v", err, account.ErrUnavailable)
	}
}

func TestUnreachableServerIsUnavailable(t *testing.T) {
	pool, err := pgxpool.New(t.Context(), "postgres://postgres@127.0.0.1:1/accountd?sslmode=disable")
	if err != nil {
		t.Fatalf("pgxpool.New: %v", err)
	}
	defer pool.Close()
	_, err = postgres.NewAccountStore(pool).ByUUID(t.Context(), newID(t))
	if !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("ByUUID with the server down: got %v, want %v", err, account.ErrUnavailable)
	}
}

func TestDeadlineIsUnavailable(t *testing.T) {
	_, pool := pgtest.NewDatabase(t)
	uuid := newAccount(t, pool)
	// Another transaction holds the row, so the update waits past its deadline.
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // only releases the lock
	if _, err := tx.Exec(t.Context(), "SELECT 1 FROM accounts WHERE uuid = $1 FOR UPDATE", uuid); err != nil {
		t.Fatalf("lock account: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err = postgres.NewAccountStore(pool).UpdatePasswordHash(ctx, uuid, "$2a$12$hash", "$2a$12$other")
	if !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("UpdatePasswordHash past its deadline: got %v, want %v", err, account.ErrUnavailable)
	}
}
