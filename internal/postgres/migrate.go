package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/accountd/accountd/migrations"
)

// Migrate applies every pending migration. Instances that start together
// take turns through a lock row (goose's table lock), so each migration runs
// once. The lock holds through a transaction pooler such as PgBouncer,
// which a session-level advisory lock does not: it would stay with whichever
// server connection took it.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return withProvider(ctx, pool, "migrate up", func(p *goose.Provider) error {
		_, err := p.Up(ctx)
		return err
	})
}

// MigrateDown rolls back the most recently applied migration. It returns an
// error matching goose.ErrNoNextVersion when none is applied.
func MigrateDown(ctx context.Context, pool *pgxpool.Pool) error {
	return withProvider(ctx, pool, "migrate down", func(p *goose.Provider) error {
		_, err := p.Down(ctx)
		return err
	})
}

// MigrationStatus writes one line per known migration to w: its version, its
// file name, and whether it is applied (with when) or pending.
func MigrationStatus(ctx context.Context, pool *pgxpool.Pool, w io.Writer) error {
	return withProvider(ctx, pool, "migration status", func(p *goose.Provider) error {
		statuses, err := p.Status(ctx)
		if err != nil {
			return err
		}
		for _, s := range statuses {
			state := string(s.State)
			if s.State == goose.StateApplied {
				state += " " + s.AppliedAt.UTC().Format(time.RFC3339)
			}
			if _, err := fmt.Fprintf(w, "%05d  %-32s  %s\n", s.Source.Version, path.Base(s.Source.Path), state); err != nil {
				return err
			}
		}
		return nil
	})
}

// migrationLease is how long the migration lock outlives an instance that
// died holding it.
const migrationLease = 15 * time.Second

// withProvider runs fn with a goose provider over pool and closes the
// provider afterwards (which leaves pool open).
func withProvider(ctx context.Context, pool *pgxpool.Pool, op string, fn func(*goose.Provider) error) (err error) {
	// Poll for the lock every second, for up to five minutes, so that a
	// second instance waits for the first one's migrations instead of
	// failing. The holder renews its lease every few seconds; the lease of
	// one that died runs out after migrationLease.
	locker, err := lock.NewPostgresTableLocker(
		lock.WithTableLockTimeout(time.Second, 300),
		lock.WithTableLeaseDuration(migrationLease),
		lock.WithTableHeartbeatInterval(migrationLease/5))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithLocker(locker))
	if err != nil {
		return errors.Join(fmt.Errorf("%s: %w", op, err), db.Close())
	}
	defer func() {
		if cerr := p.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("%s: %w", op, cerr)
		}
	}()
	return translate(op, fn(p))
}
