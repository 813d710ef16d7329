package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accountd/accountd/internal/account"
)

var _ account.RevocationSource = (*SessionStore)(nil)

// revokedSinceSQL uses the partial index on sessions.revoked_at.
const revokedSinceSQL = `
SELECT id::text AS session_id, revoked_at FROM sessions
WHERE revoked_at IS NOT NULL AND revoked_at >= $1`

type revocationRow struct {
	SessionID string    `db:"session_id"`
	RevokedAt time.Time `db:"revoked_at"`
}

// RevokedSince lists the sessions revoked at or after since: the durable
// record from which the revocation view of every instance is rebuilt.
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
