package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/accountd/accountd/internal/security"
)

// The forms and bodies of the flows below.
const (
	formType = "application/x-www-form-urlencoded"
	jsonType = "application/json"
)

func loginBody(id, password string) string {
	return url.Values{"username": {id}, "password": {password}}.Encode()
}

func registerBody(id, password string) string {
	b, _ := json.Marshal(map[string]string{"account_id": id, "password": password})
	return string(b)
}

func randomSecret(prefix string) string {
	return prefix + "-" + hex.EncodeToString(security.RandomKey(12))
}

// scrape fetches url and parses Prometheus' text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// sample returns the value of the series of name whose labels include
// labels (name=value pairs): a counter's or gauge's value, a histogram's
// sample count. ok is false when there is no such series.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// TestMetricsCountTheFlow runs logins, refreshes, revocations and a
// lockout against a server with METRICS_ADDR, then checks that each counter
// moved by exactly what the flow did.
func TestMetricsCountTheFlow(t *testing.T) {
	t.Parallel()
	// The re-send within the grace period must come within it, however
	// slow the machine: a generous one.
	const grace = 5 * time.Second
	in := start(t, append(baseEnv(t), "METRICS_ADDR=127.0.0.1:0", "REFRESH_REUSE_GRACE="+grace.String(), "LOGIN_MAX_FAILURES=2",
		"RATE_LIMIT_IP_REQUESTS=9"))
	metricsAddr := in.sideAddr(t, "metrics listening")
	api := in.URL + "/api/v1/accounts"
	c, other := newClient(t), newClient(t)
	id, password, newPassword := "metrics-"+randomSecret("u"), randomSecret("pw"), randomSecret("new")

	st, body, _ := c.do("POST", api+"/", jsonType, registerBody(id, password))
	wantStatus(t, "register", st, http.StatusCreated, body)
	st, body, _ = c.do("POST", api+"/", jsonType, registerBody(strings.ToUpper(id), password))
	wantStatus(t, "register again", st, http.StatusConflict, body)
	st, body, _ = c.do("POST", api+"/token", formType, loginBody(id, password))
	wantStatus(t, "login", st, http.StatusOK, body)
	st, body, _ = other.do("POST", api+"/token", formType, loginBody(id, "wrong-password"))
	wantStatus(t, "wrong password", st, http.StatusBadRequest, body)
	st, body, _ = c.do("GET", api+"/me", "", "")
	wantStatus(t, "me", st, http.StatusOK, body)

	// Rotation, a re-send within the grace period, a replay after it, and
	// a refresh without a cookie.
	first := c.cookie(in.URL, "refresh_token")
	st, body, _ = c.do("POST", api+"/refresh", "", "")
	wantStatus(t, "refresh", st, http.StatusOK, body)
	st, body, _ = newClient(t).do("POST", api+"/refresh", "", "", "Cookie", "refresh_token="+first)
	wantStatus(t, "refresh within the grace period", st, http.StatusOK, body)
	time.Sleep(grace + 200*time.Millisecond)
	st, body, _ = newClient(t).do("POST", api+"/refresh", "", "", "Cookie", "refresh_token="+first)
	wantStatus(t, "replay", st, http.StatusUnauthorized, body)
	st, body, _ = newClient(t).do("POST", api+"/refresh", "", "")
	wantStatus(t, "refresh without a cookie", st, http.StatusUnauthorized, body)

	// Two sessions; a password change revokes the other, a session is
	// ended by id, and a logout ends the caller's.
	st, body, _ = c.do("POST", api+"/token", formType, loginBody(id, password))
	wantStatus(t, "login again", st, http.StatusOK, body)
	st, body, _ = other.do("POST", api+"/token", formType, loginBody(id, password))
	wantStatus(t, "login elsewhere", st, http.StatusOK, body)
	st, body, _ = c.do("PUT", api+"/password", jsonType,
		`{"old_password": "`+password+`", "new_password": "`+newPassword+`"}`)
	wantStatus(t, "change password", st, http.StatusOK, body)
	st, body, _ = other.do("POST", api+"/token", formType, loginBody(id, newPassword))
	wantStatus(t, "login with the new password", st, http.StatusOK, body)
	revokeOtherSession(t, c, api)
	st, body, _ = c.do("DELETE", api+"/logout", "", "")
	wantStatus(t, "logout", st, http.StatusOK, body)

	// LOGIN_MAX_FAILURES=2: the third attempt is refused.
	locked := "locked-" + randomSecret("u")
	st, body, _ = c.do("POST", api+"/", jsonType, registerBody(locked, password))
	wantStatus(t, "register locked", st, http.StatusCreated, body)
	for i := range 2 {
		st, body, _ = other.do("POST", api+"/token", formType, loginBody(locked, "wrong-password"))
		wantStatus(t, "failed login "+string(rune('1'+i)), st, http.StatusBadRequest, body)
	}
	st, body, _ = other.do("POST", api+"/token", formType, loginBody(locked, password))
	wantStatus(t, "locked out", st, http.StatusTooManyRequests, body)

	// RATE_LIMIT_IP_REQUESTS=9: the client runs out of logins.
	moreLogins := 0
	for st, _, _ = other.do("POST", api+"/token", formType, loginBody(id, newPassword)); st == http.StatusOK; moreLogins++ {
		st, _, _ = other.do("POST", api+"/token", formType, loginBody(id, newPassword))
	}
	wantStatus(t, "login over the client's rate", st, http.StatusTooManyRequests, nil)

	resp, err := http.Get(in.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on HTTP_ADDR = %d, want 404 when METRICS_ADDR is set", resp.StatusCode)
	}

	fams := scrape(t, "http://"+metricsAddr+"/metrics")
	for _, w := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"accountd_logins_total", []string{"outcome", "ok"}, float64(4 + moreLogins)},
		{"accountd_logins_total", []string{"outcome", "invalid_credentials"}, 3},
		{"accountd_logins_total", []string{"outcome", "rate_limited"}, 2},
		{"accountd_logins_total", []string{"outcome", "disabled"}, 0},
		{"accountd_logins_total", []string{"outcome", "unavailable"}, 0},
		{"accountd_token_refreshes_total", []string{"outcome", "ok"}, 1},
		{"accountd_token_refreshes_total", []string{"outcome", "rotated"}, 1},
		{"accountd_token_refreshes_total", []string{"outcome", "reused"}, 1},
		{"accountd_token_refreshes_total", []string{"outcome", "invalid"}, 1},
		{"accountd_sessions_revoked_total", []string{"reason", "refresh_token_reused"}, 1},
		{"accountd_sessions_revoked_total", []string{"reason", "password_change"}, 1},
		{"accountd_sessions_revoked_total", []string{"reason", "session_delete"}, 1},
		{"accountd_sessions_revoked_total", []string{"reason", "logout"}, 1},
		{"accountd_rate_limited_total", []string{"route", "/api/v1/accounts/token"}, 2},
		// Two registrations, one refused as a duplicate after hashing, a
		// password change, and the locked account's registration.
		{"accountd_bcrypt_duration_seconds", []string{"op", "hash"}, 4},
		{"accountd_bcrypt_queue_wait_seconds", []string{"op", "hash"}, 4},
		// The logins that reached bcrypt and the password change's check.
		{"accountd_bcrypt_duration_seconds", []string{"op", "compare"}, float64(8 + moreLogins)},
		{"accountd_bcrypt_queue_wait_seconds", []string{"op", "compare"}, float64(8 + moreLogins)},
		{"accountd_bcrypt_queue_timeouts_total", []string{"op", "compare"}, 0},
		{"accountd_http_request_duration_seconds", []string{"route", "/api/v1/accounts/me", "method", "GET", "status", "200"}, 1},
		{"accountd_http_request_duration_seconds", []string{"route", "/api/v1/accounts/token", "method", "POST", "status", "429"}, 2},
		{"accountd_pgx_pool_max_conns", nil, 16},
		{"accountd_build_info", []string{"version", version}, 1},
	} {
		got, ok := sample(fams, w.name, w.labels...)
		if !ok || got != w.want {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.want)
		}
	}
	for _, name := range []string{"accountd_pgx_pool_total_conns", "accountd_pgx_pool_acquires_total",
		"accountd_redis_pool_total_conns", "accountd_redis_pool_hits_total", "go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := sample(fams, name); !ok {
			t.Errorf("%s is missing from /metrics", name)
		}
	}
	if n, _ := sample(fams, "accountd_redis_pool_total_conns"); n < 1 {
		t.Errorf("accountd_redis_pool_total_conns = %v, want at least 1", n)
	}
}

// revokeOtherSession ends, by id, the one session of c's account that is
// not c's.
func revokeOtherSession(t *testing.T, c *client, api string) {
	t.Helper()
	req, _ := http.NewRequest("GET", api+"/sessions", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct {
		ID      string `json:"id"`
		Current bool   `json:"current"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list) != 2 {
		t.Fatalf("GET /sessions = %d %v (%v), want two sessions", resp.StatusCode, list, err)
	}
	for _, s := range list {
		if !s.Current {
			st, body, _ := c.do("DELETE", api+"/sessions/"+s.ID, "", "")
			wantStatus(t, "revoke session", st, http.StatusOK, body)
		}
	}
}

// recorder is a transport that remembers every credential that goes over
// it: cookie values both ways and bearer tokens.
type recorder struct {
	mu      sync.Mutex
	secrets map[string]bool
}

func (r *recorder) add(s string) {
	if len(s) >= 8 { // empty and cleared cookies are not secrets
		r.mu.Lock()
		r.secrets[s] = true
		r.mu.Unlock()
	}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	for _, ck := range req.Cookies() {
		r.add(ck.Value)
	}
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		r.add(tok)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		for _, ck := range resp.Cookies() {
			r.add(ck.Value)
		}
	}
	return resp, err
}

// TestLogsHoldNoSecrets runs a full flow with the log going to a buffer,
// then checks that none of the passwords, tokens, cookie values or the
// SECRET_KEY appear in it, that each security event has its line with the
// account uuid where it is known, and that each request has its access
// line.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	secretKey := randomSecret("secret-key-of-at-least-32-bytes")
	clientSecret, wrongClientSecret := randomSecret("client"), randomSecret("wrong-client")
	in := start(t, append(baseEnv(t), "SECRET_KEY="+secretKey, "LOG_FORMAT=json", "LOG_LEVEL=debug",
		"REFRESH_REUSE_GRACE=0s", "RATE_LIMIT_IP_REQUESTS=5", "INTROSPECTION_CLIENTS=logs-client:"+clientSecret))
	api := in.URL + "/api/v1/accounts"
	rec := &recorder{secrets: map[string]bool{}}
	c := newClient(t)
	c.http.Transport = rec
	id := "logs-" + randomSecret("u")
	password, newPassword, wrongPassword := randomSecret("pw"), randomSecret("new"), randomSecret("wrong")

	st, body, _ := c.do("POST", api+"/", jsonType, registerBody(id, password))
	wantStatus(t, "register", st, http.StatusCreated, body)
	uuid, _ := body["uuid"].(string)
	st, body, _ = c.do("POST", api+"/token", formType, loginBody(id, password))
	wantStatus(t, "login", st, http.StatusOK, body)
	if tok, _ := body["access_token"].(string); tok != "" {
		rec.add(tok)
		// A JWT's signature alone is secret too.
		rec.add(tok[strings.LastIndexByte(tok, '.')+1:])
	}
	first := c.cookie(in.URL, "refresh_token")
	// Introspection, by a client with its secret and by one with a wrong one.
	for secret, want := range map[string]int{clientSecret: http.StatusOK, wrongClientSecret: http.StatusUnauthorized} {
		st, body, _ = c.do("POST", api+"/introspect", formType, "token="+c.cookie(in.URL, "access_token"),
			"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("logs-client:"+secret)))
		wantStatus(t, "introspect", st, want, body)
	}
	st, body, _ = c.do("POST", api+"/refresh", "", "")
	wantStatus(t, "refresh", st, http.StatusOK, body)
	st, body, _ = c.do("GET", api+"/me", "", "")
	wantStatus(t, "me", st, http.StatusOK, body)
	st, body, _ = c.do("PUT", api+"/password", jsonType,
		`{"old_password": "`+password+`", "new_password": "`+newPassword+`"}`)
	wantStatus(t, "change password", st, http.StatusOK, body)
	st, body, _ = c.do("DELETE", api+"/logout", "", "")
	wantStatus(t, "logout", st, http.StatusOK, body)
	st, body, _ = c.do("POST", api+"/token", formType, loginBody(id, wrongPassword))
	wantStatus(t, "failed login", st, http.StatusBadRequest, body)

	// A replayed refresh token (the grace period is 0s), a session ended
	// by id, a browser on another origin, and a client over its rate limit.
	st, body, _ = c.do("POST", api+"/token", formType, loginBody(id, newPassword))
	wantStatus(t, "login again", st, http.StatusOK, body)
	st, body, _ = newClient(t).do("POST", api+"/refresh", "", "", "Cookie", "refresh_token="+first)
	wantStatus(t, "a logged-out refresh token", st, http.StatusUnauthorized, body)
	replayed := c.cookie(in.URL, "refresh_token")
	st, body, _ = c.do("POST", api+"/refresh", "", "")
	wantStatus(t, "refresh", st, http.StatusOK, body)
	st, body, _ = newClient(t).do("POST", api+"/refresh", "", "", "Cookie", "refresh_token="+replayed)
	wantStatus(t, "replay", st, http.StatusUnauthorized, body)
	st, body, _ = c.do("POST", api+"/token", formType, loginBody(id, newPassword))
	wantStatus(t, "login once more", st, http.StatusOK, body)
	revokeOtherOrOwnSession(t, c, api)
	st, body, _ = c.do("POST", api+"/token", formType, loginBody(id, newPassword),
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	wantStatus(t, "cross-origin login", st, http.StatusForbidden, body)
	limited := false
	for range 10 {
		if st, _, _ = c.do("GET", api+"/exist/"+id, "", ""); st == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatalf("GET /exist was never rate limited with RATE_LIMIT_IP_REQUESTS=5")
	}

	logs := in.Logs.String()
	secrets := []string{secretKey, password, newPassword, wrongPassword, clientSecret, wrongClientSecret}
	for s := range rec.secrets {
		secrets = append(secrets, s)
	}
	if len(secrets) < 10 {
		t.Fatalf("recorded only %d secrets; the flow should have produced more tokens", len(secrets))
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains the secret %q", s)
		}
	}

	type line map[string]any
	var lines []line
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line is not JSON (LOG_FORMAT=json): %q", sc.Text())
		}
		lines = append(lines, l)
	}
	accessByID := map[string]line{}
	for _, l := range lines {
		if l["msg"] == "request" {
			for _, k := range []string{"request_id", "method", "route", "status", "bytes", "duration", "client_ip"} {
				if _, ok := l[k]; !ok {
					t.Errorf("access line without %s: %v", k, l)
				}
			}
			id, _ := l["request_id"].(string)
			accessByID[id] = l
		}
	}
	for _, w := range []struct {
		event    string
		withUUID bool
	}{
		{"login_failed", true},
		{"refresh_token_reused", true},
		{"session_revoked", true},
		{"password_changed", true},
		{"cross_origin_rejected", false},
		{"rate_limited", false},
	} {
		found := false
		for _, l := range lines {
			if l["event"] != w.event {
				continue
			}
			found = true
			if w.withUUID && l["account_uuid"] != uuid {
				t.Errorf("%s line has account_uuid %v, want %s: %v", w.event, l["account_uuid"], uuid, l)
			}
			reqID, _ := l["request_id"].(string)
			if _, ok := accessByID[reqID]; !ok {
				t.Errorf("%s line's request_id %q names no access line: %v", w.event, reqID, l)
			}
		}
		if !found {
			t.Errorf("no %s event line in the log", w.event)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs)
	}
}

// revokeOtherOrOwnSession ends, by id, one session of c's account.
func revokeOtherOrOwnSession(t *testing.T, c *client, api string) {
	t.Helper()
	req, _ := http.NewRequest("GET", api+"/sessions", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		t.Fatalf("GET /sessions = %d %s, want a session", resp.StatusCode, raw)
	}
	st, body, _ := c.do("DELETE", api+"/sessions/"+list[0].ID, "", "")
	wantStatus(t, "revoke session", st, http.StatusOK, body)
}
