package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/accountd/accountd/internal/postgres/pgtest"
	"github.com/accountd/accountd/internal/redis/redistest"
	"github.com/accountd/accountd/internal/security"
)

const (
	clientID     = "example"
	clientSecret = "example-secret-0123456789"
	password     = "securepass123"
)

// accountd is the real accountd binary, built and started by the test.
type accountd struct {
	bin string
	env []string
	URL string
}

// buildAccountd builds cmd/accountd into a temporary directory.
func buildAccountd(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "accountd")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/accountd/accountd/cmd/accountd")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build accountd: %v\n%s", err, out)
	}
	return bin
}

// startAccountd runs the binary on a database and Redis key prefix of the
// test's own, with the given settings, until the test ends.
func startAccountd(t *testing.T, bin string, settings ...string) *accountd {
	t.Helper()
	env := append(os.Environ(),
		"DATABASE_URL="+pgtest.UnusedDatabaseURL(t),
		"REDIS_URL="+redistest.URL(),
		"REDIS_KEY_PREFIX=test:"+security.NewID()+":",
		"SECRET_KEY="+strings.Repeat("x", 40),
		"HTTP_ADDR=127.0.0.1:0",
		"BCRYPT_COST=4",
		"RATE_LIMIT_IP_REQUESTS=0",
		"SHUTDOWN_DELAY=0s",
		"INTROSPECTION_CLIENTS="+clientID+":"+clientSecret,
	)
	env = append(env, settings...)
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start accountd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("accountd did not stop within 15s of SIGTERM")
		}
	})
	addr := make(chan string, 1)
	var logs sync.WaitGroup
	logs.Go(func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "accountd listening" {
				addr <- line.Addr
			}
		}
	})
	select {
	case a := <-addr:
		return &accountd{bin: bin, env: env, URL: "http://" + a}
	case <-time.After(60 * time.Second):
		t.Fatalf("accountd did not start listening within 60s")
		return nil
	}
}

// keys runs `accountd keys args...` on the instance's database.
func (a *accountd) keys(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(a.bin, append([]string{"keys"}, args...)...)
	cmd.Env = a.env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("accountd keys %v: %v", args, err)
	}
	return string(out)
}

// user is a browser-like client of accountd: a cookie jar.
type user struct {
	t      *testing.T
	a      *accountd
	client *http.Client
	access string
}

func newUser(t *testing.T, a *accountd, id string) *user {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &user{t: t, a: a, client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	body := fmt.Sprintf(`{"account_id": %q, "password": %q}`, id, password)
	if resp := u.post("/api/v1/accounts/", "application/json", body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %s", resp.Status)
	}
	u.tokenFrom(u.post("/api/v1/accounts/token", "application/x-www-form-urlencoded",
		url.Values{"username": {id}, "password": {password}}.Encode()))
	return u
}

func (u *user) post(path, contentType, body string) *http.Response {
	u.t.Helper()
	resp, err := u.client.Post(u.a.URL+path, contentType, strings.NewReader(body))
	if err != nil {
		u.t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

func (u *user) tokenFrom(resp *http.Response) {
	u.t.Helper()
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tok) != nil {
		u.t.Fatalf("token response: %s", resp.Status)
	}
	u.access = tok.AccessToken
}

// refresh gets a fresh access token, signed by the key that signs now.
func (u *user) refresh() { u.tokenFrom(u.post("/api/v1/accounts/refresh", "", "")) }

// call asks the resource server for path with the access token as a
// bearer token, or as the access_token cookie.
func call(t *testing.T, rs, path, token string, asCookie bool) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rs+path, nil)
	if asCookie {
		req.AddCookie(&http.Cookie{Name: "access_token", Value: token})
	} else {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body map[string]string
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &body)
	return resp.StatusCode, body
}

// eventually waits up to a generous 15s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
	}
}

// TestResourceServerAcrossRotations runs the example against a real
// accountd that rotates its key every two seconds (JWKS_MAX_AGE 1s): every
// fresh token verifies offline, as a bearer token and as a cookie, with no
// refetch on an unknown kid; introspection sees a logout at once; a revoked
// key is refused by accountd and, once the JWKS is refetched, offline too.
func TestResourceServerAcrossRotations(t *testing.T) {
	a := startAccountd(t, buildAccountd(t), "JWKS_MAX_AGE=1s", "SIGNING_KEY_ROTATION=2s")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewVerifier(ctx, Config{
		AccountdURL: a.URL, Issuer: "accountd", JWKSRefresh: time.Second, NoRefreshOnUnknownKID: true,
		ClientID: clientID, ClientSecret: clientSecret,
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	rs := httptest.NewServer(NewHandler(v))
	defer rs.Close()

	u := newUser(t, a, "rs.user")
	kids := map[string]bool{}
	for i, deadline := 0, time.Now().Add(90*time.Second); len(kids) < 4; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("saw %d keys in 90s, want 4 with a rotation every 2s", len(kids))
		}
		u.refresh()
		status, body := call(t, rs.URL, "/hello", u.access, i%3 == 0)
		if status != http.StatusOK {
			t.Fatalf("token %d (%d keys so far) refused by the resource server: %d", i, len(kids), status)
		}
		kids[body["kid"]] = true
		time.Sleep(100 * time.Millisecond)
	}

	// Introspection sees what offline verification cannot: a logout.
	u.refresh()
	if status, body := call(t, rs.URL, "/hello/introspected", u.access, false); status != http.StatusOK || body["username"] != "rs.user" {
		t.Fatalf("introspected call = %d %v, want 200 for rs.user", status, body)
	}
	loggedOut := u.access
	req, _ := http.NewRequest(http.MethodDelete, a.URL+"/api/v1/accounts/logout", nil)
	req.Header.Set("Authorization", "Bearer "+loggedOut)
	if resp, err := u.client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %v %v", resp, err)
	}
	eventually(t, "introspection refuses the logged-out token", func() bool {
		status, _ := call(t, rs.URL, "/hello/introspected", loggedOut, false)
		return status == http.StatusUnauthorized
	})

	// A revoked key: accountd refuses its tokens at once, the resource
	// server once it has fetched the JWKS again.
	w := newUser(t, a, "rs.revoked")
	parsed, _, _ := jwt.NewParser().ParseUnverified(w.access, jwt.MapClaims{})
	kid, _ := parsed.Header["kid"].(string)
	a.keys(t, "revoke", kid)
	eventually(t, "accountd refuses the revoked key's token", func() bool {
		status, _ := call(t, rs.URL, "/hello/introspected", w.access, true)
		return status == http.StatusUnauthorized
	})
	eventually(t, "offline verification refuses the revoked key's token", func() bool {
		status, _ := call(t, rs.URL, "/hello", w.access, false)
		return status == http.StatusUnauthorized
	})

	// Forgeries never pass.
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x", "sid": "y", "iss": "accountd",
		"exp": time.Now().Add(time.Minute).Unix(), "iat": time.Now().Unix()})
	none.Header["typ"], none.Header["kid"] = "at+jwt", kid
	forged, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if status, _ := call(t, rs.URL, "/hello", forged, false); status != http.StatusUnauthorized {
		t.Fatalf("alg none token: %d, want 401", status)
	}
}
