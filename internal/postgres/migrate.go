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

// Migrate applies every pending migration. Instances that start together take
// turns through a PostgreSQL advisory lock, so each migration runs once.
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

// withProvider runs fn with a goose provider over pool and closes the
// provider afterwards (which leaves pool open).
func withProvider(ctx context.Context, pool *pgxpool.Pool, op string, fn func(*goose.Provider) error) (err error) {
	// Poll for the lock every second, for up to five minutes, so that a
	// second instance waits for the first one's migrations instead of failing.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
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
