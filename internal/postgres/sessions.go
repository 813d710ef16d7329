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

const sessionColumns = `s.id, s.account_uuid, s.created_at, s.last_used_at, s.expires_at, s.ip_address, s.user_agent, s.amr`

const (
	// createSessionSQL starts a session with its first refresh token in one
	// statement, only while $7 is still the account's password hash and the
	// account is enabled. FOR SHARE conflicts with the UPDATE of a password
	// change: a change that committed first makes the hash check fail, and
	// one that comes second waits for this session and then revokes it. The
	// same statement stores the login's security event ($10, none when
	// empty), so that it costs the login no round trip and exists exactly
	// when the session does.
	//nolint:gosec // G101: a query that names a token column, not a credential
	createSessionSQL = `
WITH a AS (
    SELECT uuid FROM accounts WHERE uuid = $2 AND password_hash = $7 AND NOT disabled
    FOR SHARE),
s AS (
    INSERT INTO sessions (id, account_uuid, created_at, last_used_at, expires_at, ip_address, user_agent, amr)
    SELECT $1, a.uuid, $3, $3, $4, $5, $6, $9 FROM a
    RETURNING id, account_uuid),
e AS (
    INSERT INTO security_events (account_uuid, type, created_at, ip_address, user_agent, session_id, request_id)
    SELECT s.account_uuid, $10, $11, $12, $13, s.id, $14 FROM s WHERE $10 <> '')
INSERT INTO refresh_tokens (session_id, token_hash, ip_address, user_agent, created_at, expires_at)
SELECT s.id, $8, $5, $6, $3, $4 FROM s`

	// rotateSQL rotates a refresh token in one statement, so one round trip:
	//
	//   - locked locks the session before the token is touched: Revoke and
	//     RevokeAll lock sessions first too, and taking the locks in one
	//     order is what keeps a rotation and a revocation of the same session
	//     from deadlocking. It also reads whether the account is disabled and
	//     when the session ends ($8, SESSION_MAX_LIFETIME, after its login),
	//     so that such a token is refused before it is used up.
	//   - used marks the live token used. Under READ COMMITTED a racing
	//     rotation that committed while this one waited for the session lock
	//     has already updated the row; PostgreSQL re-checks the row's newest
	//     version, used_at is no longer NULL, and no row comes back: exactly
	//     one racer wins. It also clears the sealed copy of the token that its
	//     parent kept: once the token is used, the parent's grace is over for
	//     good, and the parent plus a copy of the database must not open its
	//     child any more.
	//   - child stores the child, touched moves the session on; neither
	//     outlives the session's end.
	//
	// A statement is atomic on its own: a cut connection leaves the rotation
	// done or not begun. The final row reports what locked found and, when
	// the rotation happened, the session as it left it.
	//nolint:gosec // G101: a query that names a token column, not a credential
	rotateSQL = `
WITH locked AS (
    SELECT s.id, a.disabled, s.created_at + $8 * interval '1 microsecond' AS ends_at
    FROM sessions s JOIN refresh_tokens rt ON rt.session_id = s.id JOIN accounts a ON a.uuid = s.account_uuid
    WHERE rt.token_hash = $1 AND s.revoked_at IS NULL
    FOR UPDATE OF s),
used AS (
    UPDATE refresh_tokens rt SET used_at = $2, child_sealed = $3
    FROM locked
    WHERE rt.token_hash = $1 AND rt.session_id = locked.id AND NOT locked.disabled AND locked.ends_at > $2
      AND rt.used_at IS NULL AND rt.revoked_at IS NULL AND rt.expires_at > $2
    RETURNING rt.id, rt.session_id, rt.parent_id, least($7::timestamptz, locked.ends_at) AS expires_at),
unsealed AS (
    UPDATE refresh_tokens p SET child_sealed = NULL FROM used WHERE p.id = used.parent_id),
child AS (
    INSERT INTO refresh_tokens (session_id, parent_id, token_hash, ip_address, user_agent, created_at, expires_at)
    SELECT used.session_id, used.id, $4, $5, $6, $2, used.expires_at FROM used),
touched AS (
    UPDATE sessions s SET last_used_at = $2, expires_at = used.expires_at, ip_address = $5, user_agent = $6
    FROM used WHERE s.id = used.session_id
    RETURNING ` + sessionColumns + `)
SELECT locked.disabled, locked.ends_at, touched.id IS NOT NULL AS rotated,
       coalesce(touched.id::text, '') AS id, coalesce(touched.account_uuid::text, '') AS account_uuid,
       coalesce(touched.created_at, locked.ends_at) AS created_at,
       coalesce(touched.last_used_at, locked.ends_at) AS last_used_at,
       coalesce(touched.expires_at, locked.ends_at) AS expires_at,
       coalesce(touched.ip_address, '') AS ip_address, coalesce(touched.user_agent, '') AS user_agent,
       coalesce(touched.amr, '{}') AS amr
FROM locked LEFT JOIN touched ON true`

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
	AMR         []string  `db:"amr"`
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
		AMR:         r.AMR,
	}
}

// noSessionLimit stands for a Rotation without a SessionLifetime.
const noSessionLimit = 100 * 365 * 24 * time.Hour

// rotationRow is what rotateSQL reports: what it found of the session and,
// when it rotated, the session as it left it.
type rotationRow struct {
	Disabled bool      `db:"disabled"`
	EndsAt   time.Time `db:"ends_at"`
	Rotated  bool      `db:"rotated"`
	sessionRow
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

// Create stores a session and its first refresh token, and ns.Event unless
// its Type is empty, in one statement, if ns.PasswordHash is still the hash
// of the enabled account. It returns account.ErrNotFound otherwise.
func (s *SessionStore) Create(ctx context.Context, ns account.NewSession) error {
	e := ns.Event
	tag, err := s.pool.Exec(ctx, createSessionSQL, ns.ID, ns.AccountUUID, ns.CreatedAt, ns.ExpiresAt,
		ns.Client.IPAddress, ns.Client.UserAgent, ns.PasswordHash, ns.TokenHash, amrOrPassword(ns.AMR),
		string(e.Type), e.CreatedAt, e.IPAddress, e.UserAgent, e.RequestID)
	if err != nil {
		return translate("create session", err)
	}
	if tag.RowsAffected() == 0 {
		return account.ErrNotFound
	}
	return nil
}

// Rotate marks the live refresh token r.ParentHash used and stores its child
// in the same session, in one statement, and reports the session as the
// rotation left it. A token that was already used, in a live session, is
// reported as account.AlreadyRotated with its state. It returns
// account.ErrNotFound for a token that is unknown, expired, revoked or in a
// revoked session; account.ErrAccountDisabled when the account is disabled
// and account.ErrSessionExpired when the session is past r.SessionLifetime
// (0 for no limit), changing nothing.
func (s *SessionStore) Rotate(ctx context.Context, r account.Rotation) (account.RotationResult, error) {
	lifetime := r.SessionLifetime
	if lifetime <= 0 {
		lifetime = noSessionLimit
	}
	rows, _ := s.pool.Query(ctx, rotateSQL, r.ParentHash, r.Now, r.ChildSealed, r.ChildHash,
		r.Client.IPAddress, r.Client.UserAgent, r.ExpiresAt, lifetime.Microseconds())
	row, err := pgx.CollectOneRow(rows, pgx.RowToStructByName[rotationRow])
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// Unknown, or in a revoked session: told apart below.
	case err != nil:
		return account.RotationResult{}, translate("rotate refresh token", err)
	case row.Rotated:
		return account.RotationResult{Status: account.Rotated, Session: row.toSession()}, nil
	case row.Disabled:
		return account.RotationResult{}, account.ErrAccountDisabled
	case !row.EndsAt.After(r.Now):
		return account.RotationResult{}, account.ErrSessionExpired
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

// amrOrPassword is the amr a session is stored with: a login that names
// no method was a password login.
func amrOrPassword(amr []string) []string {
	if len(amr) == 0 {
		return []string{account.MethodPassword}
	}
	return amr
}
