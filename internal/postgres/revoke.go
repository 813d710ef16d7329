package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/internal/account"
)

const (
	// Revocations are stamped with the database's clock, which every
	// instance's poll of the durable record reads against: the caller's
	// clock decides only what has expired.
	revokeSessionSQL = `
UPDATE sessions SET revoked_at = now()
WHERE id = $1 AND account_uuid = $2 AND revoked_at IS NULL AND expires_at > $3
RETURNING id::text`

	// revokeSessionsSQL locks the sessions in id order so that two calls for
	// one account cannot deadlock. A NULL $3 excepts no session.
	revokeSessionsSQL = `
UPDATE sessions SET revoked_at = now()
WHERE id IN (
    SELECT id FROM sessions
    WHERE account_uuid = $1 AND revoked_at IS NULL AND expires_at > $2 AND id IS DISTINCT FROM $3
    ORDER BY id
    FOR UPDATE)
RETURNING id::text`

	revokeRefreshTokensSQL = `
UPDATE refresh_tokens SET revoked_at = now()
WHERE session_id = ANY ($1) AND revoked_at IS NULL`
)

// Revoke revokes one live session of the account and all its refresh tokens,
// in one transaction, and returns the session's id in its canonical form. It
// returns account.ErrNotFound when the account has no such live session
// (including when either id is not a UUID).
func (s *SessionStore) Revoke(ctx context.Context, accountUUID, sessionID string, now time.Time) (string, error) {
	if !validUUID(accountUUID) || !validUUID(sessionID) {
		return "", account.ErrNotFound
	}
	var id string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The session row is locked first, in the order Rotate takes its locks.
		if err := tx.QueryRow(ctx, revokeSessionSQL, sessionID, accountUUID, now).Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, revokeRefreshTokensSQL, []string{id})
		return err
	})
	if err != nil {
		return "", translate("revoke session", err)
	}
	return id, nil
}

// RevokeAll revokes every live session of the account but the one named by
// except, which may be empty (or not a UUID) to revoke them all, together
// with their refresh tokens, in one transaction. It returns the ids it
// revoked, sorted.
func (s *SessionStore) RevokeAll(ctx context.Context, accountUUID, except string, now time.Time) ([]string, error) {
	if !validUUID(accountUUID) {
		return []string{}, nil
	}
	var exceptID *string // NULL, never '', which is not a uuid
	if validUUID(except) {
		exceptID = &except
	}
	var revoked []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		revoked, err = revokeAll(ctx, tx, accountUUID, exceptID, now)
		return err
	})
	if err != nil {
		return nil, translate("revoke sessions", err)
	}
	slices.Sort(revoked)
	return revoked, nil
}

// revokeAll revokes, in tx, every live session of the account but except
// (nil for none) with their refresh tokens, and returns their ids.
func revokeAll(ctx context.Context, tx pgx.Tx, accountUUID string, except *string, now time.Time) ([]string, error) {
	rows, _ := tx.Query(ctx, revokeSessionsSQL, accountUUID, now, except)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		return ids, err
	}
	_, err = tx.Exec(ctx, revokeRefreshTokensSQL, ids)
	return ids, err
}

var _ account.RevocationSource = (*SessionStore)(nil)

// revokedSinceSQL uses the partial index on sessions.revoked_at and the
// index on revoked_sessions.revoked_at, which holds the revocations of
// deleted accounts' sessions.
const revokedSinceSQL = `
SELECT id::text AS session_id, revoked_at FROM sessions
WHERE revoked_at IS NOT NULL AND revoked_at >= $1
UNION ALL
SELECT session_id::text, revoked_at FROM revoked_sessions
WHERE revoked_at >= $1`

type revocationRow struct {
	SessionID string    `db:"session_id"`
	RevokedAt time.Time `db:"revoked_at"`
}

// RevokedSince lists the sessions revoked at or after since, those of
// deleted accounts included: the durable record from which the revocation
// view of every instance is rebuilt.
func (s *SessionStore) RevokedSince(ctx context.Context, since time.Time) ([]account.Revocation, error) {
	rows, _ := s.pool.Query(ctx, revokedSinceSQL, since)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[revocationRow])
	if err != nil {
		return nil, translate("list revoked sessions", err)
	}
	out := make([]account.Revocation, len(list))
	for i, r := range list {
		out[i] = account.Revocation{SessionID: r.SessionID, RevokedAt: r.RevokedAt.UTC()}
	}
	return out, nil
}
