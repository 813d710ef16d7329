package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/internal/account"
)

const (
	// lockAccountSQL takes the account row first, as a password change
	// does: a login still holding it FOR SHARE commits its session before
	// the deletion reads the sessions, and a later one finds no account.
	lockAccountSQL = `SELECT uuid FROM accounts WHERE uuid = $1 FOR UPDATE`

	// revokeUnrevokedSQL revokes every session of the account that is not
	// revoked yet, expired or not (an access token may outlive its
	// session's last refresh token), locking them in id order as
	// revokeSessionsSQL does.
	revokeUnrevokedSQL = `
UPDATE sessions SET revoked_at = now()
WHERE id IN (
    SELECT id FROM sessions
    WHERE account_uuid = $1 AND revoked_at IS NULL
    ORDER BY id
    FOR UPDATE)
RETURNING id::text`

	// tombstonesSQL keeps the revocations of the account's sessions, which
	// the deletion of the account is about to take with it.
	tombstonesSQL = `
INSERT INTO revoked_sessions (session_id, revoked_at)
SELECT id, revoked_at FROM sessions WHERE account_uuid = $1 AND revoked_at IS NOT NULL
ON CONFLICT (session_id) DO UPDATE SET revoked_at = greatest(revoked_sessions.revoked_at, excluded.revoked_at)`

	// deleteAccountSQL deletes the account; its sessions, refresh tokens
	// and events go with it (ON DELETE CASCADE).
	deleteAccountSQL = `DELETE FROM accounts WHERE uuid = $1`
)

// revokeUnrevoked revokes, in tx, every session of the account that is not
// revoked yet with its refresh tokens, and returns their ids, sorted.
func revokeUnrevoked(ctx context.Context, tx pgx.Tx, accountUUID string) ([]string, error) {
	rows, _ := tx.Query(ctx, revokeUnrevokedSQL, accountUUID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == 0 {
		return ids, err
	}
	if _, err := tx.Exec(ctx, revokeRefreshTokensSQL, ids); err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// Delete deletes the account with its sessions, refresh tokens and events
// in one transaction, after revoking every session of its that was not
// revoked yet and copying the revocations of all of them into
// revoked_sessions, which RevokedSince reads: the durable record of the
// revocations outlives the rows. A rotation racing it either locked its
// session first, and its child is revoked here, or finds the session gone.
// It returns the ids it revoked, sorted, and account.ErrNotFound when there
// is no such account.
func (s *AccountStore) Delete(ctx context.Context, uuid string) ([]string, error) {
	if !validUUID(uuid) {
		return nil, account.ErrNotFound
	}
	var revoked []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var found string
		if err := tx.QueryRow(ctx, lockAccountSQL, uuid).Scan(&found); err != nil {
			return err
		}
		var err error
		if revoked, err = revokeUnrevoked(ctx, tx, uuid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, tombstonesSQL, uuid); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, deleteAccountSQL, uuid)
		return err
	})
	if err != nil {
		return nil, translate("delete account", err)
	}
	return revoked, nil
}
