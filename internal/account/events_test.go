package account_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

// eventTypes returns the types of the account's events, oldest first.
func eventTypes(t *testing.T, s *accounttest.Service, accountUUID string) []account.EventType {
	t.Helper()
	list, err := s.Events(t.Context(), account.Principal{AccountUUID: accountUUID},
		account.EventQuery{Limit: account.MaxEventLimit})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	var out []account.EventType
	for _, e := range slices.Backward(list) {
		out = append(out, e.Type)
	}
	return out
}

// wantEvents fails unless the account's events since the first n are, in
// order, the types; it returns the new count.
func wantEvents(t *testing.T, s *accounttest.Service, accountUUID, what string, n int, want ...account.EventType) int {
	t.Helper()
	got := eventTypes(t, s, accountUUID)
	if len(got) < n || !slices.Equal(got[n:], want) {
		t.Fatalf("%s: events %v, want %v after the first %d", what, got, want, n)
	}
	return len(got)
}

// Every use case writes the events of the contract's list that it causes,
// with the client's address, user agent and request id; reading (me,
// refresh) writes none.
func TestEventsOfEachUseCase(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	ctx := t.Context()
	c := account.Client{IPAddress: "198.51.100.7", UserAgent: "events-test", RequestID: "req-1"}

	a, err := s.Register(ctx, "Alice", password, c)
	if err != nil {
		t.Fatal(err)
	}
	n := wantEvents(t, s, a.UUID, "register", 0, account.EventAccountCreated)

	tokens, err := s.Login(ctx, "alice", password, c)
	if err != nil {
		t.Fatal(err)
	}
	n = wantEvents(t, s, a.UUID, "login", n, account.EventLoginSucceeded)
	if _, err := s.Authenticate(ctx, tokens.AccessToken); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(ctx, tokens.RefreshToken, c); err != nil {
		t.Fatal(err)
	}
	n = wantEvents(t, s, a.UUID, "authenticate and refresh", n)

	if _, err := s.Login(ctx, "alice", wrongPassword, c); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("Login with a wrong password = %v", err)
	}
	n = wantEvents(t, s, a.UUID, "wrong password", n, account.EventLoginFailed)
	if _, err := s.Login(ctx, "nobody", wrongPassword, c); !errors.Is(err, account.ErrInvalidCredentials) {
		t.Fatalf("Login of an unknown account = %v", err)
	}

	// A replay after the grace revokes the session.
	s.Clock.Advance(accounttest.ReuseGrace + time.Second)
	if _, err := s.Refresh(ctx, tokens.RefreshToken, c); !errors.Is(err, account.ErrTokenReused) {
		t.Fatalf("replay = %v, want ErrTokenReused", err)
	}
	n = wantEvents(t, s, a.UUID, "replay", n, account.EventRefreshTokenReused)

	second, third := s.StartSession(t, a.UUID), s.StartSession(t, a.UUID)
	if err := s.RevokeSession(ctx, accounttest.Principal(second), third.SessionID, c); err != nil {
		t.Fatal(err)
	}
	n = wantEvents(t, s, a.UUID, "revoke a session", n, account.EventSessionRevoked)
	s.StartSession(t, a.UUID)
	if err := s.Logout(ctx, second.AccessToken, "", account.ScopeGlobal, c); err != nil {
		t.Fatal(err)
	}
	n = wantEvents(t, s, a.UUID, "global logout of two sessions", n, account.EventSessionRevoked, account.EventSessionRevoked)

	caller, other := s.StartSession(t, a.UUID), s.StartSession(t, a.UUID)
	p := accounttest.Principal(caller)
	if err := s.ChangePassword(ctx, p, password, "a brand new password", c); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, s, a.UUID, "password change", n, account.EventPasswordChanged, account.EventSessionRevoked)

	list, err := s.Events(ctx, p, account.EventQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if list[0].SessionID != other.SessionID || list[1].SessionID != caller.SessionID {
		t.Fatalf("password change events name sessions %q, %q; want the revoked %q, then the caller's %q",
			list[0].SessionID, list[1].SessionID, other.SessionID, caller.SessionID)
	}
	for _, e := range list {
		if e.IPAddress != c.IPAddress || e.UserAgent != c.UserAgent || e.RequestID != c.RequestID ||
			e.AccountUUID != a.UUID || !e.CreatedAt.Equal(s.Clock.Now()) {
			t.Fatalf("event %+v, want the client %+v, account %s, at %v", e, c, a.UUID, s.Clock.Now())
		}
	}
}

func TestLoginLockedOutEventOnceWhenTheAccountLocks(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "bob")
	for range accounttest.MaxLoginFailures + 2 {
		_, _ = s.Login(t.Context(), "BOB", wrongPassword, client)
	}
	got := eventTypes(t, s, a.UUID)
	want := slices.Repeat([]account.EventType{account.EventLoginFailed}, accounttest.MaxLoginFailures)
	want = append(want, account.EventLoginLockedOut)
	if !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %d login_failed then one login_locked_out (refused attempts write none)",
			got, accounttest.MaxLoginFailures)
	}
}

func TestEventsPagesNewestFirst(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	a := s.AddAccount(t, "alice")
	s.AddAccount(t, "bob")
	p := account.Principal{AccountUUID: a.UUID}
	for range 5 {
		s.MustLogin(t, "alice", password)
		s.MustLogin(t, "bob", password)
	}
	var ids []int64
	q := account.EventQuery{Limit: 2}
	for {
		page, err := s.Events(t.Context(), p, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d events, want at most 2", len(page))
		}
		for _, e := range page {
			if e.AccountUUID != a.UUID {
				t.Fatalf("alice's page holds an event of %s", e.AccountUUID)
			}
			ids = append(ids, e.ID)
		}
		q.Before = page[len(page)-1].ID
	}
	if len(ids) != 5 || !slices.IsSortedFunc(ids, func(x, y int64) int { return int(y - x) }) {
		t.Fatalf("ids = %v, want alice's 5 events newest first", ids)
	}
}

func TestEventsQueryBounds(t *testing.T) {
	t.Parallel()
	s := accounttest.NewService(t)
	p := account.Principal{AccountUUID: s.AddAccount(t, "alice").UUID}
	for _, q := range []account.EventQuery{{Limit: 0}, {Limit: account.MaxEventLimit + 1}, {Limit: 1, Before: -1}} {
		var verr *account.ValidationError
		if _, err := s.Events(t.Context(), p, q); !errors.As(err, &verr) {
			t.Errorf("Events(%+v) = %v, want a *ValidationError", q, err)
		}
	}
	for _, q := range []account.EventQuery{{Limit: 1}, {Limit: account.MaxEventLimit, Before: 1}} {
		if _, err := s.Events(t.Context(), p, q); err != nil {
			t.Errorf("Events(%+v) = %v, want no error", q, err)
		}
	}
}

func TestSessionExpiredEvent(t *testing.T) {
	t.Parallel()
	s, tokens := loggedInWithPassword(t, accounttest.WithConfig(func(c *account.Config) { c.SessionMaxLifetime = time.Hour }))
	s.Clock.Advance(time.Hour)
	if _, err := s.Refresh(t.Context(), tokens.RefreshToken, client); !errors.Is(err, account.ErrSessionExpired) {
		t.Fatalf("refresh at the session's end = %v, want ErrSessionExpired", err)
	}
	list, err := s.Events(t.Context(), accounttest.Principal(tokens), account.EventQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Type != account.EventSessionExpired || list[0].SessionID != tokens.SessionID {
		t.Fatalf("newest event = %+v, want session_expired of session %s", list, tokens.SessionID)
	}
}

// failingEvents is an EventStore whose writes fail with err.
type failingEvents struct {
	account.EventStore
	err error
}

func (f failingEvents) Add(context.Context, []account.Event) error { return f.err }

// A change stands when its events cannot be stored; an unavailable
// PostgreSQL is a degradation (WARN), anything else a bug (ERROR).
func TestEventWriteFailures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err   error
		level string
	}{
		{fmt.Errorf("add security events: %w", account.ErrUnavailable), "level=WARN"},
		{errors.New("add security events: syntax error"), "level=ERROR"},
	} {
		var logs bytes.Buffer
		s := accounttest.NewService(t, accounttest.WithConfig(func(cfg *account.Config) {
			cfg.Events = failingEvents{err: c.err}
		}), accounttest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		a := s.AddAccount(t, "alice")
		tokens := s.StartSession(t, a.UUID)
		if err := s.RevokeSession(t.Context(), accounttest.Principal(tokens), tokens.SessionID, client); err != nil {
			t.Fatalf("RevokeSession with events failing: %v, want the revocation to stand", err)
		}
		if line := logs.String(); !strings.Contains(line, "security event not stored") || !strings.Contains(line, c.level) {
			t.Fatalf("log = %q, want %s security event not stored", line, c.level)
		}
	}
}
