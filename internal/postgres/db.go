// Package postgres stores accountd's accounts, sessions and refresh tokens in
// PostgreSQL through pgx. It opens the connection pool (creating the database
// when it is missing), runs the embedded migrations with goose, and
// implements account.AccountStore and account.SessionStore, translating
// driver errors into the domain's errors at the boundary.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Pool defaults, used unless the database URL sets them.
const (
	defaultMaxConns          = 16
	defaultHealthCheckPeriod = 30 * time.Second
	defaultConnectTimeout    = 5 * time.Second
	maintenanceDatabase      = "postgres"
)

// asyncpgScheme is the SQLAlchemy-style scheme of the FastAPI original's
// DATABASE_URL; it names the Python driver, which means nothing to pgx.
const asyncpgScheme = "postgresql+asyncpg://"

// Open connects to the database that databaseURL names and returns a pool
// whose first connection was checked with a ping. It accepts postgres://,
// postgresql:// and postgresql+asyncpg:// URLs as well as key=value
// connection strings. When the database does not exist, Open creates it on
// the same server first. Failing to reach the server gives an error that
// matches account.ErrUnavailable. Options set the query mode and a direct
// URL for a database reached through a pooler.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*pgxpool.Pool, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := ParseConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	if o.queryMode != "" {
		if cfg.ConnConfig.DefaultQueryExecMode, err = QueryMode(o.queryMode); err != nil {
			return nil, err
		}
	}
	if o.directURL != "" {
		if err := ensureDirect(ctx, o.directURL); err != nil {
			return nil, err
		}
	}
	pool, err := connect(ctx, cfg)
	if hasCode(err, codeInvalidCatalogName) {
		if err := EnsureDatabase(ctx, cfg.ConnConfig); err != nil {
			return nil, err
		}
		pool, err = connect(ctx, cfg)
	}
	if err != nil {
		return nil, translate("connect to postgres", err)
	}
	return pool, nil
}

// ParseConfig parses databaseURL like Open does and returns the pool
// configuration with accountd's defaults for what the URL leaves unset: at
// most 16 connections, a health check every 30 seconds, and 5 seconds to
// connect. The URL's pool_max_conns, pool_health_check_period and
// connect_timeout win over them.
func ParseConfig(databaseURL string) (*pgxpool.Config, error) {
	if rest, ok := strings.CutPrefix(databaseURL, asyncpgScheme); ok {
		databaseURL = "postgresql://" + rest
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx masks the password in the text of this error.
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if !strings.Contains(databaseURL, "pool_health_check_period") {
		cfg.HealthCheckPeriod = defaultHealthCheckPeriod
	}
	if !strings.Contains(databaseURL, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	return cfg, nil
}

// EnsureDatabase creates the database that cfg names, connecting to the
// server's maintenance database "postgres" to do it. A database that already
// exists, or that another process creates at the same time, is not an error.
func EnsureDatabase(ctx context.Context, cfg *pgx.ConnConfig) error {
	if cfg.Database == "" {
		return errors.New("create database: the url names no database")
	}
	maintenance := cfg.Copy()
	maintenance.Database = maintenanceDatabase
	conn, err := pgx.ConnectConfig(ctx, maintenance)
	if err != nil {
		return translate("create database", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	// CREATE DATABASE takes no parameters: the name is quoted instead.
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize())
	// A racing CREATE DATABASE that commits first makes this one fail on
	// pg_database's unique index (23505) rather than with 42P04.
	if err != nil && !hasCode(err, codeDuplicateDatabase) && !hasCode(err, codeUniqueViolation) {
		return translate("create database", err)
	}
	return nil
}

// connect builds a pool from a copy of cfg and pings it, closing the pool
// again when the ping fails.
func connect(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg.Copy())
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}
