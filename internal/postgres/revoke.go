package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/internal/account"
)

const (
	activeSessionsSQL = `
SELECT ` + sessionColumns + ` FROM sessions s
WHERE s.account_uuid = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
ORDER BY s.created_at DESC, s.id`

	revokeSessionSQL = `
UPDATE sessions SET revoked_at = $3
WHERE id = $1 AND account_uuid = $2 AND revoked_at IS NULL AND expires_at > $3`

	// revokeSessionsSQL locks the sessions in id order so that two calls for
	// one account cannot deadlock. A NULL $3 excepts no session.
	revokeSessionsSQL = `
UPDATE sessions SET revoked_at = $2
WHERE id IN (
    SELECT id FROM sessions
    WHERE account_uuid = $1 AND revoked_at IS NULL AND expires_at > $2 AND id IS DISTINCT FROM $3
    ORDER BY id
    FOR UPDATE)
RETURNING id`

	revokeRefreshTokensSQL = `
UPDATE refresh_tokens SET revoked_at = $2
WHERE session_id = ANY ($1) AND revoked_at IS NULL`
)

// Active lists the account's sessions that are neither revoked nor expired
// at now, newest first. An accountUUID that is not a UUID has none.
func (s *SessionStore) Active(ctx context.Context, accountUUID string, now time.Time) ([]account.Session, error) {
	if !validUUID(accountUUID) {
		return []account.Session{}, nil
	}
	rows, _ := s.pool.Query(ctx, activeSessionsSQL, accountUUID, now)
	found, err := pgx.CollectRows(rows, pgx.RowToStructByName[sessionRow])
	if err != nil {
		return nil, translate("list active sessions", err)
	}
	sessions := make([]account.Session, len(found))
	for i, row := range found {
		sessions[i] = row.toSession()
	}
	return sessions, nil
}

// Revoke revokes one live session of the account and all its refresh tokens,
// in one transaction. It returns account.ErrNotFound when the account has no
// such live session (including when either id is not a UUID).
func (s *SessionStore) Revoke(ctx context.Context, accountUUID, sessionID string, now time.Time) error {
	if !validUUID(accountUUID) || !validUUID(sessionID) {
		return account.ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The session row is locked first, in the order Rotate takes its locks.
		tag, err := tx.Exec(ctx, revokeSessionSQL, sessionID, accountUUID, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		_, err = tx.Exec(ctx, revokeRefreshTokensSQL, []string{sessionID}, now)
		return err
	})
	return translate("revoke session", err)
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
		rows, _ := tx.Query(ctx, revokeSessionsSQL, accountUUID, now, exceptID)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, revokeRefreshTokensSQL, ids, now); err != nil {
				return err
			}
		}
		revoked = ids
		return nil
	})
	if err != nil {
		return nil, translate("revoke sessions", err)
	}
	slices.Sort(revoked)
	return revoked, nil
}
