package enginetest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PgBouncer is a private PgBouncer in transaction pooling mode in front of a
// PostgreSQL server: every database of the server is reachable through it
// under its own name, as the user of the server URL, with trust
// authentication.
type PgBouncer struct {
	Proc *Proc
	port int
}

// PgBouncer settings for tests: small pools, so that many test databases
// share few server connections, and quick retries of failed server logins
// (a database that did not exist yet), which PgBouncer otherwise holds
// against the database for 15 s.
const (
	pgbouncerPoolSize       = 8
	pgbouncerMaxServerConns = 40
)

// StartPgBouncer starts PgBouncer 1.18 or later in transaction mode in front
// of the PostgreSQL server that serverURL (postgres://user@host:port/...)
// names, on a free port, and waits until it answers.
func StartPgBouncer(t testing.TB, serverURL string) *PgBouncer {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil || u.Hostname() == "" {
		t.Fatalf("enginetest: PgBouncer upstream %q is not a postgres:// URL", u.Redacted())
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	user := u.User.Username()
	if user == "" {
		user = "postgres"
	}
	dir := workDir(t, "pgbouncer")
	b := &PgBouncer{port: FreePort(t)}
	writeFile(t, path(dir, "users.txt"), strconv.Quote(user)+` ""`+"\n")
	writeFile(t, path(dir, "pgbouncer.ini"), lines(
		"[databases]",
		fmt.Sprintf("* = host=%s port=%s", host, port),
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		"listen_port = "+strconv.Itoa(b.port),
		"unix_socket_dir =",
		"pidfile =",
		"auth_type = trust",
		"auth_file = "+path(dir, "users.txt"),
		"pool_mode = transaction",
		"max_client_conn = 2000",
		"default_pool_size = "+strconv.Itoa(pgbouncerPoolSize),
		"max_user_connections = "+strconv.Itoa(pgbouncerMaxServerConns),
		"server_login_retry = 1",
		"server_idle_timeout = 5",
		"query_wait_timeout = 60",
		"ignore_startup_parameters = extra_float_digits",
		"log_connections = 0",
		"log_disconnections = 0",
	))
	args := []string{path(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root.
		args = append([]string{"-u", "nobody"}, args...)
	}
	b.Proc = start(t, "pgbouncer", dir, "pgbouncer", args...)
	maintenance := *u
	maintenance.Host = b.Addr()
	maintenance.Path = "/postgres"
	waitUntil(t, b.Proc, "pgbouncer on "+b.Addr(), 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, maintenance.String())
		if err != nil {
			return err
		}
		return conn.Close(ctx)
	})
	return b
}

// Addr returns PgBouncer's host:port.
func (b *PgBouncer) Addr() string { return addr(b.port) }

// Via returns databaseURL with its host and port replaced by PgBouncer's,
// so that it reaches the same database through the pooler.
func (b *PgBouncer) Via(t testing.TB, databaseURL string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatalf("enginetest: %v", err)
	}
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port))
	return u.String()
}
