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
	// AMR says how the login that started the session authenticated (RFC
	// 8176); every access token of the session carries it.
	AMR []string
}

// Authentication methods (RFC 8176) that sessions record in AMR.
const (
	// MethodPassword is a password.
	MethodPassword = "pwd"
	// MethodOTP is a one-time code (TOTP or a recovery code).
	MethodOTP = "otp"
	// MethodPasskey is a passkey: a hardware-bound key.
	MethodPasskey = "hwk"
)

// Client describes who obtained a refresh token.
type Client struct {
	// IPAddress is the client's address; empty when it is not known.
	IPAddress string
	// Alias names a client whose address is not known, such as one that a
	// trusted proxy named by something else, so that per-client limits
	// still tell it apart from others; it is never stored.
	Alias     string
	UserAgent string
	// RequestID is the id of the request the client made, which security
	// events carry; it is never part of a limit key.
	RequestID string
}

// NewSession is what SessionStore.Create needs to start a session with its
// first refresh token.
type NewSession struct {
	ID          string
	AccountUUID string
	// PasswordHash is the hash the login verified: the session starts only
	// while it is still the account's, so that a login racing a password
	// change cannot outlive the change's revocation of every other session.
	PasswordHash string
	// AMR says how the login authenticated.
	AMR       []string
	TokenHash []byte
	Client    Client
	CreatedAt time.Time
	ExpiresAt time.Time
	// Event, unless its Type is empty, is stored with the session, in the
	// same statement, for the session's account and with the session's id.
	Event Event
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
	// ExpiresAt is when the child expires, unless its session ends first.
	ExpiresAt time.Time
	// SessionLifetime is how long a session lives after its login, however
	// often it is refreshed: a token of an older session is not rotated,
	// and no child outlives its session. 0 means no limit.
	SessionLifetime time.Duration
}

// RefreshToken is the stored state of a refresh token.
type RefreshToken struct {
	SessionID   string
	AccountUUID string
	// UsedAt is when the token was rotated; zero while it is unused.
	UsedAt time.Time
	// ChildSealed is the child that the rotation produced, sealed with a
	// key derived from this token; nil once the child was rotated in turn.
	ChildSealed []byte
}

// Used reports whether the token was rotated.
func (t RefreshToken) Used() bool { return !t.UsedAt.IsZero() }

// RotationStatus says what SessionStore.Rotate did.
type RotationStatus int

// What a rotation did.
const (
	// Rotated: the token was live and unused; it is now used and its child
	// stored.
	Rotated RotationStatus = iota + 1
	// AlreadyRotated: the token was used before; nothing changed, and
	// RotationResult.Used holds the token's state.
	AlreadyRotated
)

// RotationResult is what SessionStore.Rotate did and what it found.
type RotationResult struct {
	Status RotationStatus
	// Session is the session as the rotation left it (Rotated) or found it
	// (AlreadyRotated).
	Session Session
	// Used is the state of the token that was already used
	// (AlreadyRotated only).
	Used RefreshToken
}

// PasswordChange asks AccountStore.ChangePassword to replace an account's
// password hash and end its other sessions.
type PasswordChange struct {
	AccountUUID string
	// OldHash must still be the account's hash for the change to happen.
	OldHash string
	NewHash string
	// KeepSession is the session that goes on; "" ends them all.
	KeepSession string
	Now         time.Time
}

// SessionStore keeps sessions and their refresh tokens.
type SessionStore interface {
	// Create stores a session and its first refresh token, and s.Event,
	// atomically, if s.PasswordHash is still the hash of an enabled
	// account. It returns ErrNotFound otherwise.
	Create(ctx context.Context, s NewSession) error
	// Rotate marks the live refresh token r.ParentHash used and stores its
	// child in the same session, atomically, and clears the sealed copy of
	// the token kept by its own parent. A token that was already used is
	// reported as AlreadyRotated with its state. It returns ErrNotFound for a
	// token that is unknown, expired, revoked or in a revoked session and,
	// changing nothing, ErrAccountDisabled when the session's account is
	// disabled and ErrSessionExpired when the session is older than
	// r.SessionLifetime.
	Rotate(ctx context.Context, r Rotation) (RotationResult, error)
	// ByTokenHash returns the state of a refresh token that is neither
	// revoked nor expired, in a live session, used or not. It returns
	// ErrNotFound when there is none.
	ByTokenHash(ctx context.Context, hash []byte, now time.Time) (RefreshToken, error)
	// ByID returns the account's session with the id unless it is revoked,
	// expired or not (an access token may outlive its session's refresh
	// tokens). It returns ErrNotFound otherwise.
	ByID(ctx context.Context, accountUUID, sessionID string) (Session, error)
	// SessionOf returns the session of a refresh token, whatever the state
	// of either. It returns ErrNotFound for an unknown token.
	SessionOf(ctx context.Context, tokenHash []byte) (Session, error)
	// Active lists the account's sessions that are neither revoked nor
	// expired, newest first.
	Active(ctx context.Context, accountUUID string, now time.Time) ([]Session, error)
	// Revoke revokes one session of the account and all its refresh tokens
	// and returns the session's id as the store spells it (which is what the
	// revocation must announce). It returns ErrNotFound when the account has
	// no such live session.
	Revoke(ctx context.Context, accountUUID, sessionID string, now time.Time) (string, error)
	// RevokeAll revokes every live session of the account but the one named
	// by except (which may be empty) and returns the ids it revoked.
	RevokeAll(ctx context.Context, accountUUID, except string, now time.Time) ([]string, error)
}
