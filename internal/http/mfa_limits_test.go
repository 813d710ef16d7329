package http_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// Of racing second steps with one mfa_token and one right code, exactly one
// starts a session.
func TestTokenMFARace(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{LoginFailures: account.LockoutAfter(100, time.Minute)}))
	u := api.enableTOTP(t, "race")
	token, code := api.mfaToken(t, u.id), api.code(t, u.secret)
	const racers = 8
	statuses := make([]int, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { statuses[i] = api.finish(t, token, "code", code).Status })
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest, http.StatusUnauthorized:
		default:
			t.Fatalf("statuses %v: want one 200 and the rest 400 or 401", statuses)
		}
	}
	if ok != 1 {
		t.Fatalf("statuses %v: %d sessions started, want 1", statuses, ok)
	}
}

// Five wrong codes burn the mfa_token; the lock-out is set high here, so
// that it is the token that stops them.
func TestWrongCodesBurnTheMFAToken(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{LoginFailures: account.LockoutAfter(100, time.Minute)}))
	u := api.enableTOTP(t, "burn")
	token := api.mfaToken(t, u.id)
	for range account.MaxMFAFailures {
		wantStatus(t, api.finish(t, token, "code", api.wrongCode(t, u.secret)), http.StatusBadRequest, "invalid_mfa_code")
	}
	r := api.finish(t, token, "code", api.code(t, u.secret))
	wantStatus(t, r, http.StatusUnauthorized, "invalid_token")
	wantErrorBody(t, r, "invalid_token")
	wantStatus(t, api.finish(t, api.mfaToken(t, u.id), "code", api.code(t, u.secret)), http.StatusOK, "")
}

func TestMFATokenExpiresAfterFiveMinutes(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	u := api.enableTOTP(t, "expiry")
	token := api.mfaToken(t, u.id)
	api.clock.Advance(account.MFATokenTTL - time.Second)
	live := api.mfaToken(t, u.id)
	api.clock.Advance(time.Second)
	wantStatus(t, api.finish(t, token, "code", api.code(t, u.secret)), http.StatusUnauthorized, "invalid_token")
	wantStatus(t, api.finish(t, live, "code", api.code(t, u.secret)), http.StatusOK, "")
}

// Wrong codes count toward the account's lock-out with wrong passwords.
func TestWrongCodesCountTowardTheLockout(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{LoginFailures: account.LockoutAfter(3, time.Minute)}))
	u := api.enableTOTP(t, "lockout")
	wantStatus(t, api.do(t, http.MethodPost, accountsPath+"/token", loginForm(u.id, "wrong-password")),
		http.StatusBadRequest, "invalid_credentials")
	token := api.mfaToken(t, u.id)
	for range 2 {
		wantStatus(t, api.finish(t, token, "code", api.wrongCode(t, u.secret)), http.StatusBadRequest, "invalid_mfa_code")
	}
	r := api.finish(t, token, "code", api.code(t, u.secret))
	wantStatus(t, r, http.StatusTooManyRequests, "too_many_attempts")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	wantStatus(t, api.do(t, http.MethodPost, accountsPath+"/token", loginForm(u.id, testPassword)),
		http.StatusTooManyRequests, "too_many_attempts")
}

func TestTokenMFABadRequests(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	u := api.enableTOTP(t, "badreq")
	token := api.mfaToken(t, u.id)
	runCases(t, api, []apiCase{
		{name: "no factor", body: url.Values{"mfa_token": {token}}, wantStatus: http.StatusUnprocessableEntity,
			wantIssues: []issue{{typ: "missing", loc: []string{"body", "code"}}}},
		{name: "both factors", body: map[string]string{"mfa_token": token, "code": "123456", "recovery_code": "x"},
			wantStatus: http.StatusUnprocessableEntity, wantIssues: []issue{{typ: "value_error", loc: []string{"body", "recovery_code"}}}},
		{name: "malformed code", body: url.Values{"mfa_token": {token}, "code": {"12345"}},
			wantStatus: http.StatusUnprocessableEntity, wantIssues: []issue{{typ: "string_pattern_mismatch", loc: []string{"body", "code"}}}},
		{name: "no token", body: map[string]string{"code": "123456"}, wantStatus: http.StatusUnprocessableEntity,
			wantIssues: []issue{{typ: "missing", loc: []string{"body", "mfa_token"}}}},
		{name: "code not a string", body: `{"mfa_token": "x", "code": 123456}`, wantStatus: http.StatusUnprocessableEntity},
		{name: "text body", body: rawBody{"text/plain", []byte("hi")}, wantStatus: http.StatusUnsupportedMediaType,
			wantCode: "unsupported_media_type"},
		{name: "unknown token", body: url.Values{"mfa_token": {"nope"}, "code": {"123456"}},
			wantStatus: http.StatusUnauthorized, wantCode: "invalid_token"},
	}, http.MethodPost, tokenMFAPath)
	// None of those used the token up.
	wantStatus(t, api.finish(t, token, "code", api.code(t, u.secret)), http.StatusOK, "")
}

// The second step is limited per client address like /token, with a count
// of its own.
func TestTokenMFAPerIPLimit(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(3, time.Minute)}))
	for range 3 {
		wantStatus(t, api.finish(t, "token-"+randomHex(4), "code", "123456"), http.StatusUnauthorized, "invalid_token")
	}
	r := api.finish(t, "token-"+randomHex(4), "code", "123456")
	wantStatus(t, r, http.StatusTooManyRequests, "too_many_attempts")
	// /token keeps its own count.
	wantStatus(t, api.do(t, http.MethodPost, accountsPath+"/token", loginForm("nobody-"+randomHex(3), "wrong-password")),
		http.StatusBadRequest, "invalid_credentials")
}
