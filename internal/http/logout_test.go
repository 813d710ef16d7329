package http_test

import (
	"net/http"
	"testing"
	"time"
)

const logoutPath = accountsPath + "/logout"

// wantLoggedOut fails unless r is the 200 of a logout.
func wantLoggedOut(t *testing.T, r response) {
	t.Helper()
	wantStatus(t, r, http.StatusOK, "")
	if m := r.obj(t); len(m) != 1 || m["message"] == nil || m["message"] == "" {
		t.Fatalf("logout body = %s, want {\"message\": \"...\"}", r.Body)
	}
}

// wantSessionDead fails unless both tokens of the session are refused.
func (a *testAPI) wantSessionDead(t *testing.T, what string, l login) {
	t.Helper()
	a.wantAccess(t, what, l.access, http.StatusUnauthorized, "token_revoked")
	a.wantRefresh(t, what, l.refresh, http.StatusUnauthorized, "invalid_token")
	if !a.sessionRevoked(t, l.sessionID) {
		t.Fatalf("%s: session %s has no revoked_at", what, l.sessionID)
	}
}

// wantSessionAlive fails unless both tokens of the session work; it returns
// the session's tokens after the refresh.
func (a *testAPI) wantSessionAlive(t *testing.T, what string, l login) login {
	t.Helper()
	a.wantAccess(t, what, l.access, http.StatusOK, "")
	return tokensOf(t, a.wantRefresh(t, what, l.refresh, http.StatusOK, ""))
}

func TestLogoutLocal(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Local")
	other := api.login(t, id, testPassword)
	for _, scope := range []string{"", "?scope=local"} {
		t.Run("scope"+scope, func(t *testing.T) {
			mine := api.login(t, id, testPassword)
			r := api.do(t, http.MethodDelete, logoutPath+scope, nil, bearer(mine.access), refreshCookie(mine.refresh))
			wantLoggedOut(t, r)
			wantClearedCookies(t, r)
			api.wantSessionDead(t, "logged-out session", mine)
		})
	}
	other = api.wantSessionAlive(t, "other session of the account", other)
	api.wantSessionAlive(t, "other session, rotated", other)
}

func TestLogoutOthers(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Others")
	b := api.newBrowser(t)
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword)), http.StatusOK, "")
	second, third := api.login(t, id, testPassword), api.login(t, id, testPassword)
	stranger := api.login(t, api.newAccount(t, "Bystander"), testPassword)

	wantLoggedOut(t, b.do(t, http.MethodDelete, logoutPath+"?scope=others", nil))
	api.wantSessionDead(t, "second session", second)
	api.wantSessionDead(t, "third session", third)
	// The caller goes on with the cookies it holds.
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/me", nil), http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/refresh", nil), http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/me", nil), http.StatusOK, "")
	r := b.do(t, http.MethodGet, accountsPath+"/sessions", nil)
	if list, _ := r.JSON.([]any); len(list) != 1 || list[0].(map[string]any)["current"] != true {
		t.Fatalf("sessions after logout of the others = %s, want only the caller's", r.Body)
	}
	api.wantSessionAlive(t, "another account's session", stranger)
}

func TestLogoutGlobal(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Global")
	first, second := api.login(t, id, testPassword), api.login(t, id, testPassword)
	stranger := api.login(t, api.newAccount(t, "Bystander"), testPassword)

	r := api.do(t, http.MethodDelete, logoutPath+"?scope=global", nil, bearer(first.access))
	wantLoggedOut(t, r)
	wantClearedCookies(t, r)
	api.wantSessionDead(t, "caller's session", first)
	api.wantSessionDead(t, "other session", second)
	api.wantSessionAlive(t, "another account's session", stranger)
	// A new login still works.
	api.wantSessionAlive(t, "new login", api.login(t, id, testPassword))
}

func TestLogoutGlobalWithRefreshCookieOnly(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "GlobalCookie")
	first, second := api.login(t, id, testPassword), api.login(t, id, testPassword)
	wantLoggedOut(t, api.do(t, http.MethodDelete, logoutPath+"?scope=global", nil, refreshCookie(first.refresh)))
	api.wantSessionDead(t, "session of the cookie", first)
	api.wantSessionDead(t, "other session", second)
}

func TestLogoutInvalidScope(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Scope")
	l := api.login(t, id, testPassword)
	for _, scope := range []string{"everything", "LOCAL", "1"} {
		r := api.do(t, http.MethodDelete, logoutPath+"?scope="+scope, nil, bearer(l.access), refreshCookie(l.refresh))
		wantValidation(t, r, []issue{{"enum", []string{"query", "scope"}, ""}})
		if len(r.Cookies) != 0 {
			t.Fatalf("scope %q: refused logout set cookies %q, want none", scope, r.Header.Values("Set-Cookie"))
		}
	}
	api.wantSessionAlive(t, "session after refused logouts", l)
}

func TestLogoutWithoutTokens(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	for _, c := range []struct {
		name string
		opts []reqOpt
	}{
		{"no token", nil},
		{"garbage tokens", []reqOpt{bearer("garbage"), refreshCookie("garbage")}},
		{"garbage access cookie", []reqOpt{withCookie("access_token", "garbage")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for range 2 { // idempotent
				r := api.do(t, http.MethodDelete, logoutPath, nil, c.opts...)
				wantLoggedOut(t, r)
				wantClearedCookies(t, r)
			}
		})
	}
}

func TestLogoutTwice(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Twice")
	l := api.login(t, id, testPassword)
	other := api.login(t, id, testPassword)
	for i := range 2 {
		r := api.do(t, http.MethodDelete, logoutPath, nil, bearer(l.access), refreshCookie(l.refresh))
		wantLoggedOut(t, r)
		wantClearedCookies(t, r)
		if i == 0 {
			api.wantSessionDead(t, "after the first logout", l)
		}
	}
	api.wantSessionAlive(t, "other session", other)
}

func TestLogoutWithRefreshCookieOnly(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "CookieOnly")
	l, other := api.login(t, id, testPassword), api.login(t, id, testPassword)
	r := api.do(t, http.MethodDelete, logoutPath, nil, refreshCookie(l.refresh))
	wantLoggedOut(t, r)
	wantClearedCookies(t, r)
	api.wantSessionDead(t, "session of the refresh cookie", l)
	api.wantSessionAlive(t, "other session", other)
}

func TestLogoutWithExpiredAccessToken(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Expired")
	l := api.login(t, id, testPassword)
	api.clock.Advance(accessTTL + time.Minute)
	api.wantAccess(t, "expired access token", l.access, http.StatusUnauthorized, "token_expired")
	// The expired access token names nobody; the refresh cookie does.
	wantLoggedOut(t, api.do(t, http.MethodDelete, logoutPath, nil, bearer(l.access), refreshCookie(l.refresh)))
	api.wantRefresh(t, "refresh token after logout", l.refresh, http.StatusUnauthorized, "invalid_token")
	if !api.sessionRevoked(t, l.sessionID) {
		t.Fatalf("session %s has no revoked_at after logout", l.sessionID)
	}
}

// TestLogoutInBrowser follows a browser (or curl -b/-c) through login and
// logout: the cleared cookies leave the jar, and the next call is
// unauthenticated.
func TestLogoutInBrowser(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Jar")
	b := api.newBrowser(t)
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword)), http.StatusOK, "")
	refresh := b.cookie(t, accountsPath+"/refresh", "refresh_token")
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/me", nil), http.StatusOK, "")
	wantLoggedOut(t, b.do(t, http.MethodDelete, logoutPath, nil))
	if a, r := b.cookie(t, "/", "access_token"), b.cookie(t, accountsPath+"/refresh", "refresh_token"); a != "" || r != "" {
		t.Fatalf("jar after logout holds access_token %q and refresh_token %q, want neither", a, r)
	}
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/me", nil), http.StatusUnauthorized, "not_authenticated")
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/refresh", nil), http.StatusUnauthorized, "not_authenticated")
	api.wantRefresh(t, "refresh token kept from before the logout", refresh, http.StatusUnauthorized, "invalid_token")
}
