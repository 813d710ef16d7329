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
	// createSessionSQL starts a session with its first refresh token in one
	// statement, only while $7 is still the account's password hash and the
	// account is enabled. FOR SHARE conflicts with the UPDATE of a password
	// change: a change that committed first makes the hash check fail, and
	// one that comes second waits for this session and then revokes it.
	//nolint:gosec // G101: a query that names a token column, not a credential
	createSessionSQL = `
WITH a AS (
    SELECT uuid FROM accounts WHERE uuid = $2 AND password_hash = $7 AND NOT disabled
    FOR SHARE),
s AS (
    INSERT INTO sessions (id, account_uuid, created_at, last_used_at, expires_at, ip_address, user_agent)
    SELECT $1, a.uuid, $3, $3, $4, $5, $6 FROM a
    RETURNING id)
INSERT INTO refresh_tokens (session_id, token_hash, ip_address, user_agent, created_at, expires_at)
SELECT s.id, $8, $5, $6, $3, $4 FROM s`

	//nolint:gosec // G101: a query that names a token column, not a credential
	insertRefreshTokenSQL = `
INSERT INTO refresh_tokens (session_id, parent_id, token_hash, ip_address, user_agent, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`

	// lockSessionByTokenSQL locks the session before its refresh token is
	// touched: Revoke and RevokeAll lock sessions first too, and taking the
	// locks in one order is what keeps a rotation and a revocation of the same
	// session from deadlocking. It also reads whether the account is
	// disabled, so that a disabled account's token is refused before it is
	// used up.
	//nolint:gosec // G101: a query that names a token column, not a credential
	lockSessionByTokenSQL = `
SELECT a.disabled FROM sessions s JOIN refresh_tokens rt ON rt.session_id = s.id
JOIN accounts a ON a.uuid = s.account_uuid
WHERE rt.token_hash = $1 AND s.revoked_at IS NULL
FOR UPDATE OF s`

	// useRefreshTokenSQL marks a live token used. Under READ COMMITTED, a
	// racing rotation that already updated the row makes this one wait, and
	// the row is then re-checked: used_at is no longer NULL, so no row comes
	// back and exactly one racer wins. It also clears the sealed copy of the
	// token that its parent kept: once the token is used, the parent's grace
	// is over for good, and a copy of the database plus the parent must not
	// open its child any more.
	//nolint:gosec // G101: a query that names a token column, not a credential
	useRefreshTokenSQL = `
WITH used AS (
    UPDATE refresh_tokens rt SET used_at = $2, child_sealed = $3
    FROM sessions s
    WHERE rt.token_hash = $1 AND rt.used_at IS NULL AND rt.revoked_at IS NULL AND rt.expires_at > $2
      AND s.id = rt.session_id AND s.revoked_at IS NULL
    RETURNING rt.id, rt.session_id, rt.parent_id),
unsealed AS (
    UPDATE refresh_tokens p SET child_sealed = NULL FROM used WHERE p.id = used.parent_id)
SELECT id, session_id FROM used`

	touchSessionSQL = `
UPDATE sessions s SET last_used_at = $2, expires_at = $3, ip_address = $4, user_agent = $5
WHERE s.id = $1
RETURNING ` + sessionColumns

	tokenStateSQL = `
SELECT ` + sessionColumns + `, s.revoked_at AS session_revoked_at, a.disabled,
       rt.used_at, rt.revoked_at, rt.expires_at AS token_expires_at, rt.child_sealed
FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
JOIN accounts a ON a.uuid = s.account_uuid
WHERE rt.token_hash = $1`

	//nolint:gosec // G101: a query that names a token column, not a credential
	tokenByHashSQL = `
SELECT s.id AS session_id, s.account_uuid, rt.used_at, rt.child_sealed
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

// tokenRow is the state of a refresh token as the domain sees it.
type tokenRow struct {
	SessionID   string     `db:"session_id"`
	AccountUUID string     `db:"account_uuid"`
	UsedAt      *time.Time `db:"used_at"`
	ChildSealed []byte     `db:"child_sealed"`
}

func (r tokenRow) toRefreshToken() account.RefreshToken {
	t := account.RefreshToken{SessionID: r.SessionID, AccountUUID: r.AccountUUID, ChildSealed: r.ChildSealed}
	if r.UsedAt != nil {
		t.UsedAt = r.UsedAt.UTC()
	}
	return t
}

// tokenStateRow is a refresh token with its session, read to explain why a
// rotation did not happen.
type tokenStateRow struct {
	sessionRow
	SessionRevokedAt *time.Time `db:"session_revoked_at"`
	Disabled         bool       `db:"disabled"`
	UsedAt           *time.Time `db:"used_at"`
	RevokedAt        *time.Time `db:"revoked_at"`
	TokenExpiresAt   time.Time  `db:"token_expires_at"`
	ChildSealed      []byte     `db:"child_sealed"`
}

// Create stores a session and its first refresh token, in one statement, if
// ns.PasswordHash is still the hash of the enabled account. It returns
// account.ErrNotFound otherwise.
func (s *SessionStore) Create(ctx context.Context, ns account.NewSession) error {
	tag, err := s.pool.Exec(ctx, createSessionSQL, ns.ID, ns.AccountUUID, ns.CreatedAt, ns.ExpiresAt,
		ns.Client.IPAddress, ns.Client.UserAgent, ns.PasswordHash, ns.TokenHash)
	if err != nil {
		return translate("create session", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}

// Rotate marks the live refresh token r.ParentHash used and stores its child
// in the same session, in one transaction, and reports the session as the
// rotation left it. A token that was already used, in a live session, is
// reported as account.AlreadyRotated with its state. It returns
// account.ErrNotFound for a token that is unknown, expired, revoked or in a
// revoked session, and account.ErrAccountDisabled, changing nothing, when
// the account is disabled.
func (s *SessionStore) Rotate(ctx context.Context, r account.Rotation) (account.RotationResult, error) {
	var res account.RotationResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var disabled bool
		err := tx.QueryRow(ctx, lockSessionByTokenSQL, r.ParentHash).Scan(&disabled)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil // unknown, or a revoked session: told apart below
		case err != nil:
			return err
		case disabled:
			return account.ErrAccountDisabled
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
		res = account.RotationResult{Status: account.Rotated, Session: row.toSession()}
		return nil
	})
	switch {
	case errors.Is(err, account.ErrAccountDisabled):
		return account.RotationResult{}, err
	case err != nil:
		return account.RotationResult{}, translate("rotate refresh token", err)
	case res.Status == account.Rotated:
		return res, nil
	}
	return s.notRotated(ctx, r.ParentHash, r.Now)
}

// notRotated tells why a token could not be rotated. It runs after the
// rotation's transaction, so under READ COMMITTED it sees what a racing
// rotation committed, including the child it sealed.
func (s *SessionStore) notRotated(ctx context.Context, hash []byte, now time.Time) (account.RotationResult, error) {
	rows, _ := s.pool.Query(ctx, tokenStateSQL, hash)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[tokenStateRow])
	if err != nil {
		return account.RotationResult{}, translate("rotate refresh token", err)
	}
	switch {
	case row.SessionRevokedAt != nil, row.RevokedAt != nil, !row.TokenExpiresAt.After(now):
		return account.RotationResult{}, account.ErrNotFound
	case row.Disabled:
		return account.RotationResult{}, account.ErrAccountDisabled
	case row.UsedAt != nil:
		token := account.RefreshToken{
			SessionID:   row.ID,
			AccountUUID: row.AccountUUID,
			UsedAt:      row.UsedAt.UTC(),
			ChildSealed: row.ChildSealed,
		}
		return account.RotationResult{Status: account.AlreadyRotated, Session: row.toSession(), Used: token}, nil
	default:
		// Live and unused, yet the UPDATE did not match: state only moves
		// forward, so this cannot happen short of a bug.
		return account.RotationResult{}, errors.New("rotate refresh token: token is live but was not rotated")
	}
}

// ByTokenHash returns the state of a refresh token that is neither revoked
// nor expired, in a live session, used or not. It returns
// account.ErrNotFound when there is none.
func (s *SessionStore) ByTokenHash(ctx context.Context, hash []byte, now time.Time) (account.RefreshToken, error) {
	rows, _ := s.pool.Query(ctx, tokenByHashSQL, hash, now)
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[tokenRow])
	if err != nil {
		return account.RefreshToken{}, translate("find refresh token", err)
	}
	return row.toRefreshToken(), nil
}
