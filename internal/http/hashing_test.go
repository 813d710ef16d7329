package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
)

// Every login attempt that gets as far as the password costs exactly one
// bcrypt comparison, whether or not the account exists, so that response
// time does not tell which accounts exist.
func TestEveryLoginPaysOneComparison(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "known")
	cases := []struct {
		name, username, password string
		status                   int
	}{
		{"unknown account", newAccountID("unknown"), testPassword, http.StatusBadRequest},
		{"wrong password", id, "wrong-password", http.StatusBadRequest},
		{"account id that cannot exist", "x", testPassword, http.StatusBadRequest},
		{"password over 72 bytes", id, strings.Repeat("p", 100), http.StatusBadRequest},
		{"unknown account, password over 72 bytes", newAccountID("unknown"), strings.Repeat("p", 100), http.StatusBadRequest},
		{"right password", strings.ToUpper(id), testPassword, http.StatusOK},
	}
	for _, c := range cases {
		before := api.hasher.Compares()
		r := api.do(t, http.MethodPost, tokenRoute, loginForm(c.username, c.password))
		if r.Status != c.status {
			t.Fatalf("%s: status = %d, want %d (body %s)", c.name, r.Status, c.status, r.Body)
		}
		if n := api.hasher.Compares() - before; n != 1 {
			t.Fatalf("%s: %d bcrypt comparisons, want 1", c.name, n)
		}
	}
}

// A locked-out account id is refused before any bcrypt work: a flood of
// guesses at one account cannot tie up the hash slots.
func TestLockedOutLoginCostsNoComparison(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{LoginFailures: account.LockoutAfter(2, time.Minute)}))
	for _, id := range []string{api.newAccount(t, "known"), newAccountID("unknown")} {
		for range 2 {
			wantStatus(t, api.do(t, http.MethodPost, tokenRoute, loginForm(id, "wrong-password")),
				http.StatusBadRequest, "invalid_credentials")
		}
		before := api.hasher.Compares()
		// About the minute of the lockout; generous, for a busy machine.
		wantTooMany(t, "locked out", api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword)), 30, 60)
		if n := api.hasher.Compares() - before; n != 0 {
			t.Fatalf("locked-out login made %d bcrypt comparisons, want 0", n)
		}
	}
}

// With every hash slot taken, endpoints that need no bcrypt still answer,
// and those that do give up after the queue timeout with 503, well before
// the request timeout.
func TestFullHashSlotsDoNotStarveOtherEndpoints(t *testing.T) {
	t.Parallel()
	const queueTimeout = 300 * time.Millisecond
	api := newTestAPI(t, withHashSlots(1), withQueueTimeout(queueTimeout))
	id := api.newAccount(t, "busy")
	l := api.login(t, id, testPassword)

	release, err := api.hasher.Hold(context.Background())
	if err != nil {
		t.Fatalf("Hold: %v", err)
	}
	defer release()

	timed := func(send func() response) (response, time.Duration) {
		start := time.Now()
		r := send()
		return r, time.Since(start)
	}
	// The slot stays held: a request that waited for it would get 503
	// after the queue timeout, so a 200 shows it never queued (how long it
	// took says nothing on a busy machine).
	wantStatus(t, api.me(t, l.access), http.StatusOK, "")
	wantStatus(t, api.refresh(t, l.refresh), http.StatusOK, "")

	for _, send := range []struct {
		what string
		do   func() response
	}{
		{"POST /token", func() response { return api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword)) }},
		{"POST /", func() response {
			return api.do(t, http.MethodPost, accountsPath+"/",
				map[string]string{"account_id": newAccountID("queued"), "password": testPassword})
		}},
		{"POST /verify_password", func() response {
			return api.do(t, http.MethodPost, accountsPath+"/verify_password",
				map[string]string{"password": testPassword}, bearer(l.access))
		}},
	} {
		r, took := timed(send.do)
		wantUnavailable(t, send.what+" with the hash slots full", r)
		if took < queueTimeout || took >= requestTimeout {
			t.Fatalf("%s answered 503 after %v, want after the queue timeout %v and before the request timeout %v",
				send.what, took, queueTimeout, requestTimeout)
		}
	}

	release()
	api.login(t, id, testPassword)
}
