package http_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
)

const tokenRoute = accountsPath + "/token"

func TestLoginFailuresLockTheAccountID(t *testing.T) {
	t.Parallel()
	// The failures and the refused login must all come within the window,
	// however slow the machine: a generous one.
	const window = 10 * time.Second
	api := newTestAPI(t, withLimits(account.Limits{LoginFailures: account.LockoutAfter(3, window)}))
	id := api.newAccount(t, "locked")
	bystander := api.newAccount(t, "bystander")

	first := time.Now()
	for i := range 3 {
		r := api.do(t, http.MethodPost, tokenRoute, loginForm(id, "wrong-password"))
		wantStatus(t, r, http.StatusBadRequest, "invalid_credentials")
		if i == 0 {
			first = time.Now()
		}
	}
	// The right password, in another case: still locked for the window.
	r := api.do(t, http.MethodPost, tokenRoute, loginForm(strings.ToUpper(id), testPassword))
	wantTooMany(t, "right password after 3 failures", r, 1, int(window/time.Second))
	wantNoSecret(t, "429 body", r.Body, testPassword)
	// Other accounts are not affected.
	api.login(t, bystander, testPassword)

	// An unknown account locks the same way, so a 429 tells nothing.
	ghost := newAccountID("ghost")
	for range 3 {
		wantStatus(t, api.do(t, http.MethodPost, tokenRoute, loginForm(ghost, "wrong-password")),
			http.StatusBadRequest, "invalid_credentials")
	}
	wantTooMany(t, "unknown account after 3 failures", api.do(t, http.MethodPost, tokenRoute, loginForm(ghost, "x-password")),
		1, int(window/time.Second))

	time.Sleep(time.Until(first.Add(window + 100*time.Millisecond)))
	api.login(t, id, testPassword)
}

func TestSuccessfulLoginsDoNotCount(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{LoginFailures: account.LockoutAfter(3, time.Minute)}))
	id := api.newAccount(t, "regular")
	for range 6 {
		api.login(t, id, testPassword)
	}
	for range 2 {
		wantStatus(t, api.do(t, http.MethodPost, tokenRoute, loginForm(id, "wrong-password")),
			http.StatusBadRequest, "invalid_credentials")
	}
	api.login(t, id, testPassword)
	api.login(t, id, testPassword)
}

func TestLimitsCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(0, time.Minute), LoginFailures: account.LockoutAfter(0, time.Minute)}))
	id := api.newAccount(t, "unlimited")
	for range 12 {
		wantStatus(t, api.do(t, http.MethodPost, tokenRoute, loginForm(id, "wrong-password")),
			http.StatusBadRequest, "invalid_credentials")
	}
	api.login(t, id, testPassword)
	if keys := api.redisKeys(t, "rate:*"); len(keys) != 0 {
		t.Fatalf("limits that are off stored keys %v", keys)
	}
}

// ipLimitedCase is one endpoint behind the per-IP limit: send makes the
// n-th request, which the limit lets through with status ok; access is an
// access token when needsLogin.
type ipLimitedCase struct {
	name       string
	ok         int
	needsLogin bool
	send       func(t *testing.T, api *testAPI, n int, access string) response
}

func TestPerIPLimits(t *testing.T) {
	t.Parallel()
	// 3 per window refills one request every window/3: the four requests
	// of a round must come within those 5s, however slow the machine
	// (registrations took longer than the 500ms of a 1.5s window once).
	const window = 15 * time.Second
	cases := []ipLimitedCase{
		{"token", http.StatusBadRequest, false, func(t *testing.T, api *testAPI, n int, _ string) response {
			return api.do(t, http.MethodPost, tokenRoute, loginForm(fmt.Sprintf("nobody-%d", n), "wrong-password"))
		}},
		{"register", http.StatusCreated, false, func(t *testing.T, api *testAPI, _ int, _ string) response {
			return api.do(t, http.MethodPost, accountsPath+"/",
				map[string]string{"account_id": newAccountID("reg"), "password": testPassword})
		}},
		{"exist", http.StatusOK, false, func(t *testing.T, api *testAPI, n int, _ string) response {
			return api.do(t, http.MethodGet, fmt.Sprintf("%s/exist/someone-%d", accountsPath, n), nil)
		}},
		{"verify_password", http.StatusOK, true, func(t *testing.T, api *testAPI, _ int, access string) response {
			return api.do(t, http.MethodPost, accountsPath+"/verify_password",
				map[string]string{"password": testPassword}, bearer(access))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(3, window)}))
			var access string
			if c.needsLogin {
				access = api.login(t, api.newAccount(t, "holder"), testPassword).access
			}
			for round := range 2 {
				for i := range 3 {
					wantStatus(t, c.send(t, api, round*10+i, access), c.ok, "")
				}
				wantTooMany(t, fmt.Sprintf("request 4 of round %d", round+1), c.send(t, api, round*10+3, access),
					1, int(window/3/time.Second))
				if round == 0 {
					time.Sleep(window + 50*time.Millisecond) // the whole window: the burst is back
				}
			}
		})
	}
	t.Run("counts are per endpoint", func(t *testing.T) {
		t.Parallel()
		api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(2, time.Minute)}))
		id := api.newAccount(t, "per-endpoint")
		for range 2 {
			wantStatus(t, api.do(t, http.MethodGet, accountsPath+"/exist/"+id, nil), http.StatusOK, "")
		}
		// Retry-After: up to the 30s that refill one request, counted from
		// the first; generous, for a busy machine.
		wantTooMany(t, "third exist", api.do(t, http.MethodGet, accountsPath+"/exist/"+id, nil), 15, 30)
		api.login(t, id, testPassword)
		api.login(t, id, testPassword)
		// Even the right password is refused once the address is over the limit.
		wantTooMany(t, "third login", api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword)), 15, 30)
	})
}

func TestLimitsHoldAcrossInstances(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(4, time.Minute), LoginFailures: account.LockoutAfter(3, time.Minute)}))
	b := newTestAPI(t, sharingBackendsWith(a), withLimits(account.Limits{PerIP: account.PerWindow(4, time.Minute), LoginFailures: account.LockoutAfter(3, time.Minute)}))
	id := a.newAccount(t, "shared")
	for i, api := range []*testAPI{a, b, a} {
		wantStatus(t, api.do(t, http.MethodPost, tokenRoute, loginForm(id, fmt.Sprintf("wrong-password-%d", i))),
			http.StatusBadRequest, "invalid_credentials")
	}
	// Retry-After counts down the lockout's minute from the first failure
	// (the per-IP limit would say at most 15s): a generous lower bound.
	wantTooMany(t, "instance B after failures on A and B", b.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword)), 30, 60)

	for _, api := range []*testAPI{a, b, a, b} {
		wantStatus(t, api.do(t, http.MethodGet, accountsPath+"/exist/"+id, nil), http.StatusOK, "")
	}
	wantTooMany(t, "fifth exist, on A", a.do(t, http.MethodGet, accountsPath+"/exist/"+id, nil), 1, 15)
}

// A client that is not a trusted proxy cannot pick the address it is
// counted and recorded under by sending X-Forwarded-For or X-Real-IP.
func TestSpoofedForwardedForIsIgnored(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(3, time.Minute)}))
	id := api.newAccount(t, "spoofer")
	spoof := func(n int) []reqOpt {
		ip := fmt.Sprintf("198.51.100.%d", n)
		return []reqOpt{header("X-Forwarded-For", ip), header("X-Real-IP", ip)}
	}
	l := api.login(t, id, testPassword, spoof(1)...)
	for n := 2; n <= 3; n++ {
		wantStatus(t, api.do(t, http.MethodPost, tokenRoute, loginForm(id, "wrong-password"), spoof(n)...),
			http.StatusBadRequest, "invalid_credentials")
	}
	wantTooMany(t, "fourth login with yet another spoofed address",
		api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword), spoof(4)...), 1, 20)

	if keys := api.redisKeys(t, "rate:ip:token:*"); !slices.Equal(keys, []string{"rate:ip:token:127.0.0.1"}) {
		t.Fatalf("per-IP keys = %v, want only the peer's rate:ip:token:127.0.0.1", keys)
	}
	if ip := sessionIP(t, api, l.access); ip != "127.0.0.1" {
		t.Fatalf("session ip_address = %q, want the peer 127.0.0.1", ip)
	}
}

// Behind a trusted proxy, the client is the rightmost address of
// X-Forwarded-For that is not a trusted proxy.
func TestForwardedForFromTrustedProxy(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(3, time.Minute)}), withTrustedProxies("127.0.0.0/8", "10.0.0.0/8"))
	id := api.newAccount(t, "proxied")
	var first login
	for n := 1; n <= 5; n++ {
		// The leftmost hop is whatever the client claimed; 10.0.0.2 is an
		// inner trusted proxy.
		xff := fmt.Sprintf("192.0.2.99, 203.0.113.%d, 10.0.0.2", n)
		l := api.login(t, id, testPassword, header("X-Forwarded-For", xff))
		if n == 1 {
			first = l
		}
	}
	keys := api.redisKeys(t, "rate:ip:token:*")
	slices.Sort(keys)
	want := []string{"rate:ip:token:203.0.113.1", "rate:ip:token:203.0.113.2", "rate:ip:token:203.0.113.3",
		"rate:ip:token:203.0.113.4", "rate:ip:token:203.0.113.5"}
	if !slices.Equal(keys, want) {
		t.Fatalf("per-IP keys = %v, want %v", keys, want)
	}
	if ip := sessionIP(t, api, first.access); ip != "203.0.113.1" {
		t.Fatalf("session ip_address = %q, want the forwarded client 203.0.113.1", ip)
	}
}

// sessionIP returns the ip_address of the caller's current session.
func sessionIP(t *testing.T, api *testAPI, access string) string {
	t.Helper()
	r := api.do(t, http.MethodGet, accountsPath+"/sessions", nil, bearer(access))
	wantStatus(t, r, http.StatusOK, "")
	list, _ := r.JSON.([]any)
	for _, s := range list {
		m, _ := s.(map[string]any)
		if m["current"] == true {
			ip, _ := m["ip_address"].(string)
			return ip
		}
	}
	t.Fatalf("no current session in %s", r.Body)
	return ""
}

// With Redis down the limits fail closed: 503, never a 500 and never a
// login that skipped its checks.
func TestLimitsWithRedisDown(t *testing.T) {
	t.Parallel()
	healthy := newTestAPI(t)
	id := healthy.newAccount(t, "redis-down")
	api := newTestAPI(t, withRedisAddr(closedAddr(t)), sharingBackendsWith(healthy), withLimits(account.Limits{PerIP: account.PerWindow(60, time.Minute), LoginFailures: account.LockoutAfter(5, 15*time.Minute)}))
	wantUnavailable(t, "POST /token", api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword)))
	wantUnavailable(t, "GET /exist", api.do(t, http.MethodGet, accountsPath+"/exist/"+id, nil))
	wantUnavailable(t, "POST /", api.do(t, http.MethodPost, accountsPath+"/",
		map[string]string{"account_id": newAccountID("nope"), "password": testPassword}))

	// The per-account check alone fails closed too.
	api = newTestAPI(t, withRedisAddr(closedAddr(t)), sharingBackendsWith(healthy), withLimits(account.Limits{LoginFailures: account.LockoutAfter(5, 15*time.Minute)}))
	wantUnavailable(t, "POST /token, per-account limit only", api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword)))
}
