package enginetest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/internal/enginetest"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

// TestPgBouncerTransactionMode checks the private PgBouncer pools in
// transaction mode: two client connections that take turns run on one
// server connection, which session pooling never does.
func TestPgBouncerTransactionMode(t *testing.T) {
	b := enginetest.StartPgBouncer(t, pgtest.ServerURL())
	ctx := context.Background()
	connect := func() *pgx.Conn {
		conn, err := pgx.Connect(ctx, b.Via(t, pgtest.ServerURL())+"&default_query_exec_mode=exec")
		if err != nil {
			t.Fatalf("connect through pgbouncer: %v", err)
		}
		t.Cleanup(func() { _ = conn.Close(ctx) })
		return conn
	}
	a, c := connect(), connect()
	pid := func(conn *pgx.Conn) int {
		var p int
		if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&p); err != nil {
			t.Fatalf("SELECT pg_backend_pid() through pgbouncer: %v", err)
		}
		return p
	}
	if pa, pc := pid(a), pid(c); pa != pc {
		t.Fatalf("two clients taking turns ran on server processes %d and %d; want one (transaction pooling)", pa, pc)
	}
}
