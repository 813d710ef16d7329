package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
)

func deleteMe(password string) map[string]string { return map[string]string{"password": password} }

// Deleting an account revokes its sessions on every instance, including
// one started afterwards (which learns the revocations from the durable
// record, since the sessions' rows are gone), deletes its rows, and frees
// its id.
func TestDeleteMe(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	b := newTestAPI(t, sharingBackendsWith(a))
	id := a.newAccount(t, "Deleted")
	caller, other := a.login(t, id, testPassword), b.login(t, id, testPassword)
	uuid := claimsOf(t, caller.access)["sub"].(string)
	b.wantAccess(t, "caller's token on B before", caller.access, http.StatusOK, "")

	runCases(t, a, []apiCase{
		{name: "wrong password", body: deleteMe("wrong-password"), opts: []reqOpt{bearer(caller.access)},
			wantStatus: 400, wantCode: "invalid_password", secret: "wrong-password"},
		{name: "no password", body: map[string]string{}, opts: []reqOpt{bearer(caller.access)}, wantStatus: 422,
			wantIssues: []issue{{"missing", []string{"body", "password"}, "Field required"}}},
		{name: "no token", body: deleteMe(testPassword), wantStatus: 401, wantCode: "not_authenticated", secret: testPassword},
		{name: "another origin", body: deleteMe(testPassword), wantStatus: 403, wantCode: "cross_origin_rejected",
			opts: []reqOpt{bearer(caller.access), header("Origin", "https://evil.example"), header("Sec-Fetch-Site", "cross-site")}},
	}, http.MethodDelete, accountsPath+"/me")
	a.wantAccess(t, "caller after refused deletions", caller.access, http.StatusOK, "")

	r := a.do(t, http.MethodDelete, accountsPath+"/me", deleteMe(testPassword), bearer(caller.access))
	wantStatus(t, r, http.StatusOK, "")
	wantCleared(t, "deletion", r)
	for _, api := range []*testAPI{a, b} {
		api.wantAccessSoon(t, "caller's token after deletion", caller.access, http.StatusUnauthorized, "token_revoked")
		api.wantAccessSoon(t, "other session's token after deletion", other.access, http.StatusUnauthorized, "token_revoked")
		api.wantRefresh(t, "refresh token after deletion", other.refresh, http.StatusUnauthorized, "invalid_token")
	}
	// An instance that starts now has only the durable record to go by.
	c := newTestAPI(t, sharingBackendsWith(a))
	c.wantAccess(t, "token on an instance started after the deletion", other.access, http.StatusUnauthorized, "token_revoked")

	for _, q := range []string{
		"SELECT count(*) FROM accounts WHERE uuid = $1",
		"SELECT count(*) FROM sessions WHERE account_uuid = $1",
		"SELECT count(*) FROM security_events WHERE account_uuid = $1",
	} {
		var n int
		if err := a.pool.QueryRow(t.Context(), q, uuid).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s: %d (%v), want 0", q, n, err)
		}
	}
	var tombstones int
	err := a.pool.QueryRow(t.Context(), "SELECT count(*) FROM revoked_sessions WHERE session_id = ANY($1)",
		[]string{caller.sessionID, other.sessionID}).Scan(&tombstones)
	if err != nil || tombstones != 2 {
		t.Fatalf("revoked_sessions holds %d of the 2 sessions (%v)", tombstones, err)
	}

	again := b.register(t, strings.ToUpper(id), testPassword)
	if again["uuid"] == uuid {
		t.Fatal("the new account got the deleted account's uuid")
	}
	fresh := b.login(t, id, testPassword)
	a.wantAccess(t, "the new account's token", fresh.access, http.StatusOK, "")
	a.wantAccess(t, "the deleted account's token after re-registration", caller.access, http.StatusUnauthorized, "token_revoked")
}

func TestDeleteMeLimitedPerClient(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(2, time.Minute)}))
	l := api.login(t, api.newAccount(t, "delete-limited"), testPassword)
	for range 2 {
		wantStatus(t, api.do(t, http.MethodDelete, accountsPath+"/me", deleteMe("wrong-password"), bearer(l.access)),
			http.StatusBadRequest, "invalid_password")
	}
	r := api.do(t, http.MethodDelete, accountsPath+"/me", deleteMe(testPassword), bearer(l.access))
	wantStatus(t, r, http.StatusTooManyRequests, "too_many_attempts")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	api.wantAccess(t, "token after a refused deletion", l.access, http.StatusOK, "")
}

// refreshResult is one refresh of a race.
type refreshResult struct {
	status          int
	access, refresh string
}

// tryRefresh refreshes without failing the test, for goroutines.
func (a *testAPI) tryRefresh(token string) (refreshResult, error) {
	req, err := http.NewRequest(http.MethodPost, a.URL+accountsPath+"/refresh", nil)
	if err != nil {
		return refreshResult{}, err
	}
	req.AddCookie(&http.Cookie{Name: "refresh_token", Value: token})
	resp, err := a.client.Do(req)
	if err != nil {
		return refreshResult{}, err
	}
	defer resp.Body.Close()
	res := refreshResult{status: resp.StatusCode}
	if resp.StatusCode == http.StatusOK {
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return res, err
		}
		res.access = body.AccessToken
		for _, c := range resp.Cookies() {
			if c.Name == "refresh_token" {
				res.refresh = c.Value
			}
		}
	}
	return res, nil
}

// A deletion racing refreshes leaves no live token: each refresh either
// fails or is revoked by the deletion, on both instances.
func TestDeleteMeRacingRefresh(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	b := newTestAPI(t, sharingBackendsWith(a))
	for round := range 5 {
		id := a.newAccount(t, "delete-race")
		caller, raced := a.login(t, id, testPassword), a.login(t, id, testPassword)
		var (
			mu     sync.Mutex
			issued []refreshResult
			errs   []error
			wg     sync.WaitGroup
			start  = make(chan struct{})
		)
		for i := range 6 {
			api := []*testAPI{a, b}[i%2]
			wg.Go(func() {
				<-start
				token := raced.refresh
				for range 20 {
					res, err := api.tryRefresh(token)
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					} else if res.status == http.StatusOK {
						issued = append(issued, res)
					}
					mu.Unlock()
					if err != nil || res.status != http.StatusOK {
						return
					}
					token = res.refresh
				}
			})
		}
		close(start)
		r := a.do(t, http.MethodDelete, accountsPath+"/me", deleteMe(testPassword), bearer(caller.access))
		wantStatus(t, r, http.StatusOK, "")
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("round %d: refresh failed: %v", round, errs)
		}
		for _, res := range issued {
			for _, api := range []*testAPI{a, b} {
				api.wantAccessSoon(t, "access token a racing refresh got", res.access, http.StatusUnauthorized, "token_revoked")
				api.wantRefresh(t, "refresh token a racing refresh got", res.refresh, http.StatusUnauthorized, "invalid_token")
			}
		}
		var n int
		if err := a.pool.QueryRow(t.Context(), "SELECT count(*) FROM refresh_tokens WHERE session_id = $1",
			raced.sessionID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("round %d: %d refresh tokens of the deleted account's session left (%v)", round, n, err)
		}
		t.Logf("round %d: %d refreshes succeeded before the deletion won", round, len(issued))
	}
}
