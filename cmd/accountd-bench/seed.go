package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// scaleSizes are the table sizes of the big-table benchmark. Every session
// has two refresh tokens (its first, rotated once, and the live child).
type scaleSizes struct {
	Accounts int // seeded accounts
	Sessions int // seeded sessions; Expired and Revoked of them are special
	Expired  int // sessions expired a month ago: what cleanup deletes
	Revoked  int // sessions revoked within the last 30 minutes: what the revocation view holds
}

// Tokens is how many refresh-token rows the seeding adds.
func (s scaleSizes) Tokens() int { return 2 * s.Sessions }

// seedSpan is how long seeding one table took.
type seedSpan struct {
	Table string        `json:"table"`
	Rows  int           `json:"rows"`
	Took  time.Duration `json:"took_ns"`
}

// seedBig adds sz's rows to the migrated database at dbURL with COPY, every
// account with passwordHash, and analyzes the tables. Foreign keys are
// consistent by construction, so their per-row checks are skipped
// (session_replication_role=replica, which needs a superuser, as the
// benchmark's local server has).
func seedBig(ctx context.Context, dbURL string, sz scaleSizes, passwordHash string, now time.Time,
	logf func(string, ...any)) ([]seedSpan, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, set := range []string{"SET session_replication_role = replica", "SET maintenance_work_mem = '256MB'",
		"SET synchronous_commit = off"} {
		if _, err := conn.Exec(ctx, set); err != nil {
			return nil, fmt.Errorf("seed: %s: %w", set, err)
		}
	}
	// Seeded token ids follow those already there.
	var idBase int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM refresh_tokens`).Scan(&idBase); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	tables := []struct {
		name string
		cols []string
		rows int
		row  func(i int, vals []any)
	}{
		{"accounts", []string{"uuid", "account_id", "password_hash", "created_at", "updated_at"}, sz.Accounts,
			func(i int, v []any) {
				created := now.Add(-time.Duration(i%(365*24)) * time.Hour)
				v[0], v[1], v[2], v[3], v[4] = seedUUID(1, i), fmt.Sprintf("big-%d", i), passwordHash, created, created
			}},
		{"sessions", []string{"id", "account_uuid", "created_at", "last_used_at", "expires_at", "ip_address", "user_agent", "revoked_at"},
			sz.Sessions, func(j int, v []any) {
				created, expires, revoked := sessionTimes(sz, j, now)
				v[0], v[1], v[2], v[3], v[4] = seedUUID(2, j), seedUUID(1, j%sz.Accounts), created, created, expires
				v[5], v[6], v[7] = "192.0.2.1", "accountd-bench/1", revoked
			}},
		{"refresh_tokens", []string{"id", "session_id", "parent_id", "token_hash", "ip_address", "user_agent",
			"created_at", "expires_at", "used_at", "revoked_at", "child_sealed"},
			sz.Tokens(), func(k int, v []any) {
				j := k / 2
				created, expires, revoked := sessionTimes(sz, j, now)
				v[0], v[1], v[3], v[4], v[5] = idBase+int64(k+1), seedUUID(2, j), seedHash(k), "192.0.2.1", "accountd-bench/1"
				v[6], v[7], v[9] = created, expires, revoked
				if k%2 == 0 { // the first token, rotated once
					v[2], v[8], v[10] = nil, created, sealedChild
				} else {
					v[2], v[8], v[10] = idBase+int64(k), nil, nil
				}
			}},
	}
	var spans []seedSpan
	for _, tb := range tables {
		start := time.Now()
		// Secondary indexes are built once after the COPY rather than
		// row by row: the same indexes, in a fraction of the time.
		indexes, err := dropIndexes(ctx, conn, tb.name)
		if err != nil {
			return spans, err
		}
		vals := make([]any, len(tb.cols))
		i := 0
		n, err := conn.CopyFrom(ctx, pgx.Identifier{tb.name}, tb.cols, pgx.CopyFromFunc(func() ([]any, error) {
			if i == tb.rows {
				return nil, nil
			}
			tb.row(i, vals)
			i++
			return vals, nil
		}))
		if err != nil {
			return spans, fmt.Errorf("seed %s: %w", tb.name, err)
		}
		for _, ddl := range indexes {
			if _, err := conn.Exec(ctx, ddl); err != nil {
				return spans, fmt.Errorf("seed %s: rebuild index: %w", tb.name, err)
			}
		}
		spans = append(spans, seedSpan{Table: tb.name, Rows: int(n), Took: time.Since(start)})
		logf("seeded %d %s in %s", n, tb.name, time.Since(start).Round(time.Second))
	}
	for _, q := range []string{
		`SELECT setval(pg_get_serial_sequence('refresh_tokens', 'id'), (SELECT max(id) FROM refresh_tokens))`,
		// Seeding takes minutes: the revocations move to the last 30
		// minutes as of now, as the benchmark promises.
		`UPDATE sessions SET revoked_at = now() - (random() * interval '29 minutes')
		 WHERE revoked_at IS NOT NULL AND user_agent = 'accountd-bench/1'`,
		`VACUUM (ANALYZE) accounts`, `VACUUM (ANALYZE) sessions`, `VACUUM (ANALYZE) refresh_tokens`,
		// The bulk load's dirty pages are written now, not during the
		// measurements that follow.
		`CHECKPOINT`,
	} {
		start := time.Now()
		if _, err := conn.Exec(ctx, q); err != nil {
			return spans, fmt.Errorf("seed: %s: %w", q, err)
		}
		logf("%s: %s", q, time.Since(start).Round(time.Second))
	}
	return spans, nil
}

// sealedChild stands for the sealed child token that a rotated token keeps.
var sealedChild = make([]byte, 60)

// sessionTimes returns when seeded session j was created, when it expires
// and when it was revoked (nil if it was not).
func sessionTimes(sz scaleSizes, j int, now time.Time) (created, expires time.Time, revoked any) {
	switch {
	case j < sz.Expired: // expired a month ago: cleanup's work
		created = now.Add(-37*24*time.Hour - time.Duration(j%3600)*time.Second)
		return created, created.Add(7 * 24 * time.Hour), nil
	case j < sz.Expired+sz.Revoked: // revoked within the last 30 minutes
		created = now.Add(-24 * time.Hour)
		return created, created.Add(7 * 24 * time.Hour), now.Add(-time.Duration(j%1800) * time.Second)
	default: // live
		created = now.Add(-time.Duration(j%(6*24*3600)) * time.Second)
		return created, created.Add(7 * 24 * time.Hour), nil
	}
}

// seedUUID is a version-4-shaped UUID derived from (kind, i).
func seedUUID(kind byte, i int) pgtype.UUID {
	var b [16]byte
	h := sha256.Sum256(binary.BigEndian.AppendUint32([]byte{'u', kind}, uint32(i))) //nolint:gosec // G115: i < 2^31 seeded rows
	copy(b[:], h[:16])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return pgtype.UUID{Bytes: b, Valid: true}
}

// seedHash is the token hash of seeded refresh token k: no client holds one.
func seedHash(k int) []byte {
	h := sha256.Sum256(binary.BigEndian.AppendUint32([]byte{'t'}, uint32(k))) //nolint:gosec // G115: k < 2^31 seeded rows
	return h[:]
}

// dropIndexes drops the indexes of table that back no constraint and
// returns the statements that create them again.
func dropIndexes(ctx context.Context, conn *pgx.Conn, table string) ([]string, error) {
	rows, _ := conn.Query(ctx, `
SELECT i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = $1
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I', i.indexname)::regclass)`, table)
	type index struct{ Name, Def string }
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var ix index
		return ix, r.Scan(&ix.Name, &ix.Def)
	})
	if err != nil {
		return nil, fmt.Errorf("seed %s: list indexes: %w", table, err)
	}
	defs := make([]string, 0, len(list))
	for _, ix := range list {
		if _, err := conn.Exec(ctx, "DROP INDEX "+pgx.Identifier{ix.Name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("seed %s: drop index %s: %w", table, ix.Name, err)
		}
		defs = append(defs, ix.Def)
	}
	return defs, nil
}
