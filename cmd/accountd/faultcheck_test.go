package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// What the fault tests hold every response to, and how they look at
// PostgreSQL afterwards.

// hangSlack is how much longer than REQUEST_TIMEOUT a response may take
// before it counts as a hang: writing the 503 and the race detector's
// overhead on a busy machine (generous).
const hangSlack = 2 * time.Second

// outcomeLog keeps every outcome of a fault test's load.
type outcomeLog struct {
	mu    sync.Mutex
	all   []outcome
	tally *tally
}

func newOutcomeLog() *outcomeLog { return &outcomeLog{tally: newTally()} }

func (r *outcomeLog) add(o outcome) {
	r.tally.add(o)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, o)
}

func (r *outcomeLog) outcomes() []outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]outcome(nil), r.all...)
}

// judgeOutcome says what is wrong with one outcome of a load during which the
// dependencies may fail between faultFrom and faultTo, or "" when nothing
// is: a response within REQUEST_TIMEOUT that is a 2xx, or a 503
// service_unavailable with Retry-After while the fault lasted. A 401 is
// never expected from the load, whose users only present live tokens.
func judgeOutcome(o outcome, requestTimeout time.Duration, faultFrom, faultTo time.Time) string {
	switch {
	case o.err != nil:
		return "no response"
	case o.took() > requestTimeout+hangSlack:
		return fmt.Sprintf("answered after more than REQUEST_TIMEOUT (%v)", requestTimeout)
	case o.status >= 200 && o.status < 300:
		return ""
	case o.status == http.StatusServiceUnavailable:
		switch {
		case o.code != "service_unavailable" || o.retryAfter == "":
			return "503 without code service_unavailable and Retry-After"
		case !o.overlaps(faultFrom, faultTo):
			return "503 outside the fault"
		}
		return ""
	default:
		return "unexpected status"
	}
}

// checkLoad logs the load's summary and fails the test for every outcome
// that judgeOutcome finds wrong.
func checkLoad(t *testing.T, rec *outcomeLog, requestTimeout time.Duration, faultFrom, faultTo time.Time) []outcome {
	t.Helper()
	outs := rec.outcomes()
	t.Logf("load: %d requests; fault from %s to %s\n%s", len(outs),
		faultFrom.Format("15:04:05.000"), faultTo.Format("15:04:05.000"), rec.tally.table())
	var bad []string
	for _, o := range outs {
		if why := judgeOutcome(o, requestTimeout, faultFrom, faultTo); why != "" {
			bad = append(bad, why+": "+o.String())
		}
	}
	if len(bad) > 0 {
		t.Errorf("%d of %d requests broke the contract, first ones:\n%s", len(bad), len(outs),
			strings.Join(bad[:min(len(bad), 15)], "\n"))
	}
	return outs
}

// countWhere returns how many outcomes match.
func countWhere(outs []outcome, match func(outcome) bool) int {
	n := 0
	for _, o := range outs {
		if match(o) {
			n++
		}
	}
	return n
}

// rotationInvariants are what every refresh token rotation must leave
// behind, whether a fault hit it or not: each query lists the rows that
// break one.
var rotationInvariants = []struct{ what, query string }{
	{"a used refresh token without exactly one child", `
SELECT p.id::text FROM refresh_tokens p LEFT JOIN refresh_tokens c ON c.parent_id = p.id
WHERE p.used_at IS NOT NULL GROUP BY p.id HAVING count(c.id) <> 1`},
	{"a child whose parent is not marked used", `
SELECT c.id::text FROM refresh_tokens c JOIN refresh_tokens p ON p.id = c.parent_id
WHERE p.used_at IS NULL`},
	{"a child in another session than its parent", `
SELECT c.id::text FROM refresh_tokens c JOIN refresh_tokens p ON p.id = c.parent_id
WHERE c.session_id <> p.session_id`},
	{"an unused token with a sealed child", `
SELECT id::text FROM refresh_tokens WHERE used_at IS NULL AND child_sealed IS NOT NULL`},
	// A token's sealed child is kept until that child is rotated in turn.
	{"a used token whose unused child's seal is gone, or whose used child's seal is kept", `
SELECT p.id::text FROM refresh_tokens p JOIN refresh_tokens c ON c.parent_id = p.id
WHERE p.used_at IS NOT NULL AND (c.used_at IS NULL) <> (p.child_sealed IS NOT NULL)`},
	{"a session without exactly one first token", `
SELECT s.id::text FROM sessions s LEFT JOIN refresh_tokens rt ON rt.session_id = s.id AND rt.parent_id IS NULL
GROUP BY s.id HAVING count(rt.id) <> 1`},
	{"a session without exactly one unused token at the end of its chain", `
SELECT s.id::text FROM sessions s LEFT JOIN refresh_tokens rt ON rt.session_id = s.id
GROUP BY s.id HAVING count(rt.id) FILTER (WHERE rt.used_at IS NULL) <> 1`},
	{"a revoked session with a refresh token left unrevoked", `
SELECT DISTINCT s.id::text FROM sessions s JOIN refresh_tokens rt ON rt.session_id = s.id
WHERE s.revoked_at IS NOT NULL AND rt.revoked_at IS NULL`},
}

// rotationTotals says how much the load did, to show that the invariants
// were checked on something.
const rotationTotals = `
SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL),
       (SELECT count(*) FROM refresh_tokens), (SELECT count(*) FROM refresh_tokens WHERE used_at IS NOT NULL)`

// checkRotations connects to the database at dbURL directly (not through
// any proxy) and fails the test for every row that breaks an invariant of
// rotation.
func checkRotations(t *testing.T, dbURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	for _, inv := range rotationInvariants {
		rows, _ := conn.Query(ctx, inv.query)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("check %q: %v", inv.what, err)
		}
		if len(ids) > 0 {
			t.Errorf("PostgreSQL holds %d cases of %s, e.g. %v", len(ids), inv.what, ids[:min(len(ids), 5)])
		}
	}
	var sessions, revoked, tokens, used int
	if err := conn.QueryRow(ctx, rotationTotals).Scan(&sessions, &revoked, &tokens, &used); err != nil {
		t.Fatalf("count sessions: %v", err)
	}
	t.Logf("PostgreSQL: %d sessions (%d revoked), %d refresh tokens (%d rotated); rotation invariants checked",
		sessions, revoked, tokens, used)
}

// pollUntil polls cond every 20ms until it holds or timeout passes, and says
// how long that took.
func pollUntil(timeout time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > timeout {
			return time.Since(start), false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// probeClient answers the tests' own requests; it never reuses a
// connection, so a probe never inherits one that a fault broke.
var probeClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// probeRequest sends one request and returns its outcome and decoded JSON body.
func probeRequest(op, method, rawURL string, header ...string) (outcome, map[string]any) {
	o := outcome{op: op, start: time.Now()}
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		o.end, o.err = time.Now(), err
		return o, nil
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		o.end, o.err = time.Now(), err
		return o, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	o.end, o.status, o.retryAfter = time.Now(), resp.StatusCode, resp.Header.Get("Retry-After")
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		o.code, _ = m["code"].(string)
	}
	return o, m
}

// probeMe calls /me with an access token.
func probeMe(base, access string) outcome {
	o, _ := probeRequest(opMe, http.MethodGet, base+"/api/v1/accounts/me", "Authorization", "Bearer "+access)
	return o
}

// loginProbe logs in as u and returns the outcome; the session it may start
// is left be.
func loginProbe(base string, u *loadUser) outcome {
	o := outcome{op: opLogin, start: time.Now()}
	resp, err := probeClient.Post(base+"/api/v1/accounts/token", formType, strings.NewReader(loginBody(u.id, u.password)))
	o.end = time.Now()
	if err != nil {
		o.err = err
		return o
	}
	defer resp.Body.Close()
	var body struct {
		Code string `json:"code"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	o.status, o.code, o.retryAfter = resp.StatusCode, body.Code, resp.Header.Get("Retry-After")
	return o
}

// healthChecks calls /health and returns its status and checks.
func healthChecks(base string) (outcome, map[string]any) {
	o, body := probeRequest("health", http.MethodGet, base+"/health")
	checks, _ := body["checks"].(map[string]any)
	return o, checks
}

// proxiedURL returns dbURL with its host replaced by addr.
func proxiedURL(t *testing.T, dbURL, addr string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("parse database url: %v", err)
	}
	u.Host = addr
	return u.String()
}

// checkUsersLive fails the test unless every logged-in user's tokens still
// work: /me with its access token and a refresh with its refresh token. Any
// token that a fault lost shows here.
func checkUsersLive(t *testing.T, base string, users []*loadUser) {
	t.Helper()
	live := 0
	for _, u := range users {
		if u.retry == opLogout {
			// Its logout got a 503 and may have gone through or not: the
			// user repeats it, and a logout is idempotent.
			o, _ := probeRequest(opLogout, http.MethodDelete, base+"/api/v1/accounts/logout",
				"Authorization", "Bearer "+u.access, "Cookie", "refresh_token="+u.refresh)
			if o.status != http.StatusOK {
				t.Errorf("user %s: repeated logout: %s, want 200", u.id, o)
			}
			continue
		}
		if u.refresh == "" {
			continue
		}
		live++
		if o := probeMe(base, u.access); o.status != http.StatusOK {
			t.Errorf("user %s: /me with its last access token: %s, want 200", u.id, o)
		}
		o, _ := probeRequest(opRefresh, http.MethodPost, base+"/api/v1/accounts/refresh", "Cookie", "refresh_token="+u.refresh)
		if o.status != http.StatusOK {
			t.Errorf("user %s: refresh with its last refresh token: %s, want 200", u.id, o)
		}
	}
	t.Logf("%d of %d users held a session at the end; their tokens checked", live, len(users))
}

// checkLogClean fails the test when accountd logged an error or a panic:
// a failing dependency must make it degrade (warnings), never break.
func checkLogClean(t *testing.T, in *instance) {
	t.Helper()
	var bad []string
	warnings := 0
	for line := range strings.Lines(in.Logs.String()) {
		switch {
		case strings.Contains(line, `"level":"ERROR"`), strings.Contains(line, `"msg":"panic"`):
			bad = append(bad, strings.TrimSpace(line))
		case strings.Contains(line, `"level":"WARN"`):
			warnings++
		}
	}
	if len(bad) > 0 {
		t.Errorf("accountd logged %d errors, first ones:\n%s", len(bad), strings.Join(bad[:min(len(bad), 5)], "\n"))
	}
	t.Logf("accountd logged %d warnings", warnings)
}
