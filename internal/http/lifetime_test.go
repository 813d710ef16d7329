package http_test

import (
	"net/http"
	"testing"
	"time"
)

// A session ends SESSION_MAX_LIFETIME after its login: the refresh cookie's
// Max-Age never reaches past it, and a refresh after it is 401
// session_expired with the cookies cleared.
func TestSessionMaxLifetime(t *testing.T) {
	t.Parallel()
	const lifetime = 10 * 24 * time.Hour
	api := newTestAPI(t, withSessionMaxLifetime(lifetime))
	id := api.newAccount(t, "lifetime")
	l := api.login(t, id, testPassword)
	if c := l.resp.cookie("refresh_token"); c == nil || c.MaxAge != int(refreshTTL/time.Second) {
		t.Fatalf("login's refresh cookie = %v, want Max-Age %d", c, int(refreshTTL/time.Second))
	}

	api.clock.Advance(6 * 24 * time.Hour)
	r := api.wantRefresh(t, "refresh 4 days before the session ends", l.refresh, http.StatusOK, "")
	// A few seconds of test time pass between the login and this check.
	if c := r.cookie("refresh_token"); c == nil || c.MaxAge > int(4*24*time.Hour/time.Second) ||
		c.MaxAge < int(4*24*time.Hour/time.Second)-60 {
		t.Fatalf("refresh cookie 4 days before the end = %v, want Max-Age of about 4 days", c)
	}

	api.clock.Advance(4 * 24 * time.Hour)
	r = api.refresh(t, tokensOf(t, r).refresh)
	wantStatus(t, r, http.StatusUnauthorized, "session_expired")
	wantErrorBody(t, r, "session_expired")
	wantClearedCookies(t, r)
}
