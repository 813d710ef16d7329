package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file is the load that the fault tests and the soak run against an
// accountd: simulated users that log in, refresh (feeding each new refresh
// token forward), call /me and log out, as a browser or a mobile app would.

// The operations of the load, named as in the summaries.
const (
	opLogin   = "login"
	opRefresh = "refresh"
	opMe      = "me"
	opLogout  = "logout"
)

// outcome is one request of the load and what came back.
type outcome struct {
	op         string
	start, end time.Time
	status     int    // 0 when no response came
	code       string // the code of an error body
	retryAfter string
	err        error // why no response came
}

func (o outcome) took() time.Duration { return o.end.Sub(o.start) }

// overlaps reports whether the request was in flight at some time in [from, to].
func (o outcome) overlaps(from, to time.Time) bool { return !o.end.Before(from) && !o.start.After(to) }

func (o outcome) String() string {
	what := fmt.Sprintf("%d %s", o.status, o.code)
	if o.err != nil {
		what = "error: " + o.err.Error()
	}
	return fmt.Sprintf("%s at %s took %v: %s", o.op, o.start.Format("15:04:05.000"), o.took().Round(time.Millisecond), what)
}

// loadUser is one simulated client: an account and the tokens of its
// current session. Only its worker touches it while the load runs.
type loadUser struct {
	id, password    string
	access, refresh string // empty while logged out
	// retry is the operation to repeat before anything else: a refresh or
	// a logout that got a 503 may have gone through or not, and a careful
	// client repeats it (refresh is idempotent within REFRESH_REUSE_GRACE,
	// logout always is) rather than guess.
	retry string
}

// loadOptions shape a load.
type loadOptions struct {
	users []*loadUser
	// think is the pause between two requests of one user.
	think time.Duration
	// maxRequests and maxDuration bound each user's loop.
	maxRequests int
	maxDuration time.Duration
	// refreshPct, logoutPct and loginPct are how often, in percent, a
	// logged-in user refreshes, logs out, or logs in again as if from
	// another device (leaving the old session be); it calls /me otherwise.
	refreshPct, logoutPct, loginPct int
	// noKeepAlive opens a connection per request.
	noKeepAlive bool
	// record is told every outcome, concurrently from the users' goroutines.
	record func(outcome)
}

// load runs one goroutine per user until Stop or its bounds.
type load struct {
	base string
	http *http.Client
	opts loadOptions
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// startLoad starts the users of opts against the accountd at base.
func startLoad(base string, opts loadOptions) *load {
	transport := &http.Transport{
		MaxIdleConnsPerHost: len(opts.users),
		DisableKeepAlives:   opts.noKeepAlive,
	}
	// The client's timeout only bounds the loop; a request that takes
	// longer than REQUEST_TIMEOUT is already a failure of the test.
	l := &load{base: base, http: &http.Client{Transport: transport, Timeout: 20 * time.Second},
		opts: opts, stop: make(chan struct{})}
	for i, u := range opts.users {
		l.wg.Add(1)
		go l.run(u, uint64(i)+uint64(time.Now().UnixNano()))
	}
	return l
}

// Stop ends the load and waits for the requests in flight. Calling it
// again does nothing.
func (l *load) Stop() {
	l.once.Do(func() { close(l.stop) })
	l.wg.Wait()
	l.http.CloseIdleConnections()
}

func (l *load) run(u *loadUser, seed uint64) {
	defer l.wg.Done()
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	deadline := time.Now().Add(l.opts.maxDuration)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for i := 0; i < l.opts.maxRequests && time.Now().Before(deadline); i++ {
		select {
		case <-l.stop:
			return
		default:
		}
		wait := l.opts.think
		if l.step(u, rng) == http.StatusServiceUnavailable {
			wait *= 5 // a client backs off a little after a 503
		}
		pause.Reset(wait)
		select {
		case <-l.stop:
			return
		case <-pause.C:
		}
	}
}

// step makes the user's next request and returns its status.
func (l *load) step(u *loadUser, rng *rand.Rand) int {
	n := rng.IntN(100)
	switch {
	case u.retry == opLogout:
		// Its access token may be revoked already: it only logs out.
		return l.logout(u)
	case u.access == "":
		return l.login(u)
	case u.retry == opRefresh && n%2 == 0:
		return l.refreshSession(u)
	case n < l.opts.logoutPct:
		return l.logout(u)
	case n < l.opts.logoutPct+l.opts.refreshPct:
		return l.refreshSession(u)
	case n < l.opts.logoutPct+l.opts.refreshPct+l.opts.loginPct:
		return l.login(u)
	default:
		return l.me(u)
	}
}

func (l *load) login(u *loadUser) int {
	o, body, cookies := l.send(opLogin, http.MethodPost, "/token", formType, loginBody(u.id, u.password))
	if o.status == http.StatusOK {
		u.access, _ = body["access_token"].(string)
		u.refresh = cookieNamed(cookies, "refresh_token")
		u.retry = ""
	}
	return o.status
}

func (l *load) refreshSession(u *loadUser) int {
	o, body, cookies := l.send(opRefresh, http.MethodPost, "/refresh", "", "", "Cookie", "refresh_token="+u.refresh)
	switch o.status {
	case http.StatusOK:
		u.access, _ = body["access_token"].(string)
		u.refresh = cookieNamed(cookies, "refresh_token")
		u.retry = ""
	case http.StatusServiceUnavailable:
		u.retry = opRefresh
	default: // the session is gone; the test says whether that was expected
		u.access, u.refresh, u.retry = "", "", ""
	}
	return o.status
}

func (l *load) me(u *loadUser) int {
	o, _, _ := l.send(opMe, http.MethodGet, "/me", "", "", "Authorization", "Bearer "+u.access)
	return o.status
}

func (l *load) logout(u *loadUser) int {
	o, _, _ := l.send(opLogout, http.MethodDelete, "/logout", "", "",
		"Authorization", "Bearer "+u.access, "Cookie", "refresh_token="+u.refresh)
	if o.status == http.StatusServiceUnavailable {
		u.retry = opLogout
	} else {
		u.access, u.refresh, u.retry = "", "", ""
	}
	return o.status
}

// send makes one request under /api/v1/accounts, records its outcome and
// returns it with the decoded JSON body and the cookies set.
func (l *load) send(op, method, path, contentType, body string, header ...string) (outcome, map[string]any, []*http.Cookie) {
	o := outcome{op: op, start: time.Now()}
	defer func() { l.opts.record(o) }()
	req, err := http.NewRequest(method, l.base+"/api/v1/accounts"+path, strings.NewReader(body))
	if err != nil {
		o.end, o.err = time.Now(), err
		return o, nil, nil
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := l.http.Do(req)
	if err != nil {
		o.end, o.err = time.Now(), err
		return o, nil, nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	o.end = time.Now()
	if err != nil {
		o.err = fmt.Errorf("read body of %d: %w", resp.StatusCode, err)
		return o, nil, nil
	}
	o.status, o.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		o.code, _ = m["code"].(string)
	}
	return o, m, resp.Cookies()
}

func cookieNamed(cookies []*http.Cookie, name string) string {
	for _, c := range cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// newLoadUsers registers n accounts through the API and returns their users,
// logged out.
func newLoadUsers(t *testing.T, base string, n int) []*loadUser {
	t.Helper()
	c := newClient(t)
	users := make([]*loadUser, n)
	for i := range users {
		u := &loadUser{id: randomSecret(fmt.Sprintf("load%d", i)), password: randomSecret("pw")}
		st, body, _ := c.do(http.MethodPost, base+"/api/v1/accounts/", jsonType, registerBody(u.id, u.password))
		wantStatus(t, "register "+u.id, st, http.StatusCreated, body)
		users[i] = u
	}
	return users
}
