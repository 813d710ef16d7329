package http_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// wantClearedCookies fails unless r deletes both token cookies with the
// paths they were set with.
func wantClearedCookies(t *testing.T, r response) {
	t.Helper()
	for name, path := range map[string]string{"access_token": "/", "refresh_token": accountsPath} {
		c := r.cookie(name)
		if c == nil {
			t.Fatalf("no Set-Cookie for %s in %q, want it cleared", name, r.Header.Values("Set-Cookie"))
		}
		if c.Value != "" || c.Path != path || !strings.Contains(c.Raw, "Max-Age=0") || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("Set-Cookie %q, want %s=; Path=%s; Max-Age=0; HttpOnly; SameSite=Lax", c.Raw, name, path)
		}
	}
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Rotate")
	l := api.login(t, id, testPassword, header("User-Agent", "first/1"))

	r := api.refresh(t, l.refresh, header("User-Agent", "second/2"))
	wantTokenResponse(t, r, false)
	next := tokensOf(t, r)
	if next.refresh == l.refresh {
		t.Fatalf("refresh cookie = the presented token, want a new one")
	}
	if next.access == l.access {
		t.Fatalf("access token = the old one, want a new one")
	}
	if next.sessionID != l.sessionID {
		t.Fatalf("new access token is for session %s, want the same session %s", next.sessionID, l.sessionID)
	}
	api.wantAccess(t, "old access token", l.access, http.StatusOK, "")
	api.wantAccess(t, "new access token", next.access, http.StatusOK, "")
	if n := api.countRefreshTokens(t, l.sessionID); n != 2 {
		t.Fatalf("session has %d refresh tokens, want 2 (the login's and its child)", n)
	}

	// The child rotates in turn; the session list shows the latest client.
	third := tokensOf(t, api.wantRefresh(t, "the child", next.refresh, http.StatusOK, ""))
	if third.refresh == next.refresh || third.refresh == l.refresh {
		t.Fatalf("second rotation gave a token seen before")
	}
	s := api.do(t, http.MethodGet, accountsPath+"/sessions", nil, bearer(third.access))
	list, _ := s.JSON.([]any)
	if len(list) != 1 || list[0].(map[string]any)["user_agent"] != "Go-http-client/1.1" {
		t.Fatalf("sessions = %s, want the one session, last used by the client of the last refresh", s.Body)
	}
	var lastAgent string
	err := api.pool.QueryRow(t.Context(), "SELECT user_agent FROM refresh_tokens WHERE session_id = $1 ORDER BY id OFFSET 1 LIMIT 1",
		l.sessionID).Scan(&lastAgent)
	if err != nil || lastAgent != "second/2" {
		t.Fatalf("User-Agent recorded for the first child = %q (%v), want second/2", lastAgent, err)
	}
}

func TestRefreshWithBrowserCookies(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Browser")
	b := api.newBrowser(t)
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword)), http.StatusOK, "")
	before := b.cookie(t, accountsPath+"/refresh", "refresh_token")
	if before == "" || b.cookie(t, "/", "refresh_token") != "" {
		t.Fatalf("jar holds refresh_token %q for the accounts path and %q for /, want it only under %s",
			before, b.cookie(t, "/", "refresh_token"), accountsPath)
	}
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/refresh", nil), http.StatusOK, "")
	after := b.cookie(t, accountsPath+"/refresh", "refresh_token")
	if after == "" || after == before {
		t.Fatalf("refresh cookie after /refresh = %q, want a new one", after)
	}
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/me", nil), http.StatusOK, "")
}

func TestRefreshErrors(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Refusals")
	l := api.login(t, id, testPassword)
	loggedOut := api.login(t, id, testPassword)
	wantStatus(t, api.do(t, http.MethodDelete, accountsPath+"/logout", nil, refreshCookie(loggedOut.refresh)), http.StatusOK, "")

	bearerChallenge := func(t *testing.T, r response) {
		if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Fatalf("WWW-Authenticate = %q, want Bearer", got)
		}
	}
	invalid := func(t *testing.T, r response) {
		bearerChallenge(t, r)
		wantClearedCookies(t, r)
	}
	runCases(t, api, []apiCase{
		{name: "no cookie", wantStatus: 401, wantCode: "not_authenticated", check: bearerChallenge},
		{name: "empty cookie", opts: []reqOpt{refreshCookie("")}, wantStatus: 401, wantCode: "not_authenticated"},
		{name: "unknown token", opts: []reqOpt{refreshCookie("bm90LWEtcmVhbC10b2tlbi1ub3QtYS1yZWFsLXRva2Vu")},
			wantStatus: 401, wantCode: "invalid_token", check: invalid},
		{name: "access token as refresh token", opts: []reqOpt{refreshCookie(l.access)}, wantStatus: 401, wantCode: "invalid_token",
			check: invalid},
		{name: "refresh token of a logged-out session", opts: []reqOpt{refreshCookie(loggedOut.refresh)}, wantStatus: 401,
			wantCode: "invalid_token", check: invalid},
		{name: "token over 4096 bytes", opts: []reqOpt{refreshCookie(strings.Repeat("t", 5000))}, wantStatus: 401,
			wantCode: "invalid_token"},
		{name: "token in a bearer header", opts: []reqOpt{bearer(l.refresh)}, wantStatus: 401, wantCode: "not_authenticated"},
	}, http.MethodPost, accountsPath+"/refresh")

	t.Run("refusals changed nothing", func(t *testing.T) {
		api.wantRefresh(t, "the live session", l.refresh, http.StatusOK, "")
	})
}

func TestRefreshTokenExpires(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Expiry")
	l := api.login(t, id, testPassword)
	api.clock.Advance(refreshTTL - time.Minute)
	next := tokensOf(t, api.wantRefresh(t, "a minute before expiry", l.refresh, http.StatusOK, ""))

	// The child lives a full refresh lifetime from its rotation.
	api.clock.Advance(refreshTTL - time.Minute)
	api.wantRefresh(t, "child a minute before its expiry", next.refresh, http.StatusOK, "")

	other := api.login(t, id, testPassword)
	api.clock.Advance(refreshTTL + time.Second)
	r := api.wantRefresh(t, "expired", other.refresh, http.StatusUnauthorized, "invalid_token")
	wantClearedCookies(t, r)
}

// TestRefreshRace sends one refresh token from many clients at once: all
// get 200 and one and the same new refresh token, and the session gains
// exactly one refresh token.
func TestRefreshRace(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Racer")
	l := api.login(t, id, testPassword)

	const racers = 20
	results := make([]response, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			results[i] = api.refresh(t, l.refresh)
		})
	}
	close(start)
	wg.Wait()

	var child string
	for i, r := range results {
		if r.Status != http.StatusOK {
			t.Fatalf("racer %d: status = %d, want 200 (body %s)", i, r.Status, r.Body)
		}
		got := tokensOf(t, r)
		if got.sessionID != l.sessionID {
			t.Fatalf("racer %d: access token for session %s, want %s", i, got.sessionID, l.sessionID)
		}
		if child == "" {
			child = got.refresh
		}
		if got.refresh != child {
			t.Fatalf("racer %d: refresh cookie %q, want the same as racer 0, %q", i, got.refresh, child)
		}
		if got.refresh == l.refresh {
			t.Fatalf("racer %d: got the presented token back, want its child", i)
		}
		api.wantAccess(t, "racer's access token", got.access, http.StatusOK, "")
	}
	if n := api.countRefreshTokens(t, l.sessionID); n != 2 {
		t.Fatalf("session has %d refresh tokens after %d racing refreshes, want 2 (the login's and one child)", n, racers)
	}
	// The one child is live and rotates normally.
	api.wantRefresh(t, "the common child", child, http.StatusOK, "")
}

func TestRefreshReplayWithinGrace(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withReuseGrace(5*time.Second))
	id := api.newAccount(t, "Graceful")
	l := api.login(t, id, testPassword)
	first := tokensOf(t, api.wantRefresh(t, "first use", l.refresh, http.StatusOK, ""))

	api.clock.Advance(4 * time.Second)
	r := api.wantRefresh(t, "replay within the grace period", l.refresh, http.StatusOK, "")
	again := tokensOf(t, r)
	if again.refresh != first.refresh {
		t.Fatalf("replay within grace gave refresh token %q, want the child of the first use %q", again.refresh, first.refresh)
	}
	if again.sessionID != l.sessionID || again.access == first.access {
		t.Fatalf("replay within grace gave an access token for session %s (same as first: %v), want a fresh one for %s",
			again.sessionID, again.access == first.access, l.sessionID)
	}
	if c := r.cookie("refresh_token"); c.MaxAge <= 0 || c.MaxAge > int(refreshTTL/time.Second) {
		t.Fatalf("refresh cookie Max-Age = %d, want what is left of the session, at most %d", c.MaxAge, int(refreshTTL/time.Second))
	}
	if n := api.countRefreshTokens(t, l.sessionID); n != 2 {
		t.Fatalf("session has %d refresh tokens, want 2: a replay within grace issues no new one", n)
	}
	api.wantAccess(t, "access token of the replay", again.access, http.StatusOK, "")
	api.wantAccess(t, "access token of the first use", first.access, http.StatusOK, "")
	api.wantRefresh(t, "the child", first.refresh, http.StatusOK, "")
}

func TestRefreshReplayAfterGrace(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withReuseGrace(time.Second))
	id := api.newAccount(t, "Replayed")
	l := api.login(t, id, testPassword)
	other := api.login(t, id, testPassword) // another session of the account
	child := tokensOf(t, api.wantRefresh(t, "first use", l.refresh, http.StatusOK, ""))

	api.clock.Advance(2 * time.Second)
	r := api.wantRefresh(t, "replay after the grace period", l.refresh, http.StatusUnauthorized, "refresh_token_reused")
	wantClearedCookies(t, r)
	wantErrorBody(t, r, "refresh_token_reused")

	api.wantRefresh(t, "newest refresh token of the replayed session", child.refresh, http.StatusUnauthorized, "invalid_token")
	api.wantAccess(t, "access token of the child", child.access, http.StatusUnauthorized, "token_revoked")
	api.wantAccess(t, "access token of the login", l.access, http.StatusUnauthorized, "token_revoked")
	if !api.sessionRevoked(t, l.sessionID) {
		t.Fatalf("session %s has no revoked_at after a replay, want it revoked and committed", l.sessionID)
	}
	var live int
	if err := api.pool.QueryRow(t.Context(), "SELECT count(*) FROM refresh_tokens WHERE session_id = $1 AND revoked_at IS NULL",
		l.sessionID).Scan(&live); err != nil || live != 0 {
		t.Fatalf("%d refresh tokens of the replayed session are not revoked (%v), want 0", live, err)
	}
	if !strings.Contains(api.logs.String(), "event=refresh_token_reused") {
		t.Fatalf("log has no refresh_token_reused security event:\n%s", api.logs.String())
	}
	// Only that session is gone.
	api.wantAccess(t, "other session", other.access, http.StatusOK, "")
	api.wantRefresh(t, "other session", other.refresh, http.StatusOK, "")
	// Replaying again stays refused.
	api.wantRefresh(t, "second replay", l.refresh, http.StatusUnauthorized, "")
}

// TestRefreshReplayAfterLogout checks that the grace period does not bring a
// logged-out session back.
func TestRefreshReplayAfterLogout(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Resurrect")
	l := api.login(t, id, testPassword)
	child := tokensOf(t, api.wantRefresh(t, "first use", l.refresh, http.StatusOK, ""))
	wantStatus(t, api.do(t, http.MethodDelete, accountsPath+"/logout", nil, bearer(child.access)), http.StatusOK, "")
	api.wantRefresh(t, "rotated token replayed within grace after logout", l.refresh, http.StatusUnauthorized, "invalid_token")
	api.wantRefresh(t, "child after logout", child.refresh, http.StatusUnauthorized, "invalid_token")
}
