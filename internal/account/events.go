package account

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// EventType names a security event; the values are the contract's.
type EventType string

// The security events of the contract.
const (
	EventAccountCreated     EventType = "account_created"
	EventLoginSucceeded     EventType = "login_succeeded"
	EventLoginFailed        EventType = "login_failed"
	EventLoginLockedOut     EventType = "login_locked_out"
	EventPasswordChanged    EventType = "password_changed"
	EventSessionRevoked     EventType = "session_revoked"
	EventRefreshTokenReused EventType = "refresh_token_reused" //nolint:gosec // G101: an event name, not a credential
	EventSessionExpired     EventType = "session_expired"
	EventAccountDisabled    EventType = "account_disabled"
	EventAccountEnabled     EventType = "account_enabled"
	EventMFAEnabled         EventType = "mfa_enabled"
	EventMFADisabled        EventType = "mfa_disabled"
	EventRecoveryCodeUsed   EventType = "recovery_code_used"
	EventPasskeyAdded       EventType = "passkey_added"
	EventPasskeyRemoved     EventType = "passkey_removed"
)

// EventTypes lists every EventType.
var EventTypes = []EventType{
	EventAccountCreated, EventLoginSucceeded, EventLoginFailed, EventLoginLockedOut, EventPasswordChanged,
	EventSessionRevoked, EventRefreshTokenReused, EventSessionExpired, EventAccountDisabled, EventAccountEnabled,
	EventMFAEnabled, EventMFADisabled, EventRecoveryCodeUsed, EventPasskeyAdded, EventPasskeyRemoved,
}

// Event is one entry of an account's security history.
type Event struct {
	// ID orders the events of an account: a later event has a higher id.
	// The store assigns it.
	ID          int64
	AccountUUID string
	Type        EventType
	CreatedAt   time.Time
	IPAddress   string
	UserAgent   string
	// SessionID is the session the event concerns, or "".
	SessionID string
	// RequestID ties the event to the request's access log line, or "".
	RequestID string
}

// EventStore keeps the security history of accounts.
type EventStore interface {
	// Add stores the events, all or none. Events of an account that no
	// longer exists are dropped without an error.
	Add(ctx context.Context, events []Event) error
	// List returns at most limit events of the account whose id is below
	// before (0: from the newest), newest first. An account that does not
	// exist has none.
	List(ctx context.Context, accountUUID string, before int64, limit int) ([]Event, error)
}

// Bounds of an EventQuery's Limit.
const (
	DefaultEventLimit = 20
	MaxEventLimit     = 100
)

// EventQuery is one page of a security history: at most Limit events
// (1 to MaxEventLimit) older than the event with id Before (0: from the
// newest).
type EventQuery struct {
	Before int64
	Limit  int
}

// check returns a *ValidationError, in pydantic's terms, for a limit
// outside 1-MaxEventLimit or a negative before.
func (q EventQuery) check() error {
	var v ValidationError
	switch {
	case q.Limit < 1:
		v.add("limit", "greater_than_equal", "Input should be greater than or equal to 1")
	case q.Limit > MaxEventLimit:
		v.add("limit", "less_than_equal", fmt.Sprintf("Input should be less than or equal to %d", MaxEventLimit))
	}
	if q.Before < 0 {
		v.add("before", "greater_than_equal", "Input should be greater than or equal to 1")
	}
	return v.orNil()
}

// Events returns a page of the caller's security history, newest first. It
// returns a *ValidationError for a bad query.
func (s *Service) Events(ctx context.Context, p Principal, q EventQuery) ([]Event, error) {
	return s.accountEvents(ctx, p.AccountUUID, q)
}

func (s *Service) accountEvents(ctx context.Context, accountUUID string, q EventQuery) ([]Event, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	if s.cfg.Events == nil {
		return []Event{}, nil
	}
	list, err := s.cfg.Events.List(ctx, accountUUID, q.Before, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return list, nil
}

// eventWriteTimeout bounds writing the events of a request that already
// did what they record.
const eventWriteTimeout = 5 * time.Second

// event returns an event of the account's, now, by the client c.
func (s *Service) event(accountUUID string, typ EventType, sessionID string, c Client) Event {
	return Event{
		AccountUUID: accountUUID, Type: typ, CreatedAt: s.cfg.Now(),
		IPAddress: c.IPAddress, UserAgent: c.UserAgent, SessionID: sessionID, RequestID: c.RequestID,
	}
}

// sessionEvents returns one event of typ for each of the sessions.
func (s *Service) sessionEvents(accountUUID string, typ EventType, sessionIDs []string, c Client) []Event {
	out := make([]Event, len(sessionIDs))
	for i, id := range sessionIDs {
		out[i] = s.event(accountUUID, typ, id, c)
	}
	return out
}

// record stores events of what has already happened. The change they
// record is committed, so a failure to store them does not undo it nor
// fail the request: it is logged with the events, at WARN when PostgreSQL
// is failing (the service degrades, as everywhere) and at ERROR otherwise.
// The write outlives a client that hangs up meanwhile.
func (s *Service) record(ctx context.Context, events ...Event) {
	if s.cfg.Events == nil || len(events) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eventWriteTimeout)
	defer cancel()
	if err := s.cfg.Events.Add(wctx, events); err != nil {
		level := slog.LevelError
		if Unavailable(err) {
			level = slog.LevelWarn
		}
		s.log.LogAttrs(ctx, level, "security event not stored", slog.String("error", err.Error()),
			slog.String("account_uuid", events[0].AccountUUID), slog.String("type", string(events[0].Type)),
			slog.Int("events", len(events)))
	}
}
