package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/internal/account"
)

const (
	activeSessionsSQL = `
SELECT ` + sessionColumns + ` FROM sessions s
WHERE s.account_uuid = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
ORDER BY s.created_at DESC, s.id`
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
