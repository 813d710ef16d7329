package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/config"
	"github.com/accountd/accountd/internal/postgres"
)

// cleanup runs `accountd cleanup`: one pass, for cron.
func cleanup(ctx context.Context, environ []string, stdout io.Writer) error {
	return withDatabase(ctx, environ, func(cfg config.Config, pool *pgxpool.Pool) error {
		res, err := postgres.Cleanup(ctx, pool, time.Now(), cfg.CleanupRetention, cfg.AuditRetention)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, "cleanup:", res)
		return err
	})
}

// cleanupLoop deletes old sessions, refresh tokens and security events every interval until
// ctx ends. An advisory lock keeps instances from doing it twice.
func cleanupLoop(ctx context.Context, pool *pgxpool.Pool, cfg config.Config, log *slog.Logger) {
	if cfg.CleanupInterval <= 0 {
		return
	}
	t := time.NewTicker(cfg.CleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := postgres.Cleanup(ctx, pool, time.Now(), cfg.CleanupRetention, cfg.AuditRetention)
		if err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "cleanup failed", slog.String("error", err.Error()))
			continue
		}
		log.LogAttrs(ctx, slog.LevelInfo, "cleanup", slog.Bool("ran", res.Ran),
			slog.Int64("sessions_deleted", res.Sessions), slog.Int64("refresh_tokens_deleted", res.RefreshTokens),
			slog.Int64("events_deleted", res.Events), slog.Int("batches", res.Batches))
	}
}

// healthcheckTimeout bounds `accountd healthcheck`.
const healthcheckTimeout = 3 * time.Second

// healthcheck runs `accountd healthcheck`: it asks the local server's
// /health and fails unless it answers 200, for container health checks.
func healthcheck(ctx context.Context, environ []string, stdout io.Writer) error {
	cfg, err := config.Load(environ)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, _ = stdout.Write(body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", resp.Status)
	}
	return nil
}

// errShuttingDown is what /health reports while the server drains.
var errShuttingDown = errors.New("shutting down")

// draining is set when shutdown begins, so that /health turns 503.
type draining struct{ atomic.Bool }

// check is a health check that fails once shutdown has begun.
func (d *draining) check(context.Context) error {
	if d.Load() {
		return errShuttingDown
	}
	return nil
}
