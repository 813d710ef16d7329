package accounttest_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

func TestEventStore(t *testing.T) {
	t.Parallel()
	s := newStores(t)
	events := accounttest.NewEventStore(s.accounts)
	ctx := t.Context()
	sid, _ := s.newSession(t)
	err := events.Add(ctx, []account.Event{
		{AccountUUID: s.account.UUID, Type: account.EventPasswordChanged, CreatedAt: t0, SessionID: sid},
		{AccountUUID: "00000000-0000-4000-8000-000000000000", Type: account.EventLoginFailed, CreatedAt: t0},
		{AccountUUID: s.account.UUID, Type: account.EventSessionRevoked, CreatedAt: t0, SessionID: "not a uuid"},
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := events.List(ctx, s.account.UUID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Type != account.EventSessionRevoked || list[1].Type != account.EventPasswordChanged ||
		list[0].ID <= list[1].ID || list[0].SessionID != "" || list[1].SessionID != sid {
		t.Fatalf("List = %+v, want alice's two events newest first, an unknown account's dropped", list)
	}
	if page, _ := events.List(ctx, s.account.UUID, list[0].ID, 10); len(page) != 1 || page[0].ID != list[1].ID {
		t.Fatalf("List before %d = %+v, want the older event alone", list[0].ID, page)
	}
	if page, _ := events.List(ctx, s.account.UUID, 0, 1); len(page) != 1 || page[0].ID != list[0].ID {
		t.Fatalf("List with limit 1 = %+v, want the newest event", page)
	}
	if page, _ := events.List(ctx, "not a uuid", 0, 10); len(page) != 0 {
		t.Fatalf("List of a malformed id = %+v, want none", page)
	}
}

// Delete keeps the revocations of the account's sessions, already revoked
// or revoked by it, after their rows are gone, and takes the account's
// events and tokens with it.
func TestDeleteKeepsRevocations(t *testing.T) {
	t.Parallel()
	s := newStores(t)
	ctx := t.Context()
	now := t0.Add(time.Minute)
	s.accounts.SetClock(func() time.Time { return now })
	events := accounttest.NewEventStore(s.accounts)
	revoked, _ := s.newSession(t)
	live, hash := s.newSession(t)
	if _, err := s.sessions.Revoke(ctx, s.account.UUID, revoked, t0); err != nil {
		t.Fatal(err)
	}
	_ = events.Add(ctx, []account.Event{{AccountUUID: s.account.UUID, Type: account.EventLoginSucceeded, CreatedAt: t0}})

	ids, err := s.accounts.Delete(ctx, s.account.UUID)
	if err != nil || !slices.Equal(ids, []string{live}) {
		t.Fatalf("Delete = %v, %v; want the live session %s revoked", ids, err, live)
	}
	list, _ := s.sessions.RevokedSince(ctx, t0)
	got := map[string]time.Time{}
	for _, r := range list {
		got[r.SessionID] = r.RevokedAt
	}
	if len(got) != 2 || !got[revoked].Equal(t0) || !got[live].Equal(now) {
		t.Fatalf("RevokedSince = %+v, want %s at %v and %s at %v", list, revoked, t0, live, now)
	}
	if _, err := s.sessions.ByTokenHash(ctx, hash, now); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("token after Delete: %v, want ErrNotFound", err)
	}
	if l, _ := events.List(ctx, s.account.UUID, 0, 10); len(l) != 0 {
		t.Fatalf("events after Delete: %+v", l)
	}
	if _, err := s.accounts.Delete(ctx, s.account.UUID); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
}

func TestDisableRevokesEverySession(t *testing.T) {
	t.Parallel()
	s := newStores(t)
	ctx := t.Context()
	a, _ := s.newSession(t)
	b, _ := s.newSession(t)
	ids, err := s.accounts.Disable(ctx, s.account.UUID)
	if err != nil || !slices.Equal(ids, sortedIDs(a, b)) {
		t.Fatalf("Disable = %v, %v; want both sessions", ids, err)
	}
	if ids, _ := s.accounts.Disable(ctx, s.account.UUID); len(ids) != 0 {
		t.Fatalf("second Disable revoked %v, want none", ids)
	}
	if err := s.accounts.Enable(ctx, s.account.UUID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.accounts.ByUUID(ctx, s.account.UUID); got.Disabled {
		t.Fatal("Enable left the account disabled")
	}
	if err := s.accounts.Enable(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Enable of no account = %v, want ErrNotFound", err)
	}
}

func sortedIDs(ids ...string) []string {
	slices.Sort(ids)
	return ids
}
