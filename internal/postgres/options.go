package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Option adjusts how Open connects.
type Option func(*openOptions)

type openOptions struct {
	queryMode string
	directURL string
}

// WithQueryMode sets pgx's query execution mode by its name: cache_statement
// (pgx's default: named prepared statements, cached per connection),
// cache_describe, describe_exec, exec or simple_protocol. Behind a pooler
// that hands each transaction to any server connection (PgBouncer's
// transaction pooling before 1.21), only the modes that prepare no named
// statement and need one round trip work: exec (recommended),
// simple_protocol and cache_describe. An empty name keeps the URL's
// default_query_exec_mode.
func WithQueryMode(name string) Option {
	return func(o *openOptions) { o.queryMode = name }
}

// WithDirectURL names a connection to the same database that bypasses any
// pooler. When it is set, Open checks and creates the database through it,
// which a pooler cannot do (it has no server connection to a database that
// does not exist yet). An empty URL changes nothing.
func WithDirectURL(url string) Option {
	return func(o *openOptions) { o.directURL = url }
}

// queryModes maps the names of pgx's query execution modes (its
// default_query_exec_mode connection parameter) to the modes.
var queryModes = map[string]pgx.QueryExecMode{
	"cache_statement": pgx.QueryExecModeCacheStatement,
	"cache_describe":  pgx.QueryExecModeCacheDescribe,
	"describe_exec":   pgx.QueryExecModeDescribeExec,
	"exec":            pgx.QueryExecModeExec,
	"simple_protocol": pgx.QueryExecModeSimpleProtocol,
}

// QueryMode returns the pgx query execution mode with that name.
func QueryMode(name string) (pgx.QueryExecMode, error) {
	m, ok := queryModes[name]
	if !ok {
		return 0, fmt.Errorf("unknown query mode %q: want cache_statement, cache_describe, describe_exec, exec or simple_protocol", name)
	}
	return m, nil
}

// ensureDirect connects to the database through directURL and creates it
// on that server when it does not exist.
func ensureDirect(ctx context.Context, directURL string) error {
	cfg, err := ParseConfig(directURL)
	if err != nil {
		return fmt.Errorf("direct url: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if hasCode(err, codeInvalidCatalogName) {
		return EnsureDatabase(ctx, cfg.ConnConfig)
	}
	if err != nil {
		return translate("connect to postgres directly", err)
	}
	return conn.Close(ctx)
}
