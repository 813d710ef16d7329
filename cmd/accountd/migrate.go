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
	pool, err := postgres.Open(ctx, string(cfg.DatabaseURL))
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(cfg, pool)
}

// migrate runs `accountd migrate up|down|status`.
func migrate(ctx context.Context, sub string, environ []string, stdout io.Writer) error {
	return withDatabase(ctx, environ, func(_ config.Config, pool *pgxpool.Pool) error {
		return migrateCommand(ctx, sub, pool, stdout)
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
