package main

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/config"
	"github.com/accountd/accountd/internal/postgres"
)

// withDatabase loads the configuration and runs fn with a pool of the
// configured database, for the one-shot commands.
func withDatabase(ctx context.Context, environ []string, fn func(config.Config, *pgxpool.Pool) error) error {
	cfg, err := config.Load(environ)
	if err != nil {
		return err
	}
	pool, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(cfg, pool)
}

// openDatabase opens DATABASE_URL in DATABASE_QUERY_MODE, checking and
// creating the database through DATABASE_DIRECT_URL when that is set.
func openDatabase(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	return postgres.Open(ctx, string(cfg.DatabaseURL),
		postgres.WithQueryMode(cfg.DatabaseQueryMode), postgres.WithDirectURL(string(cfg.DatabaseDirectURL)))
}

// withMigrationPool runs fn with a pool for migrations: one of
// DATABASE_DIRECT_URL when it is set (schema changes may outlast a pooler's
// timeouts), else pool.
func withMigrationPool(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, fn func(*pgxpool.Pool) error) error {
	if cfg.DatabaseDirectURL == "" {
		return fn(pool)
	}
	direct, err := postgres.Open(ctx, string(cfg.DatabaseDirectURL))
	if err != nil {
		return err
	}
	defer direct.Close()
	return fn(direct)
}

// migrate runs `accountd migrate up|down|status`.
func migrate(ctx context.Context, sub string, environ []string, stdout io.Writer) error {
	return withDatabase(ctx, environ, func(cfg config.Config, pool *pgxpool.Pool) error {
		return withMigrationPool(ctx, cfg, pool, func(p *pgxpool.Pool) error {
			return migrateCommand(ctx, sub, p, stdout)
		})
	})
}

func migrateCommand(ctx context.Context, sub string, pool *pgxpool.Pool, stdout io.Writer) error {
	var err error
	switch sub {
	case "up":
		err = postgres.Migrate(ctx, pool)
	case "down":
		err = postgres.MigrateDown(ctx, pool)
	case "status":
		return postgres.MigrationStatus(ctx, pool, stdout)
	default:
		return fmt.Errorf("unknown migrate command %q; want up, down or status", sub)
	}
	if err != nil {
		return err
	}
	return postgres.MigrationStatus(ctx, pool, stdout)
}
