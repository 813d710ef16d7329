package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Sessions lists the caller's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, p Principal) ([]Session, error) {
	list, err := s.sessions.Active(ctx, p.AccountUUID, s.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return list, nil
}

// RevokeSession ends one of the caller's sessions. It returns
// ErrSessionNotFound when the caller has no such live session.
func (s *Service) RevokeSession(ctx context.Context, p Principal, sessionID string, c Client) error {
	id, err := s.sessions.Revoke(ctx, p.AccountUUID, sessionID, s.cfg.Now())
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrSessionNotFound
	case err != nil:
		return fmt.Errorf("revoke session: %w", err)
	}
	// Announce the id as the store spells it: the views of other instances
	// key sessions by that form, not by what the caller typed.
	if err := s.revokeAccess(ctx, []string{id}); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "session revoked", slog.String("event", "session_revoked"),
		slog.String("account_uuid", p.AccountUUID), slog.String("session_id", id))
	s.observer().SessionsRevoked(RevokeSessionDelete, 1)
	s.record(ctx, s.event(p.AccountUUID, EventSessionRevoked, id, c))
	return nil
}
