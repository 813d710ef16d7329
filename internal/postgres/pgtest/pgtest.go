// Package pgtest gives tests a PostgreSQL database of their own: created with
// a random name on the local server, migrated, and dropped when the test ends.
// Tests fail, never skip, when the server cannot be reached.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/postgres"
)

// EnvServerURL names the environment variable that points the tests at a
// PostgreSQL server; the database in its URL is only used to create and drop
// the test databases.
const EnvServerURL = "ACCOUNTD_TEST_DATABASE_URL"

// EnvPoolerURL names the environment variable that sends the tests'
// database connections through a pooler (PgBouncer in transaction mode) in
// front of the test server. Test databases are still created and dropped
// directly on the server; the URLs handed to the tests name the pooler's
// host and port and carry its URL's options (such as
// default_query_exec_mode=exec, which transaction pooling needs).
const EnvPoolerURL = "ACCOUNTD_TEST_POOLER_URL"

// DefaultServerURL is the server the tests use when EnvServerURL is unset.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const startHint = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start" +
	" (or point " + EnvServerURL + " at a running server)"

// setupTimeout bounds creating, migrating and dropping a test database.
const setupTimeout = 30 * time.Second

// ServerURL returns the URL of the PostgreSQL server the tests use.
func ServerURL() string {
	if u := os.Getenv(EnvServerURL); u != "" {
		return u
	}
	return DefaultServerURL
}

// NewDatabase creates a migrated database with a random name and returns its
// URL and a pool connected to it. When the test ends, the pool is closed and
// the database dropped.
func NewDatabase(t testing.TB) (string, *pgxpool.Pool) {
	t.Helper()
	dbURL := UnusedDatabaseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	pool, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: open test database: %v", err)
	}
	t.Cleanup(pool.Close) // runs before the drop registered by UnusedDatabaseURL
	if err := postgres.Migrate(ctx, pool); err != nil {
		t.Fatalf("pgtest: migrate test database: %v", err)
	}
	return dbURL, pool
}

// UnusedDatabaseURL returns the URL of a database with a random name that does
// not exist yet on the test server, for tests of code that creates and
// migrates its own database. When the test ends, the database is dropped if
// it was created, even if connections to it are still open. With
// EnvPoolerURL set, the database is created (empty) and the URL names the
// pooler.
func UnusedDatabaseURL(t testing.TB) string {
	t.Helper()
	direct := UnusedServerDatabaseURL(t)
	if pooler := os.Getenv(EnvPoolerURL); pooler != "" {
		return throughPooler(t, pooler, direct)
	}
	return direct
}

// UnusedServerDatabaseURL is UnusedDatabaseURL on the server itself, never
// through a pooler, and the database is never created.
func UnusedServerDatabaseURL(t testing.TB) string {
	t.Helper()
	server := ServerURL()
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s must be a postgres:// URL", EnvServerURL)
	}
	name := randomName(t)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn := connect(ctx, t, server)
	if err := conn.Close(ctx); err != nil {
		t.Fatalf("pgtest: close connection: %v", err)
	}
	t.Cleanup(func() { dropDatabase(t, server, name) })

	u.Path = "/" + name
	return u.String()
}

// throughPooler creates the database directly on the server (a pooler
// cannot create one) and returns its URL through the pooler.
func throughPooler(t testing.TB, pooler, direct string) string {
	t.Helper()
	p, err := url.Parse(pooler)
	if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s must be a postgres:// URL", EnvPoolerURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	cfg, err := postgres.ParseConfig(direct)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := postgres.EnsureDatabase(ctx, cfg.ConnConfig); err != nil {
		t.Fatalf("pgtest: create test database: %v", err)
	}
	p.Path = "/" + cfg.ConnConfig.Database
	return p.String()
}

func randomName(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("pgtest: random database name: %v", err)
	}
	return "accountd_test_" + hex.EncodeToString(b)
}

// connect connects to the server's maintenance database, failing the test
// with a hint on how to start the server when it cannot.
func connect(ctx context.Context, t testing.TB, server string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: cannot reach PostgreSQL at %s: %v\n%s", redact(server), err, startHint)
	}
	return conn
}

func dropDatabase(t testing.TB, server, name string) {
	t.Helper()
	// The test's own context is already canceled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn := connect(ctx, t, server)
	defer conn.Close(ctx)
	sql := "DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Errorf("pgtest: drop test database %s: %v", name, err)
	}
}

// redact hides the password of a URL that is about to be printed.
func redact(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return "(unparsable " + EnvServerURL + ")"
	}
	return u.Redacted()
}
