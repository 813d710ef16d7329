package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/enginetest"
	"github.com/accountd/accountd/internal/postgres/pgtest"
	"github.com/accountd/accountd/internal/redis/redistest"
	"github.com/accountd/accountd/internal/security"
)

// syncBuffer is a bytes.Buffer that the server may write while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is one accountd started by run in this process.
type instance struct {
	URL  string
	Logs *syncBuffer
	stop context.CancelFunc
	done chan struct{} // closed when run has returned, err set
	err  error
	// listening gets the address of each "... listening" log line, by
	// message, as the server logs them: "accountd listening" first.
	listening *addrLog
}

// launch runs accountd serve with env in the background, its log going to
// w as well as to the instance's address log.
func launch(env []string, w io.Writer) *instance {
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{stop: cancel, done: make(chan struct{}), listening: &addrLog{}}
	go func() {
		defer close(in.done)
		in.err = run(ctx, []string{"accountd", "serve"}, env, io.MultiWriter(w, in.listening))
	}()
	return in
}

// wait waits up to d for run to return and gives its error; ok is false
// when it has not returned by then. It may be called more than once.
func (in *instance) wait(d time.Duration) (err error, ok bool) {
	select {
	case <-in.done:
		return in.err, true
	default:
	}
	select {
	case <-in.done:
		return in.err, true
	case <-time.After(d):
		return nil, false
	}
}

// awaitListening waits up to d for the API's listener and sets URL; it
// fails t with the logs when run returns first or d passes.
func (in *instance) awaitListening(t *testing.T, d time.Duration, logs func() string) {
	t.Helper()
	addr, err := in.listening.await("accountd listening", in.done, d)
	if err != nil {
		select {
		case <-in.done:
			err = fmt.Errorf("accountd exited at start: %w", in.err)
		default:
		}
		t.Fatalf("%v\nlogs:\n%s", err, logs())
	}
	in.URL = "http://" + addr
}

// addrLog reads slog's JSON lines for a message and an addr attribute and
// keeps the address each message named last.
type addrLog struct {
	mu      sync.Mutex
	partial []byte
	addrs   map[string]string
	changed chan struct{} // closed and replaced when addrs changes
}

func (a *addrLog) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.partial = append(a.partial, p...)
	for {
		i := bytes.IndexByte(a.partial, '\n')
		if i < 0 {
			break
		}
		var line struct{ Msg, Addr string }
		if bytes.Contains(a.partial[:i], []byte(" listening")) &&
			json.Unmarshal(a.partial[:i], &line) == nil && line.Addr != "" {
			if a.addrs == nil {
				a.addrs = map[string]string{}
			}
			a.addrs[line.Msg] = line.Addr
			if a.changed != nil {
				close(a.changed)
				a.changed = nil
			}
		}
		a.partial = a.partial[i+1:]
	}
	return len(p), nil
}

// await waits up to d for a log line with msg and gives its address; it
// gives up early when stop is closed.
func (a *addrLog) await(msg string, stop <-chan struct{}, d time.Duration) (string, error) {
	timeout := time.After(d)
	for {
		a.mu.Lock()
		addr, ok := a.addrs[msg]
		if a.changed == nil {
			a.changed = make(chan struct{})
		}
		changed := a.changed
		a.mu.Unlock()
		if ok {
			return addr, nil
		}
		select {
		case <-changed:
		case <-stop:
			return "", fmt.Errorf("accountd stopped before logging %q", msg)
		case <-timeout:
			return "", fmt.Errorf("accountd did not log %q within %v", msg, d)
		}
	}
}

// sideAddr gives the address a side listener (metrics, profiling) logged
// with msg; the server logs it before its API listener, so it is there.
func (in *instance) sideAddr(t *testing.T, msg string) string {
	t.Helper()
	addr, err := in.listening.await(msg, in.done, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// freeAddr returns a loopback address with a port that was free a moment
// ago and that no other test of this binary was given. Where the server
// may choose, tests give it port 0 instead (start).
func freeAddr(t *testing.T) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(enginetest.FreePort(t)))
}

// baseEnv is a test environment: a fresh database, a key prefix of its own
// on the machine's Redis, bcrypt at its cheapest.
func baseEnv(t *testing.T) []string {
	t.Helper()
	return []string{
		"DATABASE_URL=" + pgtest.UnusedDatabaseURL(t),
		"REDIS_URL=" + redistest.URL(),
		"REDIS_KEY_PREFIX=test:" + security.NewID() + ":",
		"SECRET_KEY=" + strings.Repeat("k", 40),
		"BCRYPT_COST=4",
		"LOG_LEVEL=debug",
		"SHUTDOWN_DELAY=0s",
	}
}

// start runs accountd with env, on a port of the system's choosing, and
// waits until /livez answers. It learns the port from the "accountd
// listening" log line, so env must keep the log JSON (the default) at level
// info or below (baseEnv's is debug).
func start(t *testing.T, env []string) *instance {
	t.Helper()
	logs := &syncBuffer{}
	in := launch(append(env, "HTTP_ADDR=127.0.0.1:0"), logs)
	in.Logs = logs
	t.Cleanup(func() {
		in.stop()
		if _, ok := in.wait(10 * time.Second); !ok {
			t.Errorf("accountd did not stop within 10s")
		}
	})
	in.awaitListening(t, 20*time.Second, logs.String)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if err, exited := in.wait(0); exited {
			t.Fatalf("accountd exited at start: %v\nlogs:\n%s", err, in.Logs)
		}
		resp, err := http.Get(in.URL + "/livez")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("accountd did not answer /livez within 20s\nlogs:\n%s", in.Logs)
	return nil
}

// client is a curl-like HTTP client with a cookie jar.
type client struct {
	t    *testing.T
	http *http.Client
}

func newClient(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// do sends a request and returns the status and the decoded JSON body.
func (c *client) do(method, rawURL, contentType, body string, header ...string) (int, map[string]any, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("%s %s: body is not JSON: %q", method, rawURL, raw)
		}
	}
	return resp.StatusCode, m, resp.Header
}

func (c *client) cookie(base, name string) string {
	u, _ := url.Parse(base + "/api/v1/accounts/")
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func wantStatus(t *testing.T, what string, got, want int, body map[string]any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status = %d, want %d (body %v)", what, got, want, body)
	}
}

// TestReadmeCurlFlow follows the README's curl examples: register, log in
// with a cookie jar, /me, refresh, logout.
func TestReadmeCurlFlow(t *testing.T) {
	in := start(t, baseEnv(t))
	api := in.URL + "/api/v1/accounts"
	c := newClient(t)

	st, body, _ := c.do("POST", api+"/", "application/json", `{"account_id": "john", "password": "securepass123"}`)
	wantStatus(t, "register", st, http.StatusCreated, body)
	if body["account_id"] != "john" || body["uuid"] == "" {
		t.Fatalf("register body = %v, want account_id john and a uuid", body)
	}
	st, body, h := c.do("POST", api+"/token", "application/x-www-form-urlencoded", "username=john&password=securepass123")
	wantStatus(t, "login", st, http.StatusOK, body)
	if body["token_type"] != "bearer" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("login: token_type %v, Cache-Control %q; want bearer, no-store", body["token_type"], h.Get("Cache-Control"))
	}
	st, body, _ = c.do("GET", api+"/me", "", "")
	wantStatus(t, "me", st, http.StatusOK, body)
	if body["account_id"] != "john" {
		t.Fatalf("me account_id = %v, want john", body["account_id"])
	}
	oldRefresh := c.cookie(in.URL, "refresh_token")
	st, body, _ = c.do("POST", api+"/refresh", "", "")
	wantStatus(t, "refresh", st, http.StatusOK, body)
	if nr := c.cookie(in.URL, "refresh_token"); nr == "" || nr == oldRefresh {
		t.Fatalf("refresh cookie was not rotated")
	}
	st, body, _ = c.do("DELETE", api+"/logout", "", "")
	wantStatus(t, "logout", st, http.StatusOK, body)
	if c.cookie(in.URL, "refresh_token") != "" || c.cookie(in.URL, "access_token") != "" {
		t.Fatalf("logout left cookies in the jar")
	}
	st, body, _ = c.do("GET", api+"/me", "", "")
	wantStatus(t, "me after logout", st, http.StatusUnauthorized, body)
}

// TestTwoInstancesShareRevocation runs two servers on one database and one
// Redis: a logout on one is soon refused on the other (within about a
// second; the test allows 10s, for a busy machine).
func TestTwoInstancesShareRevocation(t *testing.T) {
	env := baseEnv(t)
	a := start(t, env)
	b := start(t, append(env, "MIGRATE_ON_START=true"))
	c := newClient(t)
	api := func(in *instance) string { return in.URL + "/api/v1/accounts" }

	st, body, _ := c.do("POST", api(a)+"/", "application/json", `{"account_id": "shared.user", "password": "securepass123"}`)
	wantStatus(t, "register on A", st, http.StatusCreated, body)
	st, body, _ = c.do("POST", api(b)+"/token", "application/x-www-form-urlencoded", "username=Shared.User&password=securepass123")
	wantStatus(t, "login on B", st, http.StatusOK, body)
	access, _ := body["access_token"].(string)
	bearer := []string{"Authorization", "Bearer " + access}

	st, body, _ = c.do("GET", api(a)+"/me", "", "", bearer...)
	wantStatus(t, "me on A with B's token", st, http.StatusOK, body)
	st, body, _ = c.do("DELETE", api(a)+"/logout", "", "", bearer...)
	wantStatus(t, "logout on A", st, http.StatusOK, body)

	deadline := time.Now().Add(10 * time.Second)
	for {
		st, body, _ = c.do("GET", api(b)+"/me", "", "", bearer...)
		if st == http.StatusUnauthorized || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	wantStatus(t, "me on B after logout on A", st, http.StatusUnauthorized, body)
	if body["code"] != "token_revoked" {
		t.Fatalf("code = %v, want token_revoked", body["code"])
	}
}

// TestShutdownDrainsInFlight cancels the server's context (what SIGTERM
// does) while logins are in flight: each of them completes, and run
// returns nil.
func TestShutdownDrainsInFlight(t *testing.T) {
	// Slow enough to be in flight: four logins queued for the hash slots
	// take a few hundred ms at cost 8 with -race, and many seconds on a
	// loaded machine (bcrypt runs at low priority), so every timeout is
	// generous.
	// The logins must reach the server, and /health be asked, before the
	// listener closes at the end of SHUTDOWN_DELAY.
	env := append(baseEnv(t), "BCRYPT_COST=8", "SHUTDOWN_DELAY=3s", "SHUTDOWN_TIMEOUT=2m",
		"BCRYPT_QUEUE_TIMEOUT=0s", "REQUEST_TIMEOUT=2m")
	in := start(t, env)
	c := newClient(t)
	c.http.Timeout = 2 * time.Minute
	api := in.URL + "/api/v1/accounts"
	st, body, _ := c.do("POST", api+"/", "application/json", `{"account_id": "drain", "password": "securepass123"}`)
	wantStatus(t, "register", st, http.StatusCreated, body)

	const n = 4
	type result struct {
		status int
		at     time.Time
	}
	results := make(chan result, n)
	for range n {
		go func() {
			resp, err := http.Post(api+"/token", "application/x-www-form-urlencoded",
				strings.NewReader("username=drain&password=securepass123"))
			if err != nil {
				results <- result{-1, time.Now()}
				return
			}
			resp.Body.Close()
			results <- result{resp.StatusCode, time.Now()}
		}()
	}
	time.Sleep(100 * time.Millisecond) // let the requests reach the server
	stopAt := time.Now()
	in.stop()
	time.Sleep(200 * time.Millisecond) // within SHUTDOWN_DELAY
	st, body, _ = c.do("GET", in.URL+"/health", "", "")
	wantStatus(t, "health while draining", st, http.StatusServiceUnavailable, body)
	if checks, _ := body["checks"].(map[string]any); checks["accountd"] != "unavailable" {
		t.Fatalf("health checks while draining = %v, want accountd unavailable", body["checks"])
	}
	drained := 0
	for range n {
		r := <-results
		if r.status != http.StatusOK {
			t.Errorf("in-flight login during shutdown: status %d, want 200", r.status)
		}
		if r.at.After(stopAt) {
			drained++
		}
	}
	// Otherwise the test showed nothing about draining.
	if drained == 0 {
		t.Error("every login finished before shutdown began; none was in flight")
	}
	if err, ok := in.wait(10 * time.Second); !ok {
		t.Fatal("run did not return within 10s of shutdown")
	} else if err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
	if _, err := http.Get(in.URL + "/livez"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

func TestBadConfigNamesTheVariable(t *testing.T) {
	cases := map[string]string{
		"BCRYPT_COST=abc":    "BCRYPT_COST",
		"SECRET_KEY=short":   "SECRET_KEY",
		"ALGORITHM=none":     "ALGORITHM",
		"COOKIE_SECURE=yes":  "COOKIE_SECURE",
		"TRUSTED_PROXIES=x":  "TRUSTED_PROXIES",
		"REQUEST_TIMEOUT=1y": "REQUEST_TIMEOUT",
	}
	for setting, name := range cases {
		err := run(context.Background(), []string{"accountd"}, []string{setting}, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), name) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error = %v, want one line starting with %s", setting, err, name)
		}
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"accountd", "version"}, nil, &out); err != nil {
		t.Fatalf("version: %v", err)
	}
	if !strings.HasPrefix(out.String(), "accountd ") {
		t.Fatalf("version printed %q, want it to start with accountd", out.String())
	}
	if err := run(context.Background(), []string{"accountd", "frobnicate"}, nil, io.Discard); err == nil {
		t.Fatal("unknown command: got nil error")
	}
}

func TestMigrateCommands(t *testing.T) {
	env := []string{"DATABASE_URL=" + pgtest.UnusedDatabaseURL(t)}
	var out bytes.Buffer
	for _, sub := range []string{"up", "status", "down", "up"} {
		out.Reset()
		if err := run(context.Background(), []string{"accountd", "migrate", sub}, env, &out); err != nil {
			t.Fatalf("migrate %s: %v", sub, err)
		}
	}
	if !strings.Contains(out.String(), "00001") || !strings.Contains(strings.ToLower(out.String()), "applied") {
		t.Fatalf("migrate up printed %q, want migration 00001 shown applied", out.String())
	}
	if err := run(context.Background(), []string{"accountd", "migrate", "sideways"}, env, io.Discard); err == nil {
		t.Fatal("migrate sideways: got nil error")
	}
}

func TestHealthcheckCommand(t *testing.T) {
	env := baseEnv(t)
	in := start(t, env)
	addr := strings.TrimPrefix(in.URL, "http://")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"accountd", "healthcheck"}, append(env, "HTTP_ADDR="+addr), &out); err != nil {
		t.Fatalf("healthcheck against a healthy server: %v (printed %q)", err, out.String())
	}
	if !strings.Contains(out.String(), `"status":"ok"`) {
		t.Fatalf("healthcheck printed %q, want the /health body", out.String())
	}
	if err := run(context.Background(), []string{"accountd", "healthcheck"}, append(env, "HTTP_ADDR="+freeAddr(t)), io.Discard); err == nil {
		t.Fatal("healthcheck with no server: got nil error, want a failure")
	}
}

func TestCleanupCommand(t *testing.T) {
	env := baseEnv(t)
	if err := run(context.Background(), []string{"accountd", "migrate", "up"}, env, io.Discard); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"accountd", "cleanup"}, env, &out); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if !strings.Contains(out.String(), "deleted 0 sessions, 0 refresh tokens and 0 security events") {
		t.Fatalf("cleanup printed %q, want the counts", out.String())
	}
}
