package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/enginetest"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

// TestQueryModesThroughPgBouncer shows which pgx query modes survive
// PgBouncer's transaction pooling, where consecutive transactions of one
// client run on any server connection and those of different clients on the
// same one. Two pools take turns running the same query: pgx's default,
// cache_statement, prepares a named statement on the server connection, so
// the second pool's prepare collides with the first's; exec,
// simple_protocol and cache_describe prepare no named statement.
func TestQueryModesThroughPgBouncer(t *testing.T) {
	t.Parallel()
	b := enginetest.StartPgBouncer(t, pgtest.ServerURL())
	direct := pgtest.UnusedServerDatabaseURL(t)
	ctx := context.Background()
	created, err := postgres.Open(ctx, b.Via(t, direct), postgres.WithDirectURL(direct),
		postgres.WithQueryMode("exec"))
	if err != nil {
		t.Fatalf("Open through PgBouncer with a direct URL for the missing database: %v", err)
	}
	created.Close()

	for mode, wantOK := range map[string]bool{
		"cache_statement": false,
		"exec":            true,
		"simple_protocol": true,
		"cache_describe":  true,
	} {
		open := func() *pgxpool.Pool {
			p, err := postgres.Open(ctx, b.Via(t, direct)+"&pool_max_conns=1", postgres.WithQueryMode(mode))
			if err != nil {
				t.Fatalf("%s: Open: %v", mode, err)
			}
			t.Cleanup(p.Close)
			return p
		}
		first, second := open(), open()
		var errs []error
		for range 3 {
			for _, p := range []*pgxpool.Pool{first, second} {
				var n int
				if err := p.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relpages >= $1", 0).Scan(&n); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if wantOK && len(errs) > 0 {
			t.Errorf("%s through PgBouncer: %v; want no error", mode, errs[0])
		}
		if !wantOK && len(errs) == 0 {
			t.Errorf("%s through PgBouncer: no error; want a prepared-statement collision "+
				"(if PgBouncer now tracks prepared statements, this mode works too)", mode)
		}
	}
}
