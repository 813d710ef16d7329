package account

import (
	"context"
	"time"
)

// Session is one login: the chain of refresh tokens that rotation produces
// from it.
type Session struct {
	ID          string
	AccountUUID string
	CreatedAt   time.Time
	LastUsedAt  time.Time
	// ExpiresAt is when the newest refresh token of the session expires.
	ExpiresAt time.Time
	IPAddress string
	UserAgent string
}

// Client describes who obtained a refresh token.
type Client struct {
	// IPAddress is the client's address; empty when it is not known.
	IPAddress string
	// Alias names a client whose address is not known, such as one that a
	// trusted proxy named by something else, so that per-client limits
	// still tell it apart from others; it is never stored.
	Alias     string
	UserAgent string
}

// NewSession is what SessionStore.Create needs to start a session with its
// first refresh token.
type NewSession struct {
	ID          string
	AccountUUID string
	TokenHash   []byte
	Client      Client
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Rotation asks SessionStore.Rotate to replace a refresh token by its child.
type Rotation struct {
	ParentHash []byte
	ChildHash  []byte
	// ChildSealed is the child token sealed with a key derived from the
	// parent, kept so that racing holders of the parent get the same child.
	ChildSealed []byte
	Client      Client
	Now         time.Time
	ExpiresAt   time.Time
}

// RefreshToken is the stored state of a refresh token that was already used,
// as SessionStore.Rotate reports it with ErrTokenRotated.
type RefreshToken struct {
	SessionID   string
	AccountUUID string
	UsedAt      time.Time
	ChildSealed []byte
}

// SessionStore keeps sessions and their refresh tokens.
type SessionStore interface {
	// Create stores a session and its first refresh token.
	Create(ctx context.Context, s NewSession) error
	// Rotate marks the live refresh token r.ParentHash used and stores its
	// child in the same session, atomically, and returns the session. When
	// the token exists in a live session but was already used, it returns the
	// token's state with ErrTokenRotated. It returns ErrNotFound for a token
	// that is unknown, expired, revoked or in a revoked session.
	Rotate(ctx context.Context, r Rotation) (Session, RefreshToken, error)
	// ByTokenHash returns the live session that a refresh token belongs to,
	// used or not. It returns ErrNotFound when there is none.
	ByTokenHash(ctx context.Context, hash []byte, now time.Time) (Session, error)
	// Active lists the account's sessions that are neither revoked nor
	// expired, newest first.
	Active(ctx context.Context, accountUUID string, now time.Time) ([]Session, error)
	// Revoke revokes one session of the account and all its refresh tokens.
	// It returns ErrNotFound when the account has no such live session.
	Revoke(ctx context.Context, accountUUID, sessionID string, now time.Time) error
	// RevokeAll revokes every live session of the account but the one named
	// by except (which may be empty) and returns the ids it revoked.
	RevokeAll(ctx context.Context, accountUUID, except string, now time.Time) ([]string, error)
}

// Revocations tells every instance which sessions' access tokens are revoked.
type Revocations interface {
	// RevokeSessions marks the sessions' access tokens revoked until the
	// given time, when every access token they hold has expired anyway.
	RevokeSessions(ctx context.Context, sessionIDs []string, until time.Time) error
	// SessionRevoked reports whether the session's access tokens are revoked.
	// It returns ErrUnavailable when it cannot tell.
	SessionRevoked(ctx context.Context, sessionID string) (bool, error)
}

// Revocation is a session revoked at a time: every access token of the
// session issued before then is void.
type Revocation struct {
	SessionID string
	RevokedAt time.Time
}

// RevocationSource is the durable record of revocations, from which the
// shared view of revoked sessions is rebuilt when it may have missed some.
type RevocationSource interface {
	// RevokedSince lists the sessions revoked at or after since.
	RevokedSince(ctx context.Context, since time.Time) ([]Revocation, error)
}
