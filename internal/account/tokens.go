package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/accountd/accountd/internal/security"
)

// maxTokenLength bounds what is worth hashing or parsing; real tokens are
// far shorter.
const maxTokenLength = 4096

// Authenticate verifies an access token, checks that its session is not
// revoked and that its account is enabled. It returns ErrNotAuthenticated for
// no token, ErrTokenExpired, ErrInvalidToken, ErrTokenRevoked,
// ErrAccountDisabled, or ErrUnavailable when revocation or the signing keys
// cannot be checked: a token that could not be checked is never accepted.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
	p, err := s.authenticate(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	// The account is read through the profile cache, so this costs no query
	// on the hot path; a disabled flag shows within profileTTL.
	if _, err := s.Profile(ctx, p); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// authenticate is Authenticate without the account check.
func (s *Service) authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrNotAuthenticated
	}
	if len(token) > maxTokenLength {
		return Principal{}, ErrInvalidToken
	}
	c, err := s.tokens.Verify(token)
	switch {
	case errors.Is(err, security.ErrTokenExpired):
		return Principal{}, ErrTokenExpired
	case errors.Is(err, security.ErrKeysUnavailable):
		return Principal{}, fmt.Errorf("verify token: %w: %w", ErrUnavailable, err)
	case err != nil:
		return Principal{}, ErrInvalidToken
	}
	revoked, err := s.revocations.SessionRevoked(ctx, c.SessionID)
	if err != nil {
		return Principal{}, fmt.Errorf("check revocation: %w", err)
	}
	if revoked {
		return Principal{}, ErrTokenRevoked
	}
	return Principal{AccountUUID: c.Subject, SessionID: c.SessionID, TokenID: c.ID,
		IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, AMR: c.AMR}, nil
}

// Refresh rotates a refresh token: the token is used up and exactly one
// child is issued in the same session. A token rotated less than ReuseGrace
// ago yields the same child again, so racing clients converge on one token.
// A token rotated earlier is a replay: the whole session is revoked and
// ErrTokenReused returned. Unknown, expired or revoked tokens give
// ErrInvalidToken; no token gives ErrNotAuthenticated; a disabled account
// gives ErrAccountDisabled and a session older than SessionMaxLifetime
// ErrSessionExpired, and the token stays as it was.
func (s *Service) Refresh(ctx context.Context, refresh string, c Client) (_ Tokens, err error) {
	success := RefreshOK
	defer func() { s.observer().Refresh(refreshOutcome(success, err)) }()
	if refresh == "" {
		return Tokens{}, ErrNotAuthenticated
	}
	if len(refresh) > maxTokenLength {
		return Tokens{}, ErrInvalidToken
	}
	now := s.cfg.Now()
	child := security.NewRefreshToken()
	res, err := s.sessions.Rotate(ctx, Rotation{
		ParentHash: security.HashToken(refresh), ChildHash: security.HashToken(child),
		ChildSealed: security.Seal(refresh, child), Client: c,
		Now: now, ExpiresAt: now.Add(s.cfg.RefreshTTL), SessionLifetime: s.cfg.SessionMaxLifetime,
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return Tokens{}, ErrInvalidToken
	case errors.Is(err, ErrAccountDisabled):
		return Tokens{}, ErrAccountDisabled
	case errors.Is(err, ErrSessionExpired):
		s.sessionExpired(ctx, refresh, c)
		return Tokens{}, ErrSessionExpired
	case err != nil:
		return Tokens{}, fmt.Errorf("rotate refresh token: %w", err)
	case res.Status == AlreadyRotated:
		success = RefreshRotated
		return s.rotatedAgain(ctx, refresh, res.Session, res.Used, c)
	default:
		return s.issue(res.Session, child, now)
	}
}

// rotatedAgain handles a refresh token that was already rotated: within the
// grace period its holder gets the child its first use produced; after it,
// the presentation is a replay and revokes the session.
func (s *Service) rotatedAgain(ctx context.Context, refresh string, sess Session, used RefreshToken, c Client) (Tokens, error) {
	now := s.cfg.Now()
	if !s.withinGrace(used, now) {
		return Tokens{}, s.reused(ctx, used, c)
	}
	if used.ChildSealed == nil {
		// The child was rotated in turn: this holder is two steps behind
		// and gets nothing, but it is no replay of a stolen token either.
		return Tokens{}, ErrInvalidToken
	}
	child, err := security.Open(refresh, used.ChildSealed)
	if err != nil {
		return Tokens{}, fmt.Errorf("open rotated child: %w", err)
	}
	return s.issue(sess, child, now)
}

// sessionExpired logs and records a refresh of a session past its end. It
// reads whose session it is, which the rotation did not say: a query that
// only this rare path pays.
func (s *Service) sessionExpired(ctx context.Context, refresh string, c Client) {
	sess, err := s.sessions.SessionOf(ctx, security.HashToken(refresh))
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "find expired session", slog.String("error", err.Error()))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "session expired", slog.String("event", "session_expired"),
		slog.String("account_uuid", sess.AccountUUID), slog.String("session_id", sess.ID),
		slog.String("client_ip", c.IPAddress))
	if err == nil {
		s.record(ctx, s.event(sess.AccountUUID, EventSessionExpired, sess.ID, c))
	}
}

// withinGrace reports whether a used token is still within ReuseGrace of
// its rotation.
func (s *Service) withinGrace(used RefreshToken, now time.Time) bool {
	return now.Sub(used.UsedAt) <= s.cfg.ReuseGrace
}

// reused revokes the session of a refresh token presented after its grace
// period, announces it, logs the security event and returns ErrTokenReused.
func (s *Service) reused(ctx context.Context, used RefreshToken, c Client) error {
	id, err := s.sessions.Revoke(ctx, used.AccountUUID, used.SessionID, s.cfg.Now())
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("revoke reused session: %w", err)
	}
	if id != "" {
		if err := s.revokeAccess(ctx, []string{id}); err != nil {
			return err
		}
		s.observer().SessionsRevoked(RevokeTokenReuse, 1)
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "refresh token reused", slog.String("event", "refresh_token_reused"),
		slog.String("account_uuid", used.AccountUUID), slog.String("session_id", used.SessionID),
		slog.String("client_ip", c.IPAddress))
	s.record(ctx, s.event(used.AccountUUID, EventRefreshTokenReused, used.SessionID, c))
	return ErrTokenReused
}

// LogoutScope says which sessions a logout ends.
type LogoutScope string

// Logout scopes.
const (
	ScopeLocal  LogoutScope = "local"
	ScopeOthers LogoutScope = "others"
	ScopeGlobal LogoutScope = "global"
)

// Logout revokes the caller's session (ScopeLocal), the account's other
// sessions (ScopeOthers) or all of them (ScopeGlobal). The caller is found
// from the access token, else from the refresh token; without either, or
// with tokens that no longer name a live session, Logout does nothing and
// succeeds, so that it is idempotent. A refresh token rotated longer ago
// than the grace period is a replay: it revokes its own session, as Refresh
// would, and nothing else.
func (s *Service) Logout(ctx context.Context, access, refresh string, scope LogoutScope, c Client) error {
	p, err := s.logoutPrincipal(ctx, access, refresh, scope, c)
	if err != nil || p.SessionID == "" {
		return err
	}
	now := s.cfg.Now()
	var ids, revokedHere []string
	switch scope {
	case ScopeOthers, ScopeGlobal:
		except := p.SessionID
		if scope == ScopeGlobal {
			except = ""
		}
		ids, err = s.sessions.RevokeAll(ctx, p.AccountUUID, except, now)
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		revokedHere = ids
	default:
		id, err := s.sessions.Revoke(ctx, p.AccountUUID, p.SessionID, now)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("revoke session: %w", err)
		}
		// Already revoked, or revoked here: either way the access tokens of
		// the caller's session must stop working everywhere.
		ids = []string{p.SessionID}
		if id != "" {
			ids[0] = id
			revokedHere = ids
		}
	}
	if err := s.revokeAccess(ctx, ids); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "logout", slog.String("event", "session_revoked"),
		slog.String("account_uuid", p.AccountUUID), slog.String("scope", string(scope)),
		slog.Int("sessions", len(ids)))
	s.observer().SessionsRevoked(revokeReason(scope), len(ids))
	s.record(ctx, s.sessionEvents(p.AccountUUID, EventSessionRevoked, revokedHere, c)...)
	return nil
}

// logoutPrincipal finds whose logout it is. Tokens that are expired, revoked
// or unknown identify nobody. A disabled account may still log out: ending
// sessions is always safe. When revocation cannot be checked (Redis is
// down), the refresh token, which PostgreSQL checks, still identifies the
// caller; so does a well-signed access token for a local logout, since
// ending the token's own session is safe even if it was already ended.
// Only when neither can is the dependency's failure returned. A refresh
// token past its grace is handled as the replay it is and identifies nobody.
func (s *Service) logoutPrincipal(ctx context.Context, access, refresh string, scope LogoutScope, c Client) (Principal, error) {
	var unchecked error
	if access != "" {
		p, err := s.authenticate(ctx, access)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, ErrUnavailable) {
			unchecked = err
		}
	}
	if refresh != "" && len(refresh) <= maxTokenLength {
		token, err := s.sessions.ByTokenHash(ctx, security.HashToken(refresh), s.cfg.Now())
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return Principal{}, fmt.Errorf("find session: %w", err)
		case token.Used() && !s.withinGrace(token, s.cfg.Now()):
			if err := s.reused(ctx, token, c); !errors.Is(err, ErrTokenReused) {
				return Principal{}, err
			}
			return Principal{}, nil
		default:
			return Principal{AccountUUID: token.AccountUUID, SessionID: token.SessionID}, nil
		}
	}
	if unchecked != nil {
		if c, err := s.tokens.Verify(access); err == nil && scope == ScopeLocal {
			return Principal{AccountUUID: c.Subject, SessionID: c.SessionID, TokenID: c.ID}, nil
		}
		return Principal{}, unchecked
	}
	return Principal{}, nil
}
