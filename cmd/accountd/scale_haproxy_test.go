//go:build scale

package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/enginetest"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

// rollingShutdownDelay is SHUTDOWN_DELAY in the rolling restart: several
// times HAProxy's check interval, so that HAProxy has taken an instance out
// before its listener closes.
const rollingShutdownDelay = 2 * time.Second

// fixedInstance is an accountd at a fixed address that the test stops (as
// SIGTERM does) and starts again, as a rolling deploy does.
type fixedInstance struct {
	addr string
	env  []string
	mu   sync.Mutex
	in   *instance
}

// start runs accountd at the instance's address and waits until its
// /health answers 200.
func (f *fixedInstance) start(t *testing.T) {
	t.Helper()
	logs := &syncBuffer{}
	in := launch(append(slices.Clone(f.env), "HTTP_ADDR="+f.addr), logs)
	in.URL, in.Logs = "http://"+f.addr, logs
	if took, ok := pollUntil(20*time.Second, func() bool {
		h, _ := healthChecks(in.URL)
		return h.status == http.StatusOK
	}); !ok {
		in.stop()
		t.Fatalf("accountd at %s not healthy %v after start\nlogs:\n%s", f.addr, took, tail(in.Logs.String(), 3000))
	}
	f.mu.Lock()
	f.in = in
	f.mu.Unlock()
}

// stop cancels accountd's context, as SIGTERM does, and waits until run
// returns: after SHUTDOWN_DELAY and the drain.
func (f *fixedInstance) stop(t *testing.T) *instance {
	t.Helper()
	f.mu.Lock()
	in := f.in
	f.in = nil
	f.mu.Unlock()
	if in == nil {
		return nil
	}
	in.stop()
	if err, ok := in.wait(30 * time.Second); !ok {
		t.Errorf("accountd at %s did not stop within 30s", f.addr)
	} else if err != nil {
		t.Errorf("accountd at %s: run returned %v on shutdown, want nil", f.addr, err)
	}
	return in
}

// TestRollingRestartBehindHAProxy runs three instances behind HAProxy
// (checking /health every 250 ms, never retrying a request on another
// instance) on PgBouncer and one Redis, and restarts them one after another
// under steady load through HAProxy: SHUTDOWN_DELAY lets HAProxy take each
// instance out before its listener closes, so every response is a 2xx; and
// throughout, a logout on one instance is refused on every other running
// instance within one second.
func TestRollingRestartBehindHAProxy(t *testing.T) {
	t.Parallel()
	b := enginetest.StartPgBouncer(t, pgtest.ServerURL())
	env := append(pgbouncerEnv(t, b), "RATE_LIMIT_IP_REQUESTS=1000000", "LOG_LEVEL=info",
		"SHUTDOWN_DELAY="+rollingShutdownDelay.String(), "REQUEST_TIMEOUT="+faultTimeout.String())
	instances := make([]*fixedInstance, 3)
	addrs := make([]string, 3)
	for i := range instances {
		addrs[i] = freeAddr(t)
		instances[i] = &fixedInstance{addr: addrs[i], env: env}
		instances[i].start(t)
	}
	t.Cleanup(func() {
		for _, f := range instances {
			f.stop(t)
		}
	})
	// No retries: only the instances' draining keeps requests from failing.
	h := enginetest.StartHAProxy(t, addrs, enginetest.HAProxyOptions{Retry: false})
	if _, ok := pollUntil(10*time.Second, func() bool { o, _ := healthChecks(h.URL()); return o.status == http.StatusOK }); !ok {
		t.Fatalf("HAProxy does not answer /health with 200\n%s", h.Proc.Output())
	}
	time.Sleep(3 * enginetest.HAProxyCheckInterval) // every backend checked up

	users := newLoadUsers(t, h.URL(), 8)
	rec := newOutcomeLog()
	ld := startLoad(h.URL(), loadOptions{users: users, think: 10 * time.Millisecond, maxRequests: 1 << 20,
		maxDuration: 2 * time.Minute, refreshPct: 30, logoutPct: 8, loginPct: 4, record: rec.add})
	t.Cleanup(ld.Stop)
	warmUp(t, rec, 50)

	// Throughout the restarts, a prober logs out on one running instance
	// and checks that every other running instance refuses the token
	// within a second.
	probeUser := newLoadUsers(t, h.URL(), 1)[0]
	stopProbe := make(chan struct{})
	probed := make(chan int, 1)
	go func() { probed <- probeRevocations(t, h.URL(), probeUser, instances, stopProbe) }()

	for i, f := range instances {
		old := f.stop(t)
		checkLogClean(t, old)
		f.start(t)
		t.Logf("instance %d restarted", i+1)
		time.Sleep(3 * enginetest.HAProxyCheckInterval) // HAProxy checks it up
	}
	time.Sleep(time.Second)
	close(stopProbe)
	n := <-probed
	ld.Stop()
	t.Logf("%d logouts checked on the other instances during the rolling restart", n)
	if n < 5 {
		t.Errorf("only %d logouts were checked during the restart, want several", n)
	}
	checkLoad(t, rec, faultTimeout, time.Time{}, time.Time{})
	for _, f := range instances {
		checkLogClean(t, f.in)
	}
}

// probeRevocations repeats, until stop: log in through the balancer, log
// out on one running instance, and check every other running instance
// refuses the access token within a second. An instance that refuses the
// connection is stopped (mid-restart) and not asked. It returns how many
// logouts it checked.
func probeRevocations(t *testing.T, balancer string, u *loadUser, instances []*fixedInstance, stop chan struct{}) int {
	checked := 0
	for k := 0; ; k++ {
		select {
		case <-stop:
			return checked
		default:
		}
		access, o := loginToken(balancer, u)
		if access == "" {
			t.Errorf("prober: login through the balancer: %s, want 200", o)
			return checked
		}
		from := instances[k%len(instances)]
		o, _ = probeRequest(opLogout, http.MethodDelete, "http://"+from.addr+"/api/v1/accounts/logout",
			"Authorization", "Bearer "+access)
		if o.err != nil {
			continue // that instance is mid-restart
		}
		if o.status != http.StatusOK {
			t.Errorf("prober: logout on %s: %s, want 200", from.addr, o)
			continue
		}
		loggedOut := time.Now()
		for _, other := range instances {
			if other == from {
				continue
			}
			var last outcome
			_, ok := pollUntil(time.Second, func() bool {
				last = probeMe("http://"+other.addr, access)
				return last.err != nil || last.status == http.StatusUnauthorized
			})
			if !ok {
				t.Errorf("prober: a logout on %s still not refused on %s %v later: %s",
					from.addr, other.addr, time.Since(loggedOut).Round(time.Millisecond), last)
			}
		}
		checked++
	}
}

// loginToken logs in as u at base and returns the access token ("" when
// the login failed) and the outcome.
func loginToken(base string, u *loadUser) (string, outcome) {
	o := outcome{op: opLogin, start: time.Now()}
	resp, err := probeClient.Post(base+"/api/v1/accounts/token", formType, strings.NewReader(loginBody(u.id, u.password)))
	o.end = time.Now()
	if err != nil {
		o.err = err
		return "", o
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Code        string `json:"code"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	o.status, o.code = resp.StatusCode, body.Code
	if o.status != http.StatusOK {
		return "", o
	}
	return body.AccessToken, o
}
