package http_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumHint says how to get the browser the test drives.
const chromiumHint = "install it with: apt-get install --no-install-recommends chromium (make services does)"

// browserPage is a single-page app on another origin of the same site as
// the API (the same host, another port): it signs in with fetch, reads the
// session hint from document.cookie, asks GET /session, and signs out.
const browserPage = `<!doctype html><meta charset="utf-8"><title>app</title><script>
const api = %q;
async function call(method, path, body) {
  const r = await fetch(api + path, {method, body, credentials: "include"});
  return {status: r.status, body: await r.text()};
}
function hint() {
  const c = document.cookie.split("; ").find(c => c.startsWith("session_hint="));
  return c ? c.slice("session_hint=".length) : "";
}
</script>`

// The session hint is readable from document.cookie by a page of an
// allowed origin of the same site, as a frontend reads it, and the token
// cookies are not; logging out takes the hint away.
func TestSessionHintInABrowser(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not on PATH: %v; %s", err, chromiumHint)
	}
	var apiURL string
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, browserPage, apiURL)
	}))
	t.Cleanup(page.Close)
	api := newTestAPI(t, withOrigins(page.URL))
	apiURL = api.URL
	id := api.newAccount(t, "browser")
	if !strings.HasPrefix(page.URL, "http://127.0.0.1:") || !strings.HasPrefix(api.URL, "http://127.0.0.1:") {
		t.Fatalf("page %s and API %s must share the host to be one site", page.URL, api.URL)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// Generous: a headless browser starting on a loaded machine.
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(cancel)

	type result struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	eval := func(what, js string) result {
		t.Helper()
		r, err := chromedp.Run(ctx, chromedp.Evaluate[result](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s in chromium: %v", what, err)
		}
		return r
	}
	read := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s in chromium: %v", js, err)
		}
		return v
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL+"/app")); err != nil {
		t.Fatalf("chromium: open the page: %v", err)
	}
	login := eval("login", fmt.Sprintf(`call("POST", "/api/v1/accounts/token", new URLSearchParams({username: %q, password: %q}))`,
		id, testPassword))
	hintAfterLogin, cookies := read(`hint()`), read(`document.cookie`)
	session := eval("GET /session", `call("GET", "/api/v1/accounts/session")`)
	logout := eval("logout", `call("DELETE", "/api/v1/accounts/logout")`)
	hintAfterLogout := read(`hint()`)
	if login.Status != http.StatusOK || session.Status != http.StatusOK || logout.Status != http.StatusOK {
		t.Fatalf("login %d %s, GET /session %d %s, logout %d %s; want 200s", login.Status, login.Body,
			session.Status, session.Body, logout.Status, logout.Body)
	}
	parts := strings.Split(hintAfterLogin, ".")
	if len(parts) != 3 {
		t.Fatalf("document.cookie hint = %q (cookies %q), want <access_exp>.<refresh_exp>.<session_exp>",
			hintAfterLogin, cookies)
	}
	if strings.Contains(cookies, "access_token") || strings.Contains(cookies, "refresh_token") {
		t.Fatalf("document.cookie = %q shows a token cookie, want only the hint", cookies)
	}
	// The hint and GET /session agree on the session's expiries.
	for _, field := range []string{"access_expires_at", "refresh_expires_at", "session_expires_at"} {
		if !strings.Contains(session.Body, field) {
			t.Fatalf("GET /session = %s, want %s", session.Body, field)
		}
	}
	wantSameInstant(t, session.Body, "refresh_expires_at", parts[1])
	wantSameInstant(t, session.Body, "session_expires_at", parts[2])
	if hintAfterLogout != "" {
		t.Fatalf("document.cookie still holds the hint %q after logout", hintAfterLogout)
	}
}

// wantSameInstant fails unless the JSON body's RFC 3339 field names the Unix
// second unix.
func wantSameInstant(t *testing.T, body, field, unix string) {
	t.Helper()
	i := strings.Index(body, `"`+field+`":"`)
	if i < 0 {
		t.Fatalf("GET /session = %s, want %s as a string", body, field)
	}
	rest := body[i+len(field)+4:]
	at, err := time.Parse(time.RFC3339Nano, rest[:strings.IndexByte(rest, '"')])
	if err != nil || fmt.Sprint(at.Unix()) != unix {
		t.Fatalf("GET /session %s = %v (%v), the hint says %s", field, at, err, unix)
	}
}
