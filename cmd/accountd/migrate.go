package main

import (
	"context"
	"fmt"
	"io"

	"github.com/accountd/accountd/internal/config"
	"github.com/accountd/accountd/internal/postgres"
)

// migrate runs `accountd migrate up|down|status`.
func migrate(ctx context.Context, sub string, environ []string, stdout io.Writer) error {
	cfg, err := config.Load(environ)
	if err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, string(cfg.DatabaseURL))
	if err != nil {
		return err
	}
	defer pool.Close()
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
