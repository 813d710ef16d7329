package http_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

const (
	appOrigin  = "https://app.example.com"
	evilOrigin = "https://evil.example.net"
)

// fromOrigin makes a request look like a browser's fetch from origin, with
// site as its Sec-Fetch-Site ("" for an old browser that sends none).
func fromOrigin(origin, site string) []reqOpt {
	opts := []reqOpt{header("Origin", origin)}
	if site != "" {
		opts = append(opts, header("Sec-Fetch-Site", site))
	}
	return opts
}

// victimCookies sends the tokens of l as a browser would: as cookies only.
func victimCookies(l login) []reqOpt {
	return []reqOpt{withCookie("access_token", l.access), refreshCookie(l.refresh)}
}

func TestCrossSiteRequestsAreRefused(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withReuseGrace(0), withOrigins(appOrigin)) // REFRESH_REUSE_GRACE=0
	id := api.newAccount(t, "victim")
	l := api.login(t, id, testPassword)
	const newPassword = "attacker-chose-this"

	attacks := []struct {
		name string
		from []reqOpt
	}{
		{"cross-site", fromOrigin(evilOrigin, "cross-site")},
		{"same-site but not allowed", fromOrigin("https://other.example.com", "same-site")},
		{"old browser, foreign Origin only", fromOrigin(evilOrigin, "")},
		{"null origin", fromOrigin("null", "cross-site")},
	}
	for _, a := range attacks {
		requests := []struct {
			method, path string
			body         any
		}{
			{http.MethodPut, accountsPath + "/password", map[string]string{"old_password": testPassword, "new_password": newPassword}},
			{http.MethodDelete, accountsPath + "/logout?scope=global", nil},
			{http.MethodPost, accountsPath + "/refresh", nil},
			{http.MethodPost, accountsPath + "/verify_password", map[string]string{"password": testPassword}},
			{http.MethodDelete, accountsPath + "/sessions/" + l.sessionID, nil},
			{http.MethodPost, tokenRoute, loginForm(id, testPassword)}, // login CSRF
			{http.MethodPost, accountsPath + "/", map[string]string{"account_id": newAccountID("csrf"), "password": testPassword}},
		}
		for _, rq := range requests {
			r := api.do(t, rq.method, rq.path, rq.body, append(victimCookies(l), a.from...)...)
			if r.Status != http.StatusForbidden {
				t.Fatalf("%s %s %s: status = %d, want 403 (body %s)", a.name, rq.method, rq.path, r.Status, r.Body)
			}
			wantErrorBody(t, r, "cross_origin_rejected")
			if len(r.Cookies) != 0 {
				t.Fatalf("%s %s %s: refused request set cookies %v", a.name, rq.method, rq.path, r.Cookies)
			}
			if r.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("%s %s %s: CORS header for a foreign origin", a.name, rq.method, rq.path)
			}
		}
	}

	// Nothing changed: the password, the session and its refresh token.
	if n := api.countRefreshTokens(t, l.sessionID); n != 1 {
		t.Fatalf("session has %d refresh tokens, want 1: a refused refresh rotated it", n)
	}
	api.wantAccess(t, "access token after the refused logout", l.access, http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodPost, tokenRoute, loginForm(id, newPassword)), http.StatusBadRequest, "invalid_credentials")
	api.login(t, id, testPassword)
	if api.sessionRevoked(t, l.sessionID) {
		t.Fatal("the session was revoked by a refused request")
	}

	// The same requests from the allowed origin succeed, with its cookies.
	allowed := fromOrigin(appOrigin, "same-site")
	r := api.do(t, http.MethodPost, accountsPath+"/refresh", nil, append(victimCookies(l), allowed...)...)
	wantStatus(t, r, http.StatusOK, "")
	wantCORS(t, "POST /refresh from the allowed origin", r, appOrigin)
	l2 := tokensOf(t, r)
	if l2.refresh == l.refresh || api.countRefreshTokens(t, l.sessionID) != 2 {
		t.Fatal("refresh from the allowed origin did not rotate the refresh token")
	}
	r = api.do(t, http.MethodPut, accountsPath+"/password",
		map[string]string{"old_password": testPassword, "new_password": newPassword}, append(victimCookies(l2), allowed...)...)
	wantStatus(t, r, http.StatusOK, "")
	wantCORS(t, "PUT /password from the allowed origin", r, appOrigin)
	api.login(t, id, newPassword)
	r = api.do(t, http.MethodDelete, accountsPath+"/logout", nil, append(victimCookies(l2), fromOrigin(appOrigin, "cross-site")...)...)
	wantStatus(t, r, http.StatusOK, "")
	wantCORS(t, "DELETE /logout from the allowed origin", r, appOrigin)
	api.wantAccess(t, "access token after logout", l2.access, http.StatusUnauthorized, "token_revoked")

	// Same-origin pages and clients that are not browsers pass.
	l3 := api.login(t, id, newPassword, fromOrigin(api.URL, "same-origin")...)
	wantStatus(t, api.do(t, http.MethodDelete, accountsPath+"/logout", nil, victimCookies(l3)...), http.StatusOK, "")
}

// wantCORS fails unless r lets a page on origin read it with credentials.
func wantCORS(t *testing.T, what string, r response, origin string) {
	t.Helper()
	h := r.Header
	if got := h.Get("Access-Control-Allow-Origin"); got != origin {
		t.Fatalf("%s: Access-Control-Allow-Origin = %q, want %q", what, got, origin)
	}
	if got := h.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Fatalf("%s: Access-Control-Allow-Credentials = %q, want true", what, got)
	}
	exposed := strings.ToLower(h.Get("Access-Control-Expose-Headers"))
	for _, name := range []string{"x-request-id", "retry-after"} {
		if !strings.Contains(exposed, name) {
			t.Fatalf("%s: Access-Control-Expose-Headers = %q, want it to list %s", what, exposed, name)
		}
	}
}

// corsEndpoints lists every route of the contract with a path that matches it.
var corsEndpoints = []struct{ method, path string }{
	{http.MethodPost, accountsPath + "/"},
	{http.MethodPost, accountsPath + "/token"},
	{http.MethodPost, accountsPath + "/refresh"},
	{http.MethodDelete, accountsPath + "/logout"},
	{http.MethodGet, accountsPath + "/me"},
	{http.MethodGet, accountsPath + "/exist/someone"},
	{http.MethodPost, accountsPath + "/verify_password"},
	{http.MethodPut, accountsPath + "/password"},
	{http.MethodGet, accountsPath + "/sessions"},
	{http.MethodDelete, accountsPath + "/sessions/8d7f1b9e-3c1a-4f6e-9a57-2b1f0c3d4e5f"},
	{http.MethodGet, "/health"},
	{http.MethodGet, "/"},
}

func preflight(origin, method string) []reqOpt {
	return []reqOpt{
		header("Origin", origin), header("Access-Control-Request-Method", method),
		header("Access-Control-Request-Headers", "content-type,authorization,x-request-id"),
	}
}

func TestCORSPreflight(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withOrigins("http://localhost:3000", appOrigin))
	for _, e := range corsEndpoints {
		r := api.do(t, http.MethodOptions, e.path, nil, preflight(appOrigin, e.method)...)
		if r.Status/100 != 2 {
			t.Fatalf("preflight %s %s: status = %d, want 2xx (body %s)", e.method, e.path, r.Status, r.Body)
		}
		h := r.Header
		if h.Get("Access-Control-Allow-Origin") != appOrigin || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("preflight %s %s: allow origin %q, credentials %q; want %q, true", e.method, e.path,
				h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"), appOrigin)
		}
		if !strings.Contains(h.Get("Access-Control-Allow-Methods"), e.method) {
			t.Fatalf("preflight %s %s: Access-Control-Allow-Methods = %q", e.method, e.path, h.Get("Access-Control-Allow-Methods"))
		}
		allowHeaders := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		for _, name := range []string{"content-type", "authorization", "x-request-id"} {
			if !strings.Contains(allowHeaders, name) {
				t.Fatalf("preflight %s %s: Access-Control-Allow-Headers = %q, want %s", e.method, e.path, allowHeaders, name)
			}
		}
		if !slices.Contains(h.Values("Vary"), "Origin") {
			t.Fatalf("preflight %s %s: Vary = %v, want Origin", e.method, e.path, h.Values("Vary"))
		}

		for _, origin := range []string{evilOrigin, "https://app.example.com.evil.example", "null"} {
			r = api.do(t, http.MethodOptions, e.path, nil, preflight(origin, e.method)...)
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Fatalf("preflight %s %s from %s: Access-Control-Allow-Origin = %q, want none", e.method, e.path, origin, got)
			}
			if r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatalf("preflight %s %s from %s: allows credentials", e.method, e.path, origin)
			}
		}
	}
	// A method outside GET, POST, PUT, DELETE is not allowed.
	r := api.do(t, http.MethodOptions, accountsPath+"/me", nil, preflight(appOrigin, http.MethodPatch)...)
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("preflight for PATCH: Access-Control-Allow-Origin = %q, want none", got)
	}
	// A second allowed origin works too, as its own value, never "*".
	r = api.do(t, http.MethodOptions, accountsPath+"/token", nil, preflight("http://localhost:3000", http.MethodPost)...)
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:3000" {
		t.Fatalf("preflight from the second origin: Access-Control-Allow-Origin = %q", got)
	}
}

func TestCORSActualRequests(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withOrigins(appOrigin))
	id := api.newAccount(t, "cors")
	l := api.login(t, id, testPassword, fromOrigin(appOrigin, "cross-site")...)
	wantCORS(t, "POST /token", l.resp, appOrigin)
	r := api.do(t, http.MethodGet, accountsPath+"/me", nil, append(victimCookies(l), fromOrigin(appOrigin, "cross-site")...)...)
	wantStatus(t, r, http.StatusOK, "")
	wantCORS(t, "GET /me", r, appOrigin)
	// Errors are readable by the page too.
	r = api.do(t, http.MethodGet, accountsPath+"/me", nil, fromOrigin(appOrigin, "cross-site")...)
	wantStatus(t, r, http.StatusUnauthorized, "not_authenticated")
	wantCORS(t, "401 from GET /me", r, appOrigin)

	r = api.do(t, http.MethodGet, accountsPath+"/me", nil, append(victimCookies(l), fromOrigin(evilOrigin, "cross-site")...)...)
	if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("GET /me from a foreign origin carries CORS headers: %v", r.Header)
	}
}

// Without CORS_ALLOWED_ORIGINS no origin is allowed: never "*".
func TestCORSWithoutAllowedOrigins(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	for _, e := range corsEndpoints[:3] {
		r := api.do(t, http.MethodOptions, e.path, nil, preflight(appOrigin, e.method)...)
		if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("preflight %s %s: Access-Control-Allow-Origin = %q, want none", e.method, e.path, got)
		}
	}
	r := api.do(t, http.MethodGet, "/", nil, fromOrigin(appOrigin, "cross-site")...)
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("GET / : Access-Control-Allow-Origin = %q, want none", got)
	}
	wantStatus(t, api.do(t, http.MethodPost, tokenRoute, loginForm("someone", "password1"), fromOrigin(appOrigin, "cross-site")...),
		http.StatusForbidden, "cross_origin_rejected")
}
