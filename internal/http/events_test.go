package http_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// events returns the caller's events, newest first, following the pages of
// the given size to the end.
func (a *testAPI) events(t *testing.T, access string, pageSize int) []map[string]any {
	t.Helper()
	var all []map[string]any
	path := fmt.Sprintf("%s/events?limit=%d", accountsPath, pageSize)
	for {
		r := a.do(t, http.MethodGet, path, nil, bearer(access))
		wantStatus(t, r, http.StatusOK, "")
		list, ok := r.JSON.([]any)
		if !ok {
			t.Fatalf("GET %s = %s, want a list", path, r.Body)
		}
		if len(list) > pageSize {
			t.Fatalf("GET %s gave %d events, want at most %d", path, len(list), pageSize)
		}
		if len(list) == 0 {
			return all
		}
		for _, e := range list {
			all = append(all, e.(map[string]any))
		}
		last := all[len(all)-1]["id"].(float64)
		path = fmt.Sprintf("%s/events?limit=%d&before=%d", accountsPath, pageSize, int64(last))
	}
}

// Each event type that the HTTP API causes is written once per cause, with
// the client's address, user agent and request id, and pages newest first.
func TestEventsOfEachType(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{LoginFailures: account.LockoutAfter(3, time.Minute)}),
		withSessionMaxLifetime(24*time.Hour))
	id := newAccountID("events")
	ua := header("User-Agent", "events-test/1")
	r := api.do(t, http.MethodPost, accountsPath+"/", map[string]string{"account_id": id, "password": testPassword}, ua)
	wantStatus(t, r, http.StatusCreated, "")

	first := api.login(t, id, testPassword, ua, header("X-Request-ID", "req-login-1"))
	wantStatus(t, api.me(t, first.access), http.StatusOK, "")
	api.wantRefresh(t, "refresh", first.refresh, http.StatusOK, "")
	api.clock.Advance(defaultGrace + time.Second)
	api.wantRefresh(t, "replay", first.refresh, http.StatusUnauthorized, "refresh_token_reused")

	b, c := api.login(t, id, testPassword), api.login(t, id, testPassword)
	wantStatus(t, api.do(t, http.MethodDelete, accountsPath+"/sessions/"+c.sessionID, nil, bearer(b.access)), http.StatusOK, "")
	r = api.do(t, http.MethodPut, accountsPath+"/password",
		map[string]string{"old_password": testPassword, "new_password": "another-pass-1"}, bearer(b.access))
	wantStatus(t, r, http.StatusOK, "")
	ended := api.login(t, id, "another-pass-1")
	api.clock.Advance(24 * time.Hour)
	api.wantRefresh(t, "refresh after the session's end", ended.refresh, http.StatusUnauthorized, "session_expired")
	api.login(t, id, "another-pass-1")
	caller := api.login(t, id, "another-pass-1")
	wantStatus(t, api.do(t, http.MethodDelete, logoutPath+"?scope=others", nil, bearer(caller.access)), http.StatusOK, "")
	// The limiter keeps Redis's time, not the test's: the lock-out comes last.
	for range 3 {
		wantStatus(t, api.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, "wrong-password")),
			http.StatusBadRequest, "invalid_credentials")
	}
	wantStatus(t, api.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, "another-pass-1")),
		http.StatusTooManyRequests, "too_many_attempts")

	all := api.events(t, caller.access, 3)
	var got []string
	for _, e := range slices.Backward(all) {
		got = append(got, e["type"].(string))
	}
	want := []string{
		"account_created", "login_succeeded", "refresh_token_reused", "login_succeeded", "login_succeeded",
		"session_revoked", "password_changed", "login_succeeded", "session_expired", "login_succeeded",
		"login_succeeded", "session_revoked", "login_failed", "login_failed", "login_failed", "login_locked_out",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events oldest first:\n got %v\nwant %v", got, want)
	}
	var ids []float64
	for _, e := range all {
		ids = append(ids, e["id"].(float64))
		if len(e) != 6 || e["created_at"] == nil || e["ip_address"] != "127.0.0.1" {
			t.Fatalf("event %v, want id, type, created_at, ip_address 127.0.0.1, user_agent, session_id", e)
		}
	}
	if !slices.IsSortedFunc(ids, func(x, y float64) int { return int(y - x) }) {
		t.Fatalf("ids %v, want newest first", ids)
	}
	created, login := all[len(all)-1], all[len(all)-2]
	if created["user_agent"] != "events-test/1" || created["session_id"] != nil {
		t.Fatalf("account_created = %v, want the registering user agent and no session", created)
	}
	if login["session_id"] != first.sessionID || login["user_agent"] != "events-test/1" {
		t.Fatalf("first login_succeeded = %v, want session %s", login, first.sessionID)
	}
	var requestID string
	if err := api.pool.QueryRow(t.Context(), "SELECT request_id FROM security_events WHERE id = $1",
		int64(login["id"].(float64))).Scan(&requestID); err != nil || requestID != "req-login-1" {
		t.Fatalf("login event's request id = %q, %v; want the request's X-Request-ID", requestID, err)
	}
}

// Reading writes no events: /me and a rotation cost no write.
func TestEventsNoneOnTheHotPaths(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	l := api.login(t, api.newAccount(t, "events-hot"), testPassword)
	before := len(api.events(t, l.access, 100))
	next := l
	for range 3 {
		wantStatus(t, api.me(t, next.access), http.StatusOK, "")
		next = tokensOf(t, api.wantRefresh(t, "refresh", next.refresh, http.StatusOK, ""))
	}
	if after := len(api.events(t, next.access, 100)); after != before {
		t.Fatalf("me and refresh wrote %d events, want none", after-before)
	}
}

func TestEventsBadQueries(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	l := api.login(t, api.newAccount(t, "events-bad"), testPassword)
	var cases []apiCase
	for _, q := range []struct {
		query string
		issue issue
	}{
		{"limit=0", issue{"greater_than_equal", []string{"query", "limit"}, ""}},
		{"limit=101", issue{"less_than_equal", []string{"query", "limit"}, ""}},
		{"limit=ten", issue{"int_parsing", []string{"query", "limit"}, ""}},
		{"before=0", issue{"greater_than_equal", []string{"query", "before"}, ""}},
		{"before=-3", issue{"greater_than_equal", []string{"query", "before"}, ""}},
		{"before=1e3", issue{"int_parsing", []string{"query", "before"}, ""}},
		{"before=99999999999999999999", issue{"int_parsing", []string{"query", "before"}, ""}},
	} {
		cases = append(cases, apiCase{name: q.query, path: accountsPath + "/events?" + q.query, opts: []reqOpt{bearer(l.access)},
			wantStatus: http.StatusUnprocessableEntity, wantIssues: []issue{q.issue}})
	}
	cases = append(cases,
		apiCase{name: "limit 100", path: accountsPath + "/events?limit=100", opts: []reqOpt{bearer(l.access)}, wantStatus: 200},
		apiCase{name: "no token", path: accountsPath + "/events", wantStatus: 401, wantCode: "not_authenticated"},
	)
	runCases(t, api, cases, http.MethodGet, "")
}
