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

// Authenticate verifies an access token and checks that its session is not
// revoked. It returns ErrNotAuthenticated for no token, ErrTokenExpired,
// ErrInvalidToken, ErrTokenRevoked, or ErrUnavailable when revocation cannot
// be checked: a token that could not be checked is never accepted.
func (s *Service) Authenticate(ctx context.Context, token string) (Principal, error) {
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
	return Principal{AccountUUID: c.Subject, SessionID: c.SessionID, TokenID: c.ID}, nil
}

// Refresh rotates a refresh token: the token is used up and exactly one
// child is issued in the same session. A token rotated less than ReuseGrace
// ago yields the same child again, so racing clients converge on one token.
// A token rotated earlier is a replay: the whole session is revoked and
// ErrTokenReused returned. Unknown, expired or revoked tokens give
// ErrInvalidToken; no token gives ErrNotAuthenticated.
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
	sess, used, err := s.sessions.Rotate(ctx, Rotation{
		ParentHash: security.HashToken(refresh), ChildHash: security.HashToken(child),
		ChildSealed: security.Seal(refresh, child), Client: c,
		Now: now, ExpiresAt: now.Add(s.cfg.RefreshTTL),
	})
	switch {
	case err == nil:
		if err := s.checkEnabled(ctx, sess.AccountUUID); err != nil {
			return Tokens{}, err
		}
		return s.issue(sess.AccountUUID, sess.ID, child, s.cfg.RefreshTTL)
	case errors.Is(err, ErrNotFound):
		return Tokens{}, ErrInvalidToken
	case errors.Is(err, ErrTokenRotated):
		success = RefreshRotated
		return s.rotatedAgain(ctx, refresh, sess, used, c)
	default:
		return Tokens{}, fmt.Errorf("rotate refresh token: %w", err)
	}
}

// rotatedAgain handles a refresh token that was already rotated: within the
// grace period its holder gets the child its first use produced; after it,
// the presentation is a replay and revokes the session.
func (s *Service) rotatedAgain(ctx context.Context, refresh string, sess Session, used RefreshToken, c Client) (Tokens, error) {
	now := s.cfg.Now()
	if now.Sub(used.UsedAt) <= s.cfg.ReuseGrace {
		child, err := security.Open(refresh, used.ChildSealed)
		if err != nil {
			return Tokens{}, fmt.Errorf("open rotated child: %w", err)
		}
		if err := s.checkEnabled(ctx, used.AccountUUID); err != nil {
			return Tokens{}, err
		}
		return s.issue(used.AccountUUID, used.SessionID, child, sess.ExpiresAt.Sub(now))
	}
	if err := s.sessions.Revoke(ctx, used.AccountUUID, used.SessionID, now); err != nil && !errors.Is(err, ErrNotFound) {
		return Tokens{}, fmt.Errorf("revoke reused session: %w", err)
	}
	if err := s.revokeAccess(ctx, []string{used.SessionID}); err != nil {
		return Tokens{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "refresh token reused", slog.String("event", "refresh_token_reused"),
		slog.String("account_uuid", used.AccountUUID), slog.String("session_id", used.SessionID),
		slog.String("client_ip", c.IPAddress))
	s.observer().SessionsRevoked(RevokeTokenReuse, 1)
	return Tokens{}, ErrTokenReused
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
// succeeds, so that it is idempotent.
func (s *Service) Logout(ctx context.Context, access, refresh string, scope LogoutScope) error {
	p, err := s.logoutPrincipal(ctx, access, refresh, scope)
	if err != nil || p.SessionID == "" {
		return err
	}
	now := s.cfg.Now()
	var ids []string
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
	default:
		err = s.sessions.Revoke(ctx, p.AccountUUID, p.SessionID, now)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("revoke session: %w", err)
		}
	}
	if scope != ScopeOthers {
		ids = append(ids, p.SessionID)
	}
	if err := s.revokeAccess(ctx, ids); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "logout", slog.String("event", "session_revoked"),
		slog.String("account_uuid", p.AccountUUID), slog.String("scope", string(scope)),
		slog.Int("sessions", len(ids)))
	s.observer().SessionsRevoked(revokeReason(scope), len(ids))
	return nil
}

// logoutPrincipal finds whose logout it is. Tokens that are expired, revoked
// or unknown identify nobody. When revocation cannot be checked (Redis is
// down), the refresh token, which PostgreSQL checks, still identifies the
// caller; so does a well-signed access token for a local logout, since
// ending the token's own session is safe even if it was already ended.
// Only when neither can is the dependency's failure returned.
func (s *Service) logoutPrincipal(ctx context.Context, access, refresh string, scope LogoutScope) (Principal, error) {
	var unchecked error
	if access != "" {
		p, err := s.Authenticate(ctx, access)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, ErrUnavailable) {
			unchecked = err
		}
	}
	if refresh != "" && len(refresh) <= maxTokenLength {
		sess, err := s.sessions.ByTokenHash(ctx, security.HashToken(refresh), s.cfg.Now())
		if err == nil {
			return Principal{AccountUUID: sess.AccountUUID, SessionID: sess.ID}, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Principal{}, fmt.Errorf("find session: %w", err)
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

// revokeAccess makes the sessions' access tokens fail on every instance
// until the longest-lived of them has expired.
func (s *Service) revokeAccess(ctx context.Context, sessionIDs []string) error {
	if len(sessionIDs) == 0 {
		return nil
	}
	until := s.cfg.Now().Add(s.tokens.TTL() + time.Minute)
	if err := s.revocations.RevokeSessions(ctx, sessionIDs, until); err != nil {
		return fmt.Errorf("revoke access tokens: %w", err)
	}
	return nil
}

// checkEnabled refuses to extend the sessions of a disabled or deleted
// account: ErrAccountDisabled or ErrInvalidToken.
func (s *Service) checkEnabled(ctx context.Context, accountUUID string) error {
	_, err := s.current(ctx, Principal{AccountUUID: accountUUID})
	return err
}
