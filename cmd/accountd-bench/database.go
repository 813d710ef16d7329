package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// cleanupTimeout bounds dropping the database and deleting Redis keys, which
// run even after the run's context has ended.
const cleanupTimeout = 30 * time.Second

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// withDatabase returns serverURL with its database replaced by name.
func withDatabase(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", serverURL, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// createDatabase creates an empty database with a random name
// accountd_bench_<hex> on the server and returns its URL and a func that
// drops it (forcing out any connection left).
func createDatabase(ctx context.Context, serverURL string) (name, dbURL string, drop func() error, err error) {
	name = "accountd_bench_" + randomHex(6)
	if dbURL, err = withDatabase(serverURL, name); err != nil {
		return "", "", nil, err
	}
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", "", nil, fmt.Errorf("connect to %s (is PostgreSQL running? try: make services): %w", serverURL, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		if err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	return name, dbURL, drop, nil
}

// pgbenchAccountPrefix names the accounts that the pgbench baseline owns.
const pgbenchAccountPrefix = "pgbench-client-"

// seedPgbench gives each pgbench client c (0..clients-1) an account, a
// session and the first refresh token of its chain, whose hash
// bench/rotation.sql derives from (c, n=0). It first deletes what an earlier
// seeding left (with its sessions and tokens, by cascade).
func seedPgbench(ctx context.Context, dbURL string, clients int) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("seed pgbench clients: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	const seed = `
WITH a AS (
  INSERT INTO accounts (account_id, password_hash)
  SELECT $2 || c, 'not-a-hash' FROM generate_series(0, $1 - 1) c
  RETURNING uuid, account_id
), s AS (
  INSERT INTO sessions (id, account_uuid, created_at, last_used_at, expires_at, ip_address, user_agent)
  SELECT gen_random_uuid(), a.uuid, now(), now(), now() + interval '7 days', '127.0.0.1', 'accountd-bench'
  FROM a
  RETURNING id, account_uuid
)
INSERT INTO refresh_tokens (session_id, token_hash, ip_address, user_agent, created_at, expires_at)
SELECT s.id, sha256(convert_to(substr(a.account_id, length($2) + 1) || ':' || 0, 'UTF8')),
       '127.0.0.1', 'accountd-bench', now(), now() + interval '7 days'
FROM s JOIN a ON a.uuid = s.account_uuid`
	if _, err := conn.Exec(ctx, `DELETE FROM accounts WHERE account_id LIKE $1 || '%'`, pgbenchAccountPrefix); err != nil {
		return fmt.Errorf("seed pgbench clients: %w", err)
	}
	tag, err := conn.Exec(ctx, seed, clients, pgbenchAccountPrefix)
	if err != nil {
		return fmt.Errorf("seed pgbench clients: %w", err)
	}
	if int(tag.RowsAffected()) != clients {
		return fmt.Errorf("seed pgbench clients: %d tokens, want %d", tag.RowsAffected(), clients)
	}
	return nil
}

// pgbenchRotations counts the tokens of the pgbench clients' chains that
// were rotated (marked used), to check that each client walked its chain.
func pgbenchRotations(ctx context.Context, dbURL string) (int64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, fmt.Errorf("count pgbench rotations: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int64
	err = conn.QueryRow(ctx, `
SELECT count(*) FROM refresh_tokens rt
JOIN sessions s ON s.id = rt.session_id JOIN accounts a ON a.uuid = s.account_uuid
WHERE a.account_id LIKE $1 || '%' AND rt.used_at IS NOT NULL`, pgbenchAccountPrefix).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pgbench rotations: %w", err)
	}
	return n, nil
}

// checkRedis pings the Redis server at redisURL.
func checkRedis(ctx context.Context, redisURL string) error {
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("parse redis url: %w", err)
	}
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis at %s (is it running? try: make services): %w", opts.Addr, err)
	}
	return nil
}

// deleteRedisKeys deletes the keys under prefix, the benchmarked service's
// only, and returns how many it deleted.
func deleteRedisKeys(redisURL, prefix string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		return 0, fmt.Errorf("parse redis url: %w", err)
	}
	rdb := goredis.NewClient(opts)
	defer rdb.Close()
	var deleted int64
	var cursor uint64
	for range 100_000 { // SCAN ends when the cursor comes back to 0
		keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return deleted, fmt.Errorf("scan redis keys %s*: %w", prefix, err)
		}
		if len(keys) > 0 {
			n, err := rdb.Unlink(ctx, keys...).Result()
			if err != nil {
				return deleted, fmt.Errorf("delete redis keys %s*: %w", prefix, err)
			}
			deleted += n
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	return deleted, nil
}
