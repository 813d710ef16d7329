package http_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	accounthttp "github.com/accountd/accountd/internal/http"
)

// Behind a proxy that sets X-Real-IP and passes the client's own
// X-Forwarded-For through, CLIENT_IP_HEADER=X-Real-IP counts and records the
// client under the proxy's word, not under the address the client picked.
func TestRealIPHeaderIgnoresForwardedFor(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(5, time.Minute)}), withTrustedProxies("127.0.0.0/8"), withClientIPHeader(accounthttp.RealIP))
	id := api.newAccount(t, "realip")
	var first login
	for n := 1; n <= 3; n++ {
		l := api.login(t, id, testPassword,
			header("X-Real-IP", "203.0.113.7"), header("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", n)))
		if n == 1 {
			first = l
		}
	}
	if keys := api.redisKeys(t, "rate:ip:token:*"); !slices.Equal(keys, []string{"rate:ip:token:203.0.113.7"}) {
		t.Fatalf("per-IP keys = %v, want only the proxy's word rate:ip:token:203.0.113.7", keys)
	}
	if ip := sessionIP(t, api, first.access); ip != "203.0.113.7" {
		t.Fatalf("session ip_address = %q, want 203.0.113.7", ip)
	}
}

// CLIENT_IP_HEADER=none uses the peer address even when it is a trusted
// proxy: no header is believed.
func TestNoClientIPHeaderUsesThePeer(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(5, time.Minute)}), withTrustedProxies("127.0.0.0/8"), withClientIPHeader(accounthttp.NoClientIPHeader))
	id := api.newAccount(t, "noheader")
	l := api.login(t, id, testPassword, header("X-Real-IP", "203.0.113.7"), header("X-Forwarded-For", "198.51.100.1"))
	if keys := api.redisKeys(t, "rate:ip:token:*"); !slices.Equal(keys, []string{"rate:ip:token:127.0.0.1"}) {
		t.Fatalf("per-IP keys = %v, want only the peer's rate:ip:token:127.0.0.1", keys)
	}
	if ip := sessionIP(t, api, l.access); ip != "127.0.0.1" {
		t.Fatalf("session ip_address = %q, want the peer 127.0.0.1", ip)
	}
}

// A client that a trusted proxy names by something other than an address
// is limited under that name: not in the proxy's own bucket, which would
// let a few such clients lock out everybody behind the proxy, and not under
// an address of the client's choosing.
func TestGarbageForwardedHopIsItsOwnBucket(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(2, time.Minute)}), withTrustedProxies("127.0.0.0/8"))
	id := api.newAccount(t, "garbage")
	// What the client wrote (left) is ignored; the proxy wrote the rest.
	named := func(name string) reqOpt { return header("X-Forwarded-For", "198.51.100.1, "+name) }

	l := api.login(t, id, testPassword, named("unknown-a"))
	api.login(t, id, testPassword, named("unknown-a"))
	wantTooMany(t, "third login of the client named unknown-a",
		api.do(t, http.MethodPost, tokenRoute, loginForm(id, testPassword), named("unknown-a")), 1, 60)
	api.login(t, id, testPassword, named("unknown-b"))
	api.login(t, id, testPassword) // the proxy itself

	keys := api.redisKeys(t, "rate:ip:token:*")
	aliases := 0
	for _, k := range keys {
		switch {
		case regexp.MustCompile(`^rate:ip:token:alias:[0-9a-f]{16}$`).MatchString(k):
			aliases++
		case k != "rate:ip:token:127.0.0.1":
			t.Errorf("per-IP key %q, want only the two named clients' and the proxy's", k)
		}
	}
	if aliases != 2 || len(keys) != 3 {
		t.Fatalf("per-IP keys = %v, want one per named client (2) and the proxy's", keys)
	}
	if ip := sessionIP(t, api, l.access); ip != "" {
		t.Fatalf("session ip_address = %q, want none for a client without an address", ip)
	}
}
