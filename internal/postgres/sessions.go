package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/account"
)

// SessionStore keeps sessions and their refresh tokens in the sessions and
// refresh_tokens tables. Every timestamp it writes or compares against comes
// from its caller, so tests can move the clock.
type SessionStore struct {
	pool *pgxpool.Pool
}

var _ account.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns a SessionStore that uses pool.
func NewSessionStore(pool *pgxpool.Pool) *SessionStore {
	return &SessionStore{pool: pool}
}

const sessionColumns = `s.id, s.account_uuid, s.created_at, s.last_used_at, s.expires_at, s.ip_address, s.user_agent`

const (
	insertSessionSQL = `
INSERT INTO sessions (id, account_uuid, created_at, last_used_at, expires_at, ip_address, user_agent)
VALUES ($1, $2, $3, $3, $4, $5, $6)`

	//nolint:gosec // G101: a query that names a token column, not a credential
	insertRefreshTokenSQL = `
INSERT INTO refresh_tokens (session_id, parent_id, token_hash, ip_address, user_agent, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

	// lockSessionByTokenSQL locks the session before its refresh token is
	// touched: Revoke and RevokeAll lock sessions first too, and taking the
	// locks in one order is what keeps a rotation and a revocation of the same
	// session from deadlocking.
	//nolint:gosec // G101: a query that names a token column, not a credential
	lockSessionByTokenSQL = `
SELECT s.id FROM sessions s JOIN refresh_tokens rt ON rt.session_id = s.id
WHERE rt.token_hash = $1 AND s.revoked_at IS NULL
FOR UPDATE OF s`

	// useRefreshTokenSQL marks a live token used. Under READ COMMITTED, a
	// racing rotation that already updated the row makes this one wait, and
	// the row is then re-checked: used_at is no longer NULL, so no row comes
	// back and exactly one racer wins.
	useRefreshTokenSQL = `
UPDATE refresh_tokens rt SET used_at = $2, child_sealed = $3
FROM sessions s
WHERE rt.token_hash = $1 AND rt.used_at IS NULL AND rt.revoked_at IS NULL AND rt.expires_at > $2
  AND s.id = rt.session_id AND s.revoked_at IS NULL
RETURNING rt.id, rt.session_id`

	touchSessionSQL = `
UPDATE sessions s SET last_used_at = $2, expires_at = $3, ip_address = $4, user_agent = $5
WHERE s.id = $1
RETURNING ` + sessionColumns

	tokenStateSQL = `
SELECT ` + sessionColumns + `, s.revoked_at AS session_revoked_at,
       rt.used_at, rt.revoked_at, rt.expires_at AS token_expires_at, rt.child_sealed
FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
WHERE rt.token_hash = $1`

	sessionByTokenHashSQL = `
SELECT ` + sessionColumns + `
FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
WHERE rt.token_hash = $1 AND rt.revoked_at IS NULL AND rt.expires_at > $2
  AND s.revoked_at IS NULL AND s.expires_at > $2`
)

// sessionRow is one row of the sessions table as this package reads it.
type sessionRow struct {
	ID          string    `db:"id"`
	AccountUUID string    `db:"account_uuid"`
	CreatedAt   time.Time `db:"created_at"`
	LastUsedAt  time.Time `db:"last_used_at"`
	ExpiresAt   time.Time `db:"expires_at"`
	IPAddress   string    `db:"ip_address"`
	UserAgent   string    `db:"user_agent"`
}

func (r sessionRow) toSession() account.Session {
	return account.Session{
		ID:          r.ID,
		AccountUUID: r.AccountUUID,
		CreatedAt:   r.CreatedAt.UTC(),
		LastUsedAt:  r.LastUsedAt.UTC(),
		ExpiresAt:   r.ExpiresAt.UTC(),
		IPAddress:   r.IPAddress,
		UserAgent:   r.UserAgent,
	}
}

// usedTokenRow is what a rotation reads back from the token it marked used.
type usedTokenRow struct {
	ID        int64  `db:"id"`
	SessionID string `db:"session_id"`
}

// tokenStateRow is a refresh token with its session, read to explain why a
// rotation did not happen.
type tokenStateRow struct {
	sessionRow
	SessionRevokedAt *time.Time `db:"session_revoked_at"`
	UsedAt           *time.Time `db:"used_at"`
	RevokedAt        *time.Time `db:"revoked_at"`
	TokenExpiresAt   time.Time  `db:"token_expires_at"`
	ChildSealed      []byte     `db:"child_sealed"`
}

// Create stores a session and its first refresh token, in one transaction.
func (s *SessionStore) Create(ctx context.Context, ns account.NewSession) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insertSessionSQL, ns.ID, ns.AccountUUID, ns.CreatedAt, ns.ExpiresAt,
			ns.Client.IPAddress, ns.Client.UserAgent); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, insertRefreshTokenSQL, ns.ID, nil, ns.TokenHash,
			ns.Client.IPAddress, ns.Client.UserAgent, ns.CreatedAt, ns.ExpiresAt)
		return err
	})
	return translate("create session", err)
}

// Rotate marks the live refresh token r.ParentHash used and stores its child
// in the same session, in one transaction, and returns the session as the
// rotation left it. When the token exists in a live session but was already
// used, it returns the session and the token's state with
// account.ErrTokenRotated. It returns account.ErrNotFound for a token that is
// unknown, expired, revoked or in a revoked session.
func (s *SessionStore) Rotate(ctx context.Context, r account.Rotation) (account.Session, account.RefreshToken, error) {
	var (
		session account.Session
		rotated bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockSessionByTokenSQL, r.ParentHash); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, useRefreshTokenSQL, r.ParentHash, r.Now, r.ChildSealed)
		parent, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[usedTokenRow])
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // not rotated: told apart below, after this transaction
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, insertRefreshTokenSQL, parent.SessionID, parent.ID, r.ChildHash,
			r.Client.IPAddress, r.Client.UserAgent, r.Now, r.ExpiresAt); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, touchSessionSQL, parent.SessionID, r.Now, r.ExpiresAt,
			r.Client.IPAddress, r.Client.UserAgent)
		row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[sessionRow])
		if err != nil {
			return err
		}
		session, rotated = row.toSession(), true
		return nil
	})
	if err != nil {
		return account.Session{}, account.RefreshToken{}, translate("rotate refresh token", err)
	}
	if rotated {
		return session, account.RefreshToken{}, nil
	}
	return s.notRotated(ctx, r.ParentHash, r.Now)
}

// notRotated tells why a token could not be rotated. It runs after the
// rotation's transaction, so under READ COMMITTED it sees what a racing
// rotation committed, including the child it sealed.
func (s *SessionStore) notRotated(ctx context.Context, hash []byte, now time.Time) (account.Session, account.RefreshToken, error) {
	rows, _ := s.pool.Query(ctx, tokenStateSQL, hash)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[tokenStateRow])
	if err != nil {
		return account.Session{}, account.RefreshToken{}, translate("rotate refresh token", err)
	}
	switch {
	case row.SessionRevokedAt != nil, row.RevokedAt != nil, !row.TokenExpiresAt.After(now):
		return account.Session{}, account.RefreshToken{}, account.ErrNotFound
	case row.UsedAt != nil:
		token := account.RefreshToken{
			SessionID:   row.ID,
			AccountUUID: row.AccountUUID,
			UsedAt:      row.UsedAt.UTC(),
			ChildSealed: row.ChildSealed,
		}
		return row.toSession(), token, account.ErrTokenRotated
	default:
		// Live and unused, yet the UPDATE did not match: state only moves
		// forward, so this cannot happen short of a bug.
		return account.Session{}, account.RefreshToken{}, errors.New("rotate refresh token: token is live but was not rotated")
	}
}

// ByTokenHash returns the live session that a refresh token belongs to, used
// or not. The token itself must be neither revoked nor expired. It returns
// account.ErrNotFound when there is no such session.
func (s *SessionStore) ByTokenHash(ctx context.Context, hash []byte, now time.Time) (account.Session, error) {
	rows, _ := s.pool.Query(ctx, sessionByTokenHashSQL, hash, now)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[sessionRow])
	if err != nil {
		return account.Session{}, translate("find session by refresh token", err)
	}
	return row.toSession(), nil
}
