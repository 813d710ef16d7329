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

const (
	cleanupLockSQL = `SELECT pg_try_advisory_xact_lock($1)`

	// Sessions go when revoked, or expired, for longer than the retention;
	// their refresh tokens go with them (ON DELETE CASCADE), counted first.
	//nolint:gosec // G101: a query that names a token table, not a credential
	cleanupSessionTokensSQL = `
DELETE FROM refresh_tokens WHERE session_id IN (
    SELECT id FROM sessions
    WHERE coalesce(revoked_at, expires_at) < $1)`
	cleanupSessionsSQL = `DELETE FROM sessions WHERE coalesce(revoked_at, expires_at) < $1`

	// Tokens of live sessions go once expired for longer than the retention:
	// a replay of one is refused as invalid either way.
	//nolint:gosec // G101: a query that names a token table, not a credential
	cleanupTokensSQL = `DELETE FROM refresh_tokens WHERE expires_at < $1`

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
}

// Cleanup deletes sessions and refresh tokens that have been revoked or
// expired for longer than retention before now, and security events older
// than auditRetention, in one transaction under an advisory lock, so that
// only one instance runs it at a time. Revoked sessions (and the
// revocations of deleted accounts' sessions) are kept for the retention
// because they are the durable record of revocations.
func Cleanup(ctx context.Context, pool *pgxpool.Pool, now time.Time, retention, auditRetention time.Duration) (CleanupResult, error) {
	var res CleanupResult
	cutoff := now.Add(-retention)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, cleanupLockSQL, int64(cleanupLockKey)).Scan(&res.Ran); err != nil || !res.Ran {
			return err
		}
		tag, err := tx.Exec(ctx, cleanupSessionTokensSQL, cutoff)
		if err != nil {
			return err
		}
		res.RefreshTokens = tag.RowsAffected()
		if tag, err = tx.Exec(ctx, cleanupSessionsSQL, cutoff); err != nil {
			return err
		}
		res.Sessions = tag.RowsAffected()
		if tag, err = tx.Exec(ctx, cleanupTokensSQL, cutoff); err != nil {
			return err
		}
		res.RefreshTokens += tag.RowsAffected()
		if _, err = tx.Exec(ctx, cleanupTombstonesSQL, cutoff); err != nil {
			return err
		}
		if tag, err = tx.Exec(ctx, cleanupEventsSQL, now.Add(-auditRetention)); err != nil {
			return err
		}
		res.Events = tag.RowsAffected()
		return nil
	})
	if err != nil {
		return CleanupResult{}, translate("clean up refresh tokens", err)
	}
	return res, nil
}

// String describes the result for a log line or the cleanup command.
func (r CleanupResult) String() string {
	if !r.Ran {
		return "skipped: another instance is cleaning up"
	}
	return fmt.Sprintf("deleted %d sessions, %d refresh tokens and %d security events",
		r.Sessions, r.RefreshTokens, r.Events)
}
