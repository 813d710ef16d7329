package postgres_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/postgres"
)

func TestEventStore(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	events := postgres.NewEventStore(f.pool)
	other := newAccount(t, f.pool)
	sid, _ := f.newSession(t, t0)

	err := events.Add(ctx, []account.Event{
		{AccountUUID: f.accountUUID, Type: account.EventPasswordChanged, CreatedAt: t0,
			IPAddress: "192.0.2.9", UserAgent: "ua/1", SessionID: sid, RequestID: "req-9"},
		{AccountUUID: newID(t), Type: account.EventLoginFailed, CreatedAt: t0}, // no such account
		{AccountUUID: "not a uuid", Type: account.EventLoginFailed, CreatedAt: t0},
		{AccountUUID: other, Type: account.EventLoginFailed, CreatedAt: t0},
		{AccountUUID: f.accountUUID, Type: account.EventSessionRevoked, CreatedAt: t0.Add(time.Second), SessionID: "x"},
	})
	if err != nil {
		t.Fatalf("Add: %v", err)
	}
	list, err := events.List(ctx, f.accountUUID, 0, 10)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := account.Event{ID: list[len(list)-1].ID, AccountUUID: f.accountUUID, Type: account.EventPasswordChanged,
		CreatedAt: t0, IPAddress: "192.0.2.9", UserAgent: "ua/1", SessionID: sid, RequestID: "req-9"}
	if len(list) != 2 || list[0].Type != account.EventSessionRevoked || list[0].SessionID != "" || list[1] != want ||
		list[0].ID <= list[1].ID {
		t.Fatalf("List = %+v, want the session_revoked event (no session), then %+v", list, want)
	}
	if page, _ := events.List(ctx, f.accountUUID, list[0].ID, 10); len(page) != 1 || page[0].ID != list[1].ID {
		t.Fatalf("List before %d = %+v, want the older event", list[0].ID, page)
	}
	if page, _ := events.List(ctx, f.accountUUID, 0, 1); len(page) != 1 || page[0].ID != list[0].ID {
		t.Fatalf("List limit 1 = %+v, want the newest", page)
	}
	if page, err := events.List(ctx, "nope", 0, 10); err != nil || len(page) != 0 {
		t.Fatalf("List of a malformed id = %+v, %v", page, err)
	}
}

// A login's event is stored by the statement that starts its session.
func TestCreateSessionStoresItsEvent(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	id, hash := newID(t), newHash(t)
	err := f.store.Create(ctx, account.NewSession{
		ID: id, AccountUUID: f.accountUUID, PasswordHash: fixtureHash, TokenHash: hash,
		Client: account.Client{IPAddress: "192.0.2.1", UserAgent: "ua"}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
		Event: account.Event{Type: account.EventLoginSucceeded, CreatedAt: t0, IPAddress: "192.0.2.1",
			UserAgent: "ua", RequestID: "r1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A session that is refused stores no event either.
	err = f.store.Create(ctx, account.NewSession{
		ID: newID(t), AccountUUID: f.accountUUID, PasswordHash: "stale", TokenHash: newHash(t),
		CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Event: account.Event{Type: account.EventLoginSucceeded, CreatedAt: t0},
	})
	if err == nil {
		t.Fatal("Create with a stale hash succeeded")
	}
	list, _ := postgres.NewEventStore(f.pool).List(ctx, f.accountUUID, 0, 10)
	if len(list) != 1 || list[0].Type != account.EventLoginSucceeded || list[0].SessionID != id ||
		list[0].RequestID != "r1" || !list[0].CreatedAt.Equal(t0) {
		t.Fatalf("events = %+v, want one login_succeeded of session %s", list, id)
	}
}

func TestDeleteAccountKeepsRevocations(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	accounts := postgres.NewAccountStore(f.pool)
	before := time.Now().Add(-account.ClockSkew)
	revoked, _ := f.newSession(t, time.Now())
	live, hash := f.newSession(t, time.Now())
	if _, err := f.store.Revoke(ctx, f.accountUUID, revoked, time.Now()); err != nil {
		t.Fatal(err)
	}
	_ = postgres.NewEventStore(f.pool).Add(ctx, []account.Event{
		{AccountUUID: f.accountUUID, Type: account.EventAccountCreated, CreatedAt: t0}})

	ids, err := accounts.Delete(ctx, f.accountUUID)
	if err != nil || !slices.Equal(ids, []string{live}) {
		t.Fatalf("Delete = %v, %v; want the live session %s", ids, err, live)
	}
	list, err := f.store.RevokedSince(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range list {
		got = append(got, r.SessionID)
	}
	slices.Sort(got)
	if want := sortedStrings(revoked, live); !slices.Equal(got, want) {
		t.Fatalf("RevokedSince = %v, want both sessions of the deleted account %v", got, want)
	}
	for _, table := range []string{"accounts WHERE uuid = $1", "sessions WHERE account_uuid = $1",
		"security_events WHERE account_uuid = $1"} {
		var n int
		if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM "+table, f.accountUUID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s: %d rows (%v), want none", table, n, err)
		}
	}
	if _, err := f.store.ByTokenHash(ctx, hash, time.Now()); err == nil {
		t.Fatal("the deleted account's refresh token is still found")
	}
	if _, err := accounts.Delete(ctx, f.accountUUID); err == nil || !isNotFound(err) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
	// Cleanup drops the tombstones with the retention of revoked sessions.
	res, err := postgres.Cleanup(ctx, f.pool, time.Now().Add(48*time.Hour), 24*time.Hour, 24*time.Hour)
	if err != nil || !res.Ran {
		t.Fatalf("Cleanup = %+v, %v", res, err)
	}
	if list, _ := f.store.RevokedSince(ctx, before); len(list) != 0 {
		t.Fatalf("tombstones after cleanup: %+v", list)
	}
}

func TestDisableEnableList(t *testing.T) {
	f := newSessionFixture(t)
	ctx := context.Background()
	accounts := postgres.NewAccountStore(f.pool)
	a, _ := f.newSession(t, time.Now())
	b, _ := f.newSession(t, time.Now())
	ids, err := accounts.Disable(ctx, f.accountUUID)
	if err != nil || !slices.Equal(ids, sortedStrings(a, b)) {
		t.Fatalf("Disable = %v, %v; want both sessions", ids, err)
	}
	if got, _ := accounts.ByUUID(ctx, f.accountUUID); !got.Disabled {
		t.Fatal("Disable left the account enabled")
	}
	if err := accounts.Enable(ctx, f.accountUUID); err != nil {
		t.Fatal(err)
	}
	if got, _ := accounts.ByUUID(ctx, f.accountUUID); got.Disabled {
		t.Fatal("Enable left the account disabled")
	}
	for _, err := range []error{accounts.Enable(ctx, newID(t)), func() error { _, err := accounts.Disable(ctx, "x"); return err }()} {
		if !isNotFound(err) {
			t.Fatalf("Enable/Disable of no account = %v, want ErrNotFound", err)
		}
	}

	for _, id := range []string{"Zed-list", "a%b-list", "a_b-list", "alice-list"} {
		if _, err := accounts.Create(ctx, account.NewAccount{AccountID: id, PasswordHash: fixtureHash}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		query string
		limit int
		want  []string
	}{
		{"-list", 10, []string{"a%b-list", "a_b-list", "alice-list", "Zed-list"}},
		{"-LIST", 2, []string{"a%b-list", "a_b-list"}},
		{"_", 10, []string{"a_b-list"}},
		{"%", 10, []string{"a%b-list"}},
		{"zed", 10, []string{"Zed-list"}},
	}
	for _, c := range cases {
		list, err := accounts.List(ctx, c.query, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range list {
			got = append(got, a.AccountID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("List(%q, %d) = %v, want %v", c.query, c.limit, got, c.want)
		}
	}
}

func TestCleanupDeletesOldEvents(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	events := postgres.NewEventStore(f.pool)
	now := time.Now().UTC().Truncate(time.Second)
	_ = events.Add(ctx, []account.Event{
		{AccountUUID: f.accountUUID, Type: account.EventLoginFailed, CreatedAt: now.Add(-100 * 24 * time.Hour)},
		{AccountUUID: f.accountUUID, Type: account.EventLoginFailed, CreatedAt: now.Add(-time.Hour)},
	})
	res, err := postgres.Cleanup(ctx, f.pool, now, 24*time.Hour, 90*24*time.Hour)
	if err != nil || res.Events != 1 {
		t.Fatalf("Cleanup = %+v, %v; want 1 event deleted", res, err)
	}
	if list, _ := events.List(ctx, f.accountUUID, 0, 10); len(list) != 1 || !list[0].CreatedAt.Equal(now.Add(-time.Hour)) {
		t.Fatalf("events left = %+v, want the recent one", list)
	}
}

func sortedStrings(s ...string) []string {
	slices.Sort(s)
	return s
}

func isNotFound(err error) bool { return errors.Is(err, account.ErrNotFound) }
