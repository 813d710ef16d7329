package http_test

import (
	"net/http"
	"testing"
	"time"
)

// TestMeServesCachedProfile shows that /me is served from the profile
// cache (no database query per request) and that the one mutable field,
// disabled, shows there within the cache's five seconds.
func TestMeServesCachedProfile(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Cached")
	l := api.login(t, id, testPassword)

	api.wantAccess(t, "first /me", l.access, http.StatusOK, "")
	api.disable(t, id)
	// Within the TTL the cached profile answers: the database is not asked.
	api.wantAccess(t, "/me right after the account was disabled", l.access, http.StatusOK, "")
	api.clock.Advance(6 * time.Second)
	api.wantAccess(t, "/me once the cached profile is stale", l.access, http.StatusForbidden, "account_disabled")
	// Refresh never trusts the cache.
	wantStatus(t, api.refresh(t, l.refresh), http.StatusForbidden, "account_disabled")
}
