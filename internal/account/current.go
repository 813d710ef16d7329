package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/accountd/accountd/internal/security"
)

// SessionState is the caller's session as a single-page app needs it to
// know whether it is signed in and when to refresh.
type SessionState struct {
	SessionID   string
	AccountUUID string
	// AccessExpiresAt is zero when no valid access token named the caller
	// and the refresh token did.
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
	SessionExpiresAt time.Time
}

// CurrentSession finds the caller's session by the access token or, failing
// that, by the refresh token, which it neither rotates nor revokes: a
// refresh token rotated longer ago than the grace period names nobody
// here. It returns ErrAccountDisabled for a disabled account; when neither
// token names a live session, the access token's error (ErrTokenExpired,
// ErrTokenRevoked...), else ErrInvalidToken, or ErrNotAuthenticated
// without tokens; ErrUnavailable only when the access token could not be
// checked and the refresh token did not name the caller either.
func (s *Service) CurrentSession(ctx context.Context, access, refresh string) (SessionState, error) {
	var accessErr error
	if access != "" {
		st, err := s.sessionByAccess(ctx, access)
		if err == nil || errors.Is(err, ErrAccountDisabled) {
			return st, err
		}
		accessErr = err
	}
	if refresh != "" && len(refresh) <= maxTokenLength {
		st, err := s.sessionByRefresh(ctx, refresh)
		if !errors.Is(err, ErrNotFound) {
			return st, err
		}
	}
	switch {
	case accessErr != nil:
		return SessionState{}, accessErr
	case refresh != "":
		return SessionState{}, ErrInvalidToken
	default:
		return SessionState{}, ErrNotAuthenticated
	}
}

// sessionByAccess is the session that a valid access token names.
func (s *Service) sessionByAccess(ctx context.Context, access string) (SessionState, error) {
	p, err := s.Authenticate(ctx, access)
	if err != nil {
		return SessionState{}, err
	}
	sess, err := s.sessions.ByID(ctx, p.AccountUUID, p.SessionID)
	switch {
	case errors.Is(err, ErrNotFound):
		return SessionState{}, ErrTokenRevoked
	case err != nil:
		return SessionState{}, fmt.Errorf("find session: %w", err)
	}
	st := s.sessionState(sess)
	st.AccessExpiresAt = p.ExpiresAt
	return st, nil
}

// sessionByRefresh is the session that a live refresh token names; it
// returns ErrNotFound when the token names none.
func (s *Service) sessionByRefresh(ctx context.Context, refresh string) (SessionState, error) {
	now := s.cfg.Now()
	token, err := s.sessions.ByTokenHash(ctx, security.HashToken(refresh), now)
	switch {
	case errors.Is(err, ErrNotFound):
		return SessionState{}, ErrNotFound
	case err != nil:
		return SessionState{}, fmt.Errorf("find refresh token: %w", err)
	case token.Used() && !s.withinGrace(token, now):
		return SessionState{}, ErrNotFound
	}
	sess, err := s.sessions.ByID(ctx, token.AccountUUID, token.SessionID)
	switch {
	case errors.Is(err, ErrNotFound):
		return SessionState{}, ErrNotFound
	case err != nil:
		return SessionState{}, fmt.Errorf("find session: %w", err)
	}
	if _, err := s.Profile(ctx, Principal{AccountUUID: sess.AccountUUID}); err != nil {
		return SessionState{}, err
	}
	return s.sessionState(sess), nil
}

func (s *Service) sessionState(sess Session) SessionState {
	return SessionState{
		SessionID: sess.ID, AccountUUID: sess.AccountUUID,
		RefreshExpiresAt: sess.ExpiresAt, SessionExpiresAt: s.sessionEnd(sess),
	}
}
