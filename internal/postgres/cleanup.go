package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// cleanupLockKey is the advisory lock that lets one instance at a time run
// the cleanup.
const cleanupLockKey = 0x6163636f756e74 // "account"

// cleanupBatch is how many sessions (or refresh tokens) one cleanup
// statement deletes at most: each batch is a short transaction of its own,
// so that no statement runs long nor holds many row locks, however much
// there is to delete.
const cleanupBatch = 1000

// Batches shrink (down to cleanupMinBatch) while they take longer than
// cleanupSlowBatch, and grow back (up to the maximum) while they take less
// than cleanupFastBatch, so that a slow or busy server gets short
// statements too.
const (
	cleanupMinBatch  = 50
	cleanupSlowBatch = 250 * time.Millisecond
	cleanupFastBatch = 100 * time.Millisecond
)

const (
	// The transaction-scoped lock holds through a transaction pooler,
	// where a session-level one would stay with a server connection.
	cleanupLockSQL = `SELECT pg_try_advisory_xact_lock($1)`

	// Sessions go when revoked, or expired, for longer than the retention,
	// their refresh tokens with them, oldest first through
	// sessions_ended_at_idx. Each batch starts where the last one ended
	// ($3), so that no batch wades through the index entries of the rows
	// the batches before it deleted (dead until vacuumed). Rows that a
	// request has locked are skipped until the next run: cleanup never
	// makes a refresh wait.
	//nolint:gosec // G101: a query that names a token table, not a credential
	cleanupSessionsSQL = `
WITH doomed AS (
    SELECT id, coalesce(revoked_at, expires_at) AS ended FROM sessions
    WHERE coalesce(revoked_at, expires_at) < $1 AND coalesce(revoked_at, expires_at) >= $3
    ORDER BY coalesce(revoked_at, expires_at)
    LIMIT $2
    FOR UPDATE SKIP LOCKED),
tokens AS (
    DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM doomed) RETURNING 1),
gone AS (
    DELETE FROM sessions WHERE id IN (SELECT id FROM doomed) RETURNING 1)
SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM tokens),
       coalesce((SELECT max(ended) FROM doomed), $3)`

	// Tokens of live sessions go once expired for longer than the retention:
	// a replay of one is refused as invalid either way.
	//nolint:gosec // G101: a query that names a token table, not a credential
	cleanupTokensSQL = `
WITH doomed AS (
    SELECT id, expires_at FROM refresh_tokens
    WHERE expires_at < $1 AND expires_at >= $3
    ORDER BY expires_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED),
gone AS (
    DELETE FROM refresh_tokens WHERE id IN (SELECT id FROM doomed) RETURNING 1)
SELECT 0, (SELECT count(*) FROM gone), coalesce((SELECT max(expires_at) FROM doomed), $3)`

	// The revocations of deleted accounts' sessions are kept as long as
	// those of the sessions themselves would have been.
	cleanupTombstonesSQL = `DELETE FROM revoked_sessions WHERE revoked_at < $1`

	// Security events are kept for AUDIT_RETENTION.
	cleanupEventsSQL = `DELETE FROM security_events WHERE created_at < $1`
)

// CleanupResult says what Cleanup removed.
type CleanupResult struct {
	// Ran is false when another instance held the cleanup lock.
	Ran           bool
	Sessions      int64
	RefreshTokens int64
	Events        int64
	// Batches is how many transactions the deletes took.
	Batches int
}

// Cleanup deletes sessions and refresh tokens that have been revoked or
// expired for longer than retention before now, and security events older
// than auditRetention. It works in batches of at most cleanupBatch rows
// (fewer while batches are slow), each a transaction under a
// transaction-scoped advisory lock, so that only one instance cleans up at
// a time, no statement runs long, and requests are never kept waiting.
// Revoked sessions (and the revocations of deleted accounts' sessions) are
// kept for the retention because they are the durable record of
// revocations.
func Cleanup(ctx context.Context, pool *pgxpool.Pool, now time.Time, retention, auditRetention time.Duration) (CleanupResult, error) {
	res, err := cleanup(ctx, pool, now.Add(-retention), cleanupBatch)
	if err != nil || !res.Ran {
		return res, err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, cleanupLockSQL, int64(cleanupLockKey)).Scan(&locked); err != nil || !locked {
			return err
		}
		if _, err := tx.Exec(ctx, cleanupTombstonesSQL, now.Add(-retention)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, cleanupEventsSQL, now.Add(-auditRetention))
		res.Events = tag.RowsAffected()
		return err
	})
	if err != nil {
		return CleanupResult{}, translate("clean up security events", err)
	}
	return res, nil
}

func cleanup(ctx context.Context, pool *pgxpool.Pool, cutoff time.Time, maxBatch int) (CleanupResult, error) {
	var res CleanupResult
	batch := maxBatch
	// Expired tokens go first, the tokens of expired sessions with them:
	// were the sessions first, the token pass would have to step over the
	// index entries of every token their deletion left dead.
	for _, sql := range []string{cleanupTokensSQL, cleanupSessionsSQL} {
		from := time.Time{} // 0001-01-01: before any row
		for {
			start := time.Now()
			b, err := cleanupBatchTx(ctx, pool, sql, cutoff, from, batch)
			if err != nil {
				return CleanupResult{}, translate("clean up refresh tokens", err)
			}
			if !b.locked {
				// Another instance is cleaning up: it carries on.
				return res, nil
			}
			res.Ran = true
			res.Batches++
			res.Sessions += b.sessions
			res.RefreshTokens += b.tokens
			if max(b.sessions, b.tokens) < int64(batch) {
				break
			}
			from = b.next
			switch took := time.Since(start); {
			case took > cleanupSlowBatch:
				batch = max(batch/2, min(cleanupMinBatch, maxBatch))
			case took < cleanupFastBatch:
				batch = min(batch*2, maxBatch)
			}
		}
	}
	return res, nil
}

// cleanupBatchResult is what one batch did.
type cleanupBatchResult struct {
	locked           bool
	sessions, tokens int64
	next             time.Time // where the next batch starts
}

// cleanupBatchTx runs one batch, from where the last one ended, in its own
// transaction under the lock.
func cleanupBatchTx(ctx context.Context, pool *pgxpool.Pool, sql string, cutoff, from time.Time, batch int) (
	cleanupBatchResult, error) {
	var b cleanupBatchResult
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, cleanupLockSQL, int64(cleanupLockKey)).Scan(&b.locked); err != nil || !b.locked {
			return err
		}
		return tx.QueryRow(ctx, sql, cutoff, batch, from).Scan(&b.sessions, &b.tokens, &b.next)
	})
	return b, err
}

// String describes the result for a log line or the cleanup command.
func (r CleanupResult) String() string {
	if !r.Ran {
		return "skipped: another instance is cleaning up"
	}
	return fmt.Sprintf("deleted %d sessions, %d refresh tokens and %d security events",
		r.Sessions, r.RefreshTokens, r.Events)
}
