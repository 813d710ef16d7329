package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSigtermUnderLoad cancels run's context, which is what SIGTERM does,
// while the load runs and while logins whose bodies are still arriving are
// in flight. Every request that reached the server completes, new
// connections are refused once the listener closes, run returns nil, and a
// new instance on the same database honours every token the users hold and
// every revocation made before the restart.
func TestSigtermUnderLoad(t *testing.T) {
	// /health must answer, and the slow logins' headers be read, before
	// the listener closes at the end of SHUTDOWN_DELAY, so it is generous;
	// but the rest of their bodies, sent once it has closed, must arrive
	// within REQUEST_TIMEOUT (the server's read timeout).
	const shutdownDelay = 2 * time.Second
	env := faultEnv(t, "SHUTDOWN_DELAY="+shutdownDelay.String())
	dbURL := envValue(env, "DATABASE_URL")
	in := start(t, env)
	addr := strings.TrimPrefix(in.URL, "http://")
	users := newLoadUsers(t, in.URL, 6)
	revoked := loginAgain(t, in.URL, users[0])
	o, _ := probeRequest(opLogout, http.MethodDelete, in.URL+"/api/v1/accounts/logout", "Authorization", "Bearer "+revoked.access)
	wantStatus(t, "logout before the restart", o.status, http.StatusOK, nil)

	rec := newOutcomeLog()
	opts := faultLoad(users, rec)
	// A connection per request: with keep-alive, a request that a client
	// writes on an idle connection just as the server closes it fails in
	// the client (Go does not retry a POST), which says nothing about the
	// server.
	opts.noKeepAlive = true
	ld := startLoad(in.URL, opts)
	t.Cleanup(ld.Stop)
	warmUp(t, rec, 50)

	release := make(chan struct{})
	var slow []<-chan slowLogin
	for _, u := range users[:3] {
		slow = append(slow, startSlowLogin(t, addr, u, release))
	}
	cancelAt := time.Now()
	in.stop()
	wantHealth(t, "draining", in.URL, http.StatusServiceUnavailable, map[string]string{"accountd": "unavailable"})
	took, ok := pollUntil(10*time.Second, func() bool { return connectionRefused(addr) })
	if !ok {
		t.Fatalf("the listener still accepts connections %v after shutdown began", took)
	}
	closedAt := time.Now()
	t.Logf("listener closed %v after shutdown began (SHUTDOWN_DELAY=%v)", took.Round(time.Millisecond), shutdownDelay)
	close(release) // the slow logins send the rest of their bodies now

	for _, ch := range slow {
		select {
		case s := <-ch:
			if s.outcome.status != http.StatusOK || s.user.refresh == "" {
				t.Errorf("login in flight when the listener closed: %s, want 200 with tokens", s.outcome)
				continue
			}
			users = append(users, s.user)
		case <-time.After(10 * time.Second):
			t.Fatal("a login in flight when the listener closed got no answer within 10s")
		}
	}
	if err, ok := in.wait(10 * time.Second); !ok {
		t.Fatal("run did not return within 10s of shutdown")
	} else if err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
	t.Logf("run returned nil %v after shutdown began", time.Since(cancelAt).Round(time.Millisecond))
	if o, _ := probeRequest(opMe, http.MethodGet, in.URL+"/livez"); !errors.Is(o.err, syscall.ECONNREFUSED) {
		t.Errorf("request after shutdown: %s, want connection refused", o)
	}
	ld.Stop()

	outs := rec.outcomes()
	t.Logf("load: %d requests\n%s", len(outs), rec.tally.table())
	var bad []string
	for _, o := range outs {
		if why := judgeShutdown(o, cancelAt); why != "" {
			bad = append(bad, why+": "+o.String())
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d of %d requests broke the contract, first ones:\n%s", len(bad), len(outs),
			strings.Join(bad[:min(len(bad), 15)], "\n"))
	}
	inFlight := countWhere(outs, func(o outcome) bool { return o.err == nil && o.start.Before(closedAt) && o.end.After(closedAt) })
	refused := countWhere(outs, func(o outcome) bool { return errors.Is(o.err, syscall.ECONNREFUSED) })
	t.Logf("%d load requests completed after the listener closed, plus %d slow logins; %d refused, %d turned away otherwise",
		inFlight, len(slow), refused, countWhere(outs, func(o outcome) bool { return o.err != nil })-refused)
	if refused == 0 {
		t.Error("no request of the load was refused after the listener closed")
	}

	// The same database and Redis, a new process: nothing was lost.
	again := start(t, env)
	checkUsersLive(t, again.URL, users)
	if o := probeMe(again.URL, revoked.access); o.status != http.StatusUnauthorized || o.code != "token_revoked" {
		t.Errorf("/me after the restart with a token revoked before it: %s, want 401 token_revoked", o)
	}
	checkRotations(t, dbURL)
	checkLogClean(t, in)
	checkLogClean(t, again)
}

// judgeShutdown says what is wrong with one outcome of the load during a
// shutdown that began at cancelAt, or "" when nothing is. Every request
// gets a 2xx, except that once shutdown has begun a new connection may be
// turned away unserved: refused once the listener is closed (ECONNREFUSED),
// reset when the listener closes with it still in the accept queue
// (ECONNRESET), or closed without an answer when the server accepted it but
// read its request only after Shutdown began (EOF; net/http drops such a
// request unprocessed, golang/go#75591).
func judgeShutdown(o outcome, cancelAt time.Time) string {
	switch {
	case o.err != nil && o.start.Before(cancelAt):
		return "no response to a request sent before shutdown"
	case o.err != nil && !errors.Is(o.err, syscall.ECONNREFUSED) && !errors.Is(o.err, syscall.ECONNRESET) &&
		!errors.Is(o.err, io.EOF):
		return "failed otherwise than by a connection turned away"
	case o.err != nil:
		return ""
	case o.took() > faultTimeout+hangSlack:
		return fmt.Sprintf("answered after more than REQUEST_TIMEOUT (%v)", faultTimeout)
	case o.status < 200 || o.status > 299:
		return "unexpected status"
	}
	return ""
}

// connectionRefused reports whether a connection to addr is refused.
func connectionRefused(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	// Closed at once: an idle new connection would hold up the shutdown.
	_ = conn.Close()
	return false
}

// slowLogin is the result of a login sent in two halves.
type slowLogin struct {
	outcome outcome
	user    *loadUser
}

// startSlowLogin sends the headers and half the body of a login for u, and
// the rest once release is closed: a request that is in flight, its handler
// waiting for the body, until then.
func startSlowLogin(t *testing.T, addr string, u *loadUser, release <-chan struct{}) <-chan slowLogin {
	t.Helper()
	body := loginBody(u.id, u.password)
	half := len(body) / 2
	o := outcome{op: "slow login", start: time.Now()}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("slow login: %v", err)
	}
	_, err = fmt.Fprintf(conn, "POST /api/v1/accounts/token HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"+
		"Content-Length: %d\r\nConnection: close\r\n\r\n%s", addr, formType, len(body), body[:half])
	if err != nil {
		_ = conn.Close()
		t.Fatalf("slow login: %v", err)
	}
	done := make(chan slowLogin, 1)
	go func() {
		defer conn.Close()
		<-release
		s := slowLogin{outcome: o, user: &loadUser{id: u.id, password: u.password}}
		defer func() { s.outcome.end = time.Now(); done <- s }()
		if _, err := io.WriteString(conn, body[half:]); err != nil {
			s.outcome.err = err
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			s.outcome.err = err
			return
		}
		defer resp.Body.Close()
		var tokens struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&tokens)
		s.outcome.status = resp.StatusCode
		s.user.access, s.user.refresh = tokens.AccessToken, cookieNamed(resp.Cookies(), "refresh_token")
	}()
	return done
}
