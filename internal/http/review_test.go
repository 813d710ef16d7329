package http_test

// Regression tests of the defects that the outside review of accountd found
// (issue 9): each failed before its fix.

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
)

const passwordPath = accountsPath + "/password"

// A stolen access token must not guess the password at bcrypt speed through
// PUT /password: it is limited per address like verify_password.
func TestChangePasswordIsLimitedPerIP(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(3, time.Minute)}))
	access := api.login(t, api.newAccount(t, "guessed"), testPassword).access
	for i := range 3 {
		r := api.do(t, http.MethodPut, passwordPath,
			map[string]string{"old_password": "guess-" + randomHex(4), "new_password": "New-Password-" + randomHex(4)}, bearer(access))
		wantStatus(t, r, http.StatusBadRequest, "invalid_password")
		_ = i
	}
	wantTooMany(t, "fourth password change from one address", api.do(t, http.MethodPut, passwordPath,
		map[string]string{"old_password": testPassword, "new_password": "New-Password-" + randomHex(4)}, bearer(access)), 1, 20)
}

// Wrong passwords on PUT /password and verify_password count toward the
// account's lock-out, as failed logins do; once locked, all three refuse
// even the right password.
func TestWrongPasswordsWhileSignedInLockTheAccount(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{LoginFailures: account.LockoutAfter(3, time.Minute)}))
	id := api.newAccount(t, "lockme")
	access := api.login(t, id, testPassword).access
	wantStatus(t, api.do(t, http.MethodPut, passwordPath,
		map[string]string{"old_password": "wrong-password-1", "new_password": "New-Password-1"}, bearer(access)),
		http.StatusBadRequest, "invalid_password")
	wantStatus(t, api.do(t, http.MethodPost, accountsPath+"/verify_password",
		map[string]string{"password": "wrong-password-2"}, bearer(access)), http.StatusBadRequest, "invalid_password")
	wantStatus(t, api.do(t, http.MethodPost, tokenRoute, loginForm(id, "wrong-password-3")),
		http.StatusBadRequest, "invalid_credentials")

	wantTooMany(t, "login with the right password", api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword)), 1, 60)
	wantTooMany(t, "verify_password with the right password", api.do(t, http.MethodPost, accountsPath+"/verify_password",
		map[string]string{"password": testPassword}, bearer(access)), 1, 60)
	wantTooMany(t, "password change with the right password", api.do(t, http.MethodPut, passwordPath,
		map[string]string{"old_password": testPassword, "new_password": "New-Password-2"}, bearer(access)), 1, 60)
}

// A refresh token rotated longer ago than the grace period is a replay,
// whatever endpoint it is presented to: at logout it revokes its own
// session and cannot end the account's other sessions.
func TestLogoutWithReplayedRefreshToken(t *testing.T) {
	t.Parallel()
	for _, scope := range []string{"global", "others"} {
		t.Run(scope, func(t *testing.T) {
			t.Parallel()
			api := newTestAPI(t, withReuseGrace(2*time.Second))
			id := api.newAccount(t, "replayed-"+scope)
			victim := api.login(t, id, testPassword)
			other := api.login(t, id, testPassword)
			rotated := tokensOf(t, api.wantRefresh(t, "first rotation", victim.refresh, http.StatusOK, ""))
			api.clock.Advance(3 * time.Second)

			r := api.do(t, http.MethodDelete, logoutPath+"?scope="+scope, nil, refreshCookie(victim.refresh))
			wantLoggedOut(t, r)
			api.wantSessionAlive(t, "the account's other session", other)
			// The replayed token's own session is revoked, as a replay at
			// /refresh would revoke it.
			api.wantSessionDead(t, "the replayed token's session", rotated)
			if !strings.Contains(api.logs.String(), "event=refresh_token_reused") {
				t.Fatalf("no refresh_token_reused event in the log:\n%s", api.logs.String())
			}
		})
	}
	t.Run("within the grace", func(t *testing.T) {
		t.Parallel()
		api := newTestAPI(t, withReuseGrace(time.Minute))
		id := api.newAccount(t, "racing-tab")
		mine, other := api.login(t, id, testPassword), api.login(t, id, testPassword)
		rotated := tokensOf(t, api.wantRefresh(t, "rotation", mine.refresh, http.StatusOK, ""))
		// A tab that still holds the parent within the grace is the
		// session's holder: its global logout works.
		wantLoggedOut(t, api.do(t, http.MethodDelete, logoutPath+"?scope=global", nil, refreshCookie(mine.refresh)))
		api.wantSessionDead(t, "the caller's session", rotated)
		api.wantSessionDead(t, "the other session", other)
	})
}

// DELETE /sessions/{id} with the id in upper case revokes the session in
// PostgreSQL; the revocation announced (and applied at once on this
// instance) must name it as every view keys it.
func TestRevokeSessionByUpperCaseID(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "uppercase")
	me, victim := api.login(t, id, testPassword), api.login(t, id, testPassword)
	r := api.do(t, http.MethodDelete, accountsPath+"/sessions/"+strings.ToUpper(victim.sessionID), nil, bearer(me.access))
	wantStatus(t, r, http.StatusOK, "")
	// At once, not after the next poll of the durable record.
	api.wantAccess(t, "the revoked session's access token right after", victim.access, http.StatusUnauthorized, "token_revoked")
}

// A disabled account's tokens authenticate nothing, and its refresh token is
// refused without being used up: enabled again, the account's session goes
// on instead of being revoked as a replay.
func TestDisabledAccountSessions(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withReuseGrace(time.Second))
	id := api.newAccount(t, "paused")
	l := api.login(t, id, testPassword)
	api.disable(t, id)

	for _, c := range []struct{ method, path string }{
		{http.MethodGet, accountsPath + "/sessions"},
		{http.MethodDelete, accountsPath + "/sessions/" + l.sessionID},
	} {
		wantStatus(t, api.do(t, c.method, c.path, nil, bearer(l.access)), http.StatusForbidden, "account_disabled")
	}
	wantStatus(t, api.refresh(t, l.refresh), http.StatusForbidden, "account_disabled")

	api.clock.Advance(2 * time.Second) // past the grace: a used token would now be a replay
	if _, err := api.pool.Exec(context.Background(), "UPDATE accounts SET disabled = false WHERE account_id = $1", id); err != nil {
		t.Fatalf("enable: %v", err)
	}
	api.wantRefresh(t, "refresh after the account is enabled again", l.refresh, http.StatusOK, "")
}

// A global logout revokes each session once: the log line, the metric and
// the announcement count the caller's session once.
func TestGlobalLogoutCountsEachSessionOnce(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "counted")
	first := api.login(t, id, testPassword)
	api.login(t, id, testPassword)
	api.login(t, id, testPassword)
	wantLoggedOut(t, api.do(t, http.MethodDelete, logoutPath+"?scope=global", nil, bearer(first.access)))
	line := regexp.MustCompile(`msg=logout .*scope=global sessions=(\d+)`).FindStringSubmatch(api.logs.String())
	if line == nil || line[1] != "3" {
		t.Fatalf("global logout of 3 sessions logged %v, want sessions=3", line)
	}
}
