package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/internal/account"
)

const (
	sessionByIDSQL = `
SELECT ` + sessionColumns + ` FROM sessions s
WHERE s.id = $1 AND s.account_uuid = $2 AND s.revoked_at IS NULL`

	//nolint:gosec // G101: a query that names a token column, not a credential
	sessionOfTokenSQL = `
SELECT ` + sessionColumns + ` FROM sessions s JOIN refresh_tokens rt ON rt.session_id = s.id
WHERE rt.token_hash = $1`
)

// ByID returns the account's session with the id unless it is revoked,
// expired or not. It returns account.ErrNotFound otherwise, including when
// either id is not a UUID.
func (s *SessionStore) ByID(ctx context.Context, accountUUID, sessionID string) (account.Session, error) {
	if !validUUID(accountUUID) || !validUUID(sessionID) {
		return account.Session{}, account.ErrNotFound
	}
	rows, _ := s.pool.Query(ctx, sessionByIDSQL, sessionID, accountUUID)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[sessionRow])
	if err != nil {
		return account.Session{}, translate("find session", err)
	}
	return row.toSession(), nil
}

// SessionOf returns the session of a refresh token, whatever the state of
// either. It returns account.ErrNotFound for an unknown token.
func (s *SessionStore) SessionOf(ctx context.Context, tokenHash []byte) (account.Session, error) {
	rows, _ := s.pool.Query(ctx, sessionOfTokenSQL, tokenHash)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[sessionRow])
	if err != nil {
		return account.Session{}, translate("find session of refresh token", err)
	}
	return row.toSession(), nil
}
