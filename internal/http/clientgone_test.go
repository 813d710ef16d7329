package http_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// observed is one request that a RequestObserver was told about.
type observed struct {
	route, method string
	status        int
}

// requestLog is a RequestObserver that keeps what it is told.
type requestLog struct {
	mu   sync.Mutex
	seen []observed
}

func (l *requestLog) ObserveRequest(route, method string, status int, _ time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, observed{route: route, method: method, status: status})
}

// statuses returns the statuses observed for method.
func (l *requestLog) statuses(method string) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int
	for _, o := range l.seen {
		if o.method == method {
			out = append(out, o.status)
		}
	}
	return out
}

// logLines returns the lines of the instance's log that carry the request
// id.
func (a *testAPI) logLines(requestID string) []string {
	var out []string
	for _, line := range strings.Split(a.logs.String(), "\n") {
		if strings.Contains(line, "request_id="+requestID+" ") || strings.HasSuffix(line, "request_id="+requestID) {
			out = append(out, line)
		}
	}
	return out
}

// accessLine waits (generously) for the access-log line of the request and
// returns it.
func (a *testAPI) accessLine(t *testing.T, requestID string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, line := range a.logLines(requestID) {
			if strings.Contains(line, " msg=request ") {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access-log line for request %s within 10s; log:\n%s", requestID, a.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantClientClosed fails unless the request was logged once, at INFO, as a
// 499, with no WARN or ERROR line of its own, and the metrics counted it as
// a 499 and nothing as a 500.
func wantClientClosed(t *testing.T, api *testAPI, obs *requestLog, requestID string) {
	t.Helper()
	line := api.accessLine(t, requestID)
	if !strings.Contains(line, "level=INFO ") || !strings.Contains(line, " status=499 ") {
		t.Errorf("access line = %q, want level=INFO and status=499", line)
	}
	for _, l := range api.logLines(requestID) {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
			t.Errorf("log line %q: a client that went away is not a failure of the service", l)
		}
	}
	if strings.Contains(api.logs.String(), "level=ERROR") {
		t.Errorf("the log has an ERROR line:\n%s", api.logs.String())
	}
	if got := obs.statuses(http.MethodPost); len(got) != 1 || got[0] != 499 {
		t.Errorf("metrics saw POST statuses %v, want [499]", got)
	}
}

// A client that disconnects while the service waits on PostgreSQL is
// logged and counted as a 499 at INFO: not a 500 and an ERROR line, nor a
// 503 and a WARN about a dependency that was fine.
func TestClientGoneWhileBlockedIs499(t *testing.T) {
	t.Parallel()
	obs := &requestLog{}
	api := newTestAPI(t, withRequestObserver(obs))
	id, blocker := holdAccountID(t, api, "gone")

	rid := "gone-" + randomHex(8)
	reqCtx, cancel := context.WithCancel(t.Context())
	defer cancel()
	body := fmt.Sprintf(`{"account_id": %q, "password": %q}`, id, testPassword)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, api.URL+accountsPath+"/", strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", rid)
	done := make(chan error, 1)
	go func() {
		resp, err := api.client.Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("got a %d, want the request to be cancelled", resp.StatusCode)
		}
		done <- err
	}()

	waitBlockedBy(t, api, blocker)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want context.Canceled", err)
	}
	wantClientClosed(t, api, obs, rid)
}

// A request whose context is already cancelled when the service asks the
// pool for a connection gets context.Canceled itself back, not a driver
// error; that too is a client gone, not an internal error.
func TestClientGoneBeforeTheDatabaseIs499(t *testing.T) {
	t.Parallel()
	obs := &requestLog{}
	api := newTestAPI(t, withRequestObserver(obs))
	rid := "gone-" + randomHex(8)
	ctx, cancel := context.WithCancel(t.Context())
	body := fmt.Sprintf(`{"account_id": %q, "password": %q}`, newAccountID("gone"), testPassword)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, accountsPath+"/", strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", rid)
	cancel() // the client is gone before the handler runs
	rec := serve(api, req)
	if rec.Body.Len() != 0 {
		t.Errorf("wrote %q to a client that is gone, want nothing", rec.Body.String())
	}
	wantClientClosed(t, api, obs, rid)
}

// A dependency that is too slow is still a 503, with a WARN: the request's
// own deadline ended it, not the client.
func TestDependencyTimeoutIs503(t *testing.T) {
	t.Parallel()
	obs := &requestLog{}
	api := newTestAPI(t, withRequestObserver(obs), withRequestTimeout(500*time.Millisecond))
	id, _ := holdAccountID(t, api, "slow")
	rid := "slow-" + randomHex(8)
	r := api.do(t, http.MethodPost, accountsPath+"/", map[string]string{"account_id": id, "password": testPassword},
		header("X-Request-ID", rid))
	wantUnavailable(t, "POST / while the INSERT waits past the request timeout", r)
	if line := api.accessLine(t, rid); !strings.Contains(line, " status=503 ") {
		t.Errorf("access line = %q, want status=503", line)
	}
	warned := false
	for _, l := range api.logLines(rid) {
		warned = warned || strings.Contains(l, `level=WARN msg="dependency unavailable"`)
	}
	if !warned || strings.Contains(api.logs.String(), "level=ERROR") {
		t.Errorf("want a WARN dependency unavailable and no ERROR line; log:\n%s", api.logs.String())
	}
	if got := obs.statuses(http.MethodPost); len(got) != 1 || got[0] != http.StatusServiceUnavailable {
		t.Errorf("metrics saw POST statuses %v, want [503]", got)
	}
}

// holdAccountID makes registering a new account id (returned) wait: an
// uncommitted row of the test's with the same id makes the service's INSERT
// wait on the unique index until the test ends. It returns the pid of the
// backend that holds the row.
func holdAccountID(t *testing.T, api *testAPI, prefix string) (id string, pid int) {
	t.Helper()
	id = newAccountID(prefix)
	ctx := context.Background()
	tx, err := api.pool.Begin(ctx)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, "INSERT INTO accounts (account_id, password_hash) VALUES ($1, 'x')", id); err != nil {
		t.Fatalf("insert the blocking row: %v", err)
	}
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatalf("backend pid: %v", err)
	}
	return id, pid
}

// waitBlockedBy waits (generously) until some backend waits on a lock that
// the backend pid holds.
func waitBlockedBy(t *testing.T, api *testAPI, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := api.pool.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pid).Scan(&n)
		if err != nil {
			t.Fatalf("look for blocked backends: %v", err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the service's INSERT did not wait on the test's row within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
