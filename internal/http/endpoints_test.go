package http_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// wantAccountBody checks a {uuid, account_id, created_at} body.
func wantAccountBody(t *testing.T, r response, accountID string) {
	t.Helper()
	m := r.obj(t)
	if len(m) != 3 {
		t.Fatalf("account body = %s, want exactly uuid, account_id, created_at", r.Body)
	}
	if u, _ := m["uuid"].(string); !uuidRE.MatchString(u) {
		t.Fatalf("uuid = %v, want a UUID", m["uuid"])
	}
	if m["account_id"] != accountID {
		t.Fatalf("account_id = %v, want %q", m["account_id"], accountID)
	}
	s, _ := m["created_at"].(string)
	created, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || time.Since(created).Abs() > time.Minute {
		t.Fatalf("created_at = %v, want an RFC 3339 time close to now", m["created_at"])
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	taken := newAccountID("John")
	api.register(t, taken, testPassword)

	path := accountsPath + "/"
	body := func(id, pw string) map[string]string { return map[string]string{"account_id": id, "password": pw} }
	created := func(id string) func(*testing.T, response) {
		return func(t *testing.T, r response) { wantAccountBody(t, r, id) }
	}
	var (
		plainID     = newAccountID("plain")
		charsetID   = newAccountID("charset")
		allCharsID  = "a.b_c-d@e+F9" + randomHex(4)
		shortestID  = randomHex(2)[:3]
		longestID   = strings.Repeat("x", 54) + randomHex(5)
		pw72ID      = newAccountID("pw72")
		runes72ID   = newAccountID("runes72")
		runes8ID    = newAccountID("runes8")
		bigBodyID   = newAccountID("bigbody")
		pw72        = strings.Repeat("p", 71) + "Z"
		pw73        = "Secret-73-" + strings.Repeat("q", 63)
		runes36     = strings.Repeat("é", 36) // 72 bytes
		runes37     = strings.Repeat("é", 37) // 74 bytes
		secret      = "Leak-Me-Not-" + randomHex(4)
		short7      = "Sh0rt!x"
		sameAsID    = newAccountID("Same-As-Password")
		exactly64k  = fmt.Sprintf(`{"account_id":%q,"password":%q,"pad":"`, bigBodyID, testPassword)
		overLimit64 = fmt.Sprintf(`{"account_id":%q,"password":%q,"pad":"`, newAccountID("huge"), secret)
	)
	exactly64k += strings.Repeat("a", 64<<10-len(exactly64k)-2) + `"}`
	overLimit64 += strings.Repeat("a", 64<<10-len(overLimit64)-1) + `"}`
	if len(pw73) != 73 || len(exactly64k) != 64<<10 || len(overLimit64) != 64<<10+1 {
		t.Fatalf("bad fixtures: %d %d %d", len(pw73), len(exactly64k), len(overLimit64))
	}
	missing := func(field string) issue { return issue{"missing", []string{"body", field}, "Field required"} }

	runCases(t, api, []apiCase{
		{name: "created", body: body(plainID, testPassword), wantStatus: 201, check: created(plainID)},
		{name: "content type with charset", body: rawBody{"application/json; charset=utf-8",
			[]byte(fmt.Sprintf(`{"account_id":%q,"password":%q}`, charsetID, testPassword))}, wantStatus: 201, check: created(charsetID)},
		{name: "every allowed character", body: body(allCharsID, testPassword), wantStatus: 201, check: created(allCharsID)},
		{name: "3 character id", body: body(shortestID, testPassword), wantStatus: 201, check: created(shortestID)},
		{name: "64 character id", body: body(longestID, testPassword), wantStatus: 201, check: created(longestID)},
		{name: "72 byte password", body: body(pw72ID, pw72), wantStatus: 201, check: created(pw72ID)},
		{name: "72 byte password of 36 characters", body: body(runes72ID, runes36), wantStatus: 201, check: created(runes72ID)},
		{name: "8 character password of 16 bytes", body: body(runes8ID, strings.Repeat("é", 8)), wantStatus: 201},
		{name: "body of exactly 64 KiB", body: exactly64k, wantStatus: 201, check: created(bigBodyID)},

		{name: "taken", body: body(taken, secret), wantStatus: 409, wantCode: "account_exists", secret: secret},
		{name: "taken in lower case", body: body(strings.ToLower(taken), secret), wantStatus: 409, wantCode: "account_exists", secret: secret},
		{name: "taken in upper case", body: body(strings.ToUpper(taken), secret), wantStatus: 409, wantCode: "account_exists", secret: secret},

		{name: "empty object", body: `{}`, wantStatus: 422, wantIssues: []issue{missing("account_id"), missing("password")}},
		{name: "missing password", body: map[string]string{"account_id": newAccountID("nopw")}, wantStatus: 422,
			wantIssues: []issue{missing("password")}},
		{name: "missing account_id", body: map[string]string{"password": secret}, wantStatus: 422,
			wantIssues: []issue{missing("account_id")}, secret: secret},
		{name: "wrong types", body: `{"account_id": 12345, "password": null}`, wantStatus: 422, wantIssues: []issue{
			{"string_type", []string{"body", "account_id"}, "Input should be a valid string"},
			{"string_type", []string{"body", "password"}, "Input should be a valid string"}}},
		{name: "password is a number", body: fmt.Sprintf(`{"account_id": %q, "password": 1234567890}`, newAccountID("num")),
			wantStatus: 422, wantIssues: []issue{{"string_type", []string{"body", "password"}, ""}}},
		{name: "password is an object", body: fmt.Sprintf(`{"account_id": %q, "password": {"v": %q}}`, newAccountID("obj"), secret),
			wantStatus: 422, wantIssues: []issue{{"string_type", []string{"body", "password"}, ""}}, secret: secret},
		{name: "body is an array", body: `[]`, wantStatus: 422, wantIssues: []issue{{"model_attributes_type", []string{"body"}, ""}}},
		{name: "body is null", body: `null`, wantStatus: 422, wantIssues: []issue{{"model_attributes_type", []string{"body"}, ""}}},
		{name: "body is a string", body: `"x"`, wantStatus: 422, wantIssues: []issue{{"model_attributes_type", []string{"body"}, ""}}},
		{name: "malformed JSON", body: fmt.Sprintf(`{"account_id": "abc", "password": %q`, secret), wantStatus: 422,
			wantIssues: []issue{{"json_invalid", []string{"body"}, ""}}, secret: secret},
		{name: "two JSON values", body: `{"account_id":"abcd","password":"x"} {}`, wantStatus: 422,
			wantIssues: []issue{{"json_invalid", []string{"body"}, ""}}},
		{name: "empty body", body: ``, wantStatus: 422, wantIssues: []issue{{"json_invalid", []string{"body"}, ""}}},

		{name: "account_id too short", body: body("ab", secret), wantStatus: 422, secret: secret, wantIssues: []issue{
			{"string_too_short", []string{"body", "account_id"}, "String should have at least 3 characters"}}},
		{name: "account_id too long", body: body(strings.Repeat("y", 65), secret), wantStatus: 422, secret: secret, wantIssues: []issue{
			{"string_too_long", []string{"body", "account_id"}, "String should have at most 64 characters"}}},
		{name: "account_id with a space", body: body("john doe", secret), wantStatus: 422, secret: secret,
			wantIssues: []issue{{"string_pattern_mismatch", []string{"body", "account_id"}, ""}}},
		{name: "account_id with a slash", body: body("john/doe", secret), wantStatus: 422, secret: secret,
			wantIssues: []issue{{"string_pattern_mismatch", []string{"body", "account_id"}, ""}}},
		{name: "account_id not ASCII", body: body("jöhn", secret), wantStatus: 422, secret: secret,
			wantIssues: []issue{{"string_pattern_mismatch", []string{"body", "account_id"}, ""}}},
		{name: "password of 7 characters", body: body(newAccountID("pw7"), short7), wantStatus: 422, secret: short7,
			wantIssues: []issue{{"string_too_short", []string{"body", "password"}, "String should have at least 8 characters"}}},
		{name: "password of 7 two-byte characters", body: body(newAccountID("pw7r"), strings.Repeat("é", 7)), wantStatus: 422,
			wantIssues: []issue{{"string_too_short", []string{"body", "password"}, ""}}},
		{name: "password of 73 bytes", body: body(newAccountID("pw73"), pw73), wantStatus: 422, secret: pw73,
			wantIssues: []issue{{"string_too_long", []string{"body", "password"}, ""}}},
		{name: "password of 74 bytes in 37 characters", body: body(newAccountID("pw74"), runes37), wantStatus: 422, secret: runes37,
			wantIssues: []issue{{"string_too_long", []string{"body", "password"}, ""}}},
		{name: "password equals account_id", body: body(sameAsID, sameAsID), wantStatus: 422, secret: sameAsID,
			wantIssues: []issue{{"value_error", []string{"body", "password"}, ""}}},
		{name: "password equals account_id in another case", body: body(sameAsID, strings.ToLower(sameAsID)), wantStatus: 422,
			secret: strings.ToLower(sameAsID), wantIssues: []issue{{"value_error", []string{"body", "password"}, ""}}},
		{name: "id and password both bad", body: body("a", short7), wantStatus: 422, secret: short7, wantIssues: []issue{
			{"string_too_short", []string{"body", "account_id"}, ""}, {"string_too_short", []string{"body", "password"}, ""}}},

		{name: "text/plain", body: rawBody{"text/plain", []byte(fmt.Sprintf(`{"account_id":"abcd","password":%q}`, secret))},
			wantStatus: 415, wantCode: "unsupported_media_type", secret: secret},
		{name: "no content type", body: rawBody{"", []byte(`{"account_id":"abcd","password":"abcdefgh1"}`)},
			wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "form instead of JSON", body: url.Values{"account_id": {"abcd"}, "password": {secret}},
			wantStatus: 415, wantCode: "unsupported_media_type", secret: secret},
		{name: "body over 64 KiB", body: overLimit64, wantStatus: 413, wantCode: "payload_too_large", secret: secret},
	}, http.MethodPost, path)

	t.Run("passwords stay out of the log", func(t *testing.T) {
		// Runs after the parallel cases above have finished.
		for _, pw := range []string{secret, short7, pw73, pw72, runes37, testPassword} {
			wantNoSecret(t, "service log", []byte(api.logs.String()), pw)
		}
	})
}

func TestRegisteredAccountCanLogIn(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := newAccountID("Fresh")
	created := api.register(t, id, testPassword)
	l := api.login(t, id, testPassword)
	r := api.me(t, l.access)
	wantStatus(t, r, http.StatusOK, "")
	wantAccountBody(t, r, id)
	if got := r.obj(t)["uuid"]; got != created["uuid"] || claimsOf(t, l.access)["sub"] != created["uuid"] {
		t.Fatalf("GET /me uuid = %v, token sub = %v, want the registered uuid %v", got, claimsOf(t, l.access)["sub"], created["uuid"])
	}
}

// wantTokenResponse checks a 200 from /token or /refresh: the body, the
// Cache-Control header and both cookies with their exact attributes.
func wantTokenResponse(t *testing.T, r response, secure bool) {
	t.Helper()
	wantStatus(t, r, http.StatusOK, "")
	m := r.obj(t)
	if len(m) != 3 || m["token_type"] != "bearer" || m["expires_in"] != float64(accessTTL/time.Second) {
		t.Fatalf("token body = %s, want access_token, token_type \"bearer\", expires_in %d", r.Body, int(accessTTL/time.Second))
	}
	access, _ := m["access_token"].(string)
	if claims := claimsOf(t, access); claims["iss"] != testIssuer || claims["sid"] == nil || claims["jti"] == nil {
		t.Fatalf("access token claims = %v, want iss, sid, jti", claims)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q, want no-store", cc)
	}
	for _, want := range []struct {
		name, path, value string
		maxAge            int
	}{
		{"access_token", "/", access, int(accessTTL / time.Second)},
		{"refresh_token", accountsPath, "", int(refreshTTL / time.Second)},
	} {
		c := r.cookie(want.name)
		switch {
		case c == nil:
			t.Fatalf("no %s cookie in %v", want.name, r.Header.Values("Set-Cookie"))
		case want.value != "" && c.Value != want.value:
			t.Fatalf("%s cookie = %q, want the access token of the body", want.name, c.Value)
		case c.Value == "", c.Path != want.path, !c.HttpOnly, c.SameSite != http.SameSiteLaxMode, c.Secure != secure,
			c.MaxAge < want.maxAge-2 || c.MaxAge > want.maxAge, c.Domain != "":
			t.Fatalf("Set-Cookie %q, want a value; Path=%s; Max-Age=%d; HttpOnly; SameSite=Lax; Secure=%v; no Domain",
				c.Raw, want.path, want.maxAge, secure)
		}
	}
	if rc := r.cookie("refresh_token"); len(rc.Value) < 43 || strings.Count(rc.Value, ".") == 2 {
		t.Fatalf("refresh token %q, want an opaque value of at least 256 bits, not a JWT", rc.Value)
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Login")
	pw72ID, pw72 := newAccountID("pw72"), strings.Repeat("k", 72)
	api.register(t, pw72ID, pw72)
	wrong := "Wrong-Password-" + randomHex(4)
	path := accountsPath + "/token"
	ok := func(t *testing.T, r response) { wantTokenResponse(t, r, false) }
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	invalid := func(name string, f url.Values, secret string) apiCase {
		return apiCase{name: name, body: f, wantStatus: 400, wantCode: "invalid_credentials", secret: secret,
			check: func(t *testing.T, r response) {
				if want := `{"detail":"Incorrect username or password","code":"invalid_credentials"}`; string(bytes.TrimSpace(r.Body)) != want {
					t.Fatalf("body = %s, want %s", r.Body, want)
				}
				if len(r.Cookies) != 0 {
					t.Fatalf("failed login set cookies %v, want none", r.Header.Values("Set-Cookie"))
				}
			}}
	}

	runCases(t, api, []apiCase{
		{name: "password grant", body: loginForm(id, testPassword), wantStatus: 200, check: func(t *testing.T, r response) {
			wantTokenResponse(t, r, false)
			access, refresh := r.cookie("access_token"), r.cookie("refresh_token")
			hint := wantHint(t, r)
			want := []string{
				"access_token=" + access.Value + "; Path=/; Max-Age=1800; HttpOnly; SameSite=Lax",
				"refresh_token=" + refresh.Value + "; Path=/api/v1/accounts; Max-Age=604800; HttpOnly; SameSite=Lax",
				"session_hint=" + hint.raw + "; Path=/; Max-Age=604800; SameSite=Lax",
			}
			if got := r.Header.Values("Set-Cookie"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("Set-Cookie = %q, want exactly %q", got, want)
			}
		}},
		{name: "explicit grant_type, scope and client_id", body: form("grant_type", "password", "username", id,
			"password", testPassword, "scope", "me", "client_id", "web"), wantStatus: 200, check: ok},
		{name: "account id in upper case", body: loginForm(strings.ToUpper(id), testPassword), wantStatus: 200, check: ok},
		{name: "account id in lower case", body: loginForm(strings.ToLower(id), testPassword), wantStatus: 200, check: ok},
		{name: "multipart form", body: multipartForm{"username": id, "password": testPassword}, wantStatus: 200, check: ok},
		{name: "72 byte password", body: loginForm(pw72ID, pw72), wantStatus: 200, check: ok},

		invalid("wrong password", loginForm(id, wrong), wrong),
		invalid("unknown account", loginForm(newAccountID("nobody"), wrong), wrong),
		invalid("impossible account id", loginForm("no such id!", wrong), wrong),
		invalid("73 byte password whose first 72 bytes are right", loginForm(pw72ID, pw72+"k"), pw72+"k"),

		{name: "grant_type client_credentials", body: form("grant_type", "client_credentials", "username", id, "password", wrong),
			wantStatus: 422, secret: wrong, wantIssues: []issue{{"string_pattern_mismatch", []string{"body", "grant_type"}, ""}}},
		{name: "grant_type refresh_token", body: form("grant_type", "refresh_token", "username", id, "password", wrong),
			wantStatus: 422, secret: wrong, wantIssues: []issue{{"string_pattern_mismatch", []string{"body", "grant_type"}, ""}}},
		{name: "missing username", body: form("password", wrong), wantStatus: 422, secret: wrong,
			wantIssues: []issue{{"missing", []string{"body", "username"}, "Field required"}}},
		{name: "missing password", body: form("username", id), wantStatus: 422,
			wantIssues: []issue{{"missing", []string{"body", "password"}, "Field required"}}},
		{name: "empty form", body: url.Values{}, wantStatus: 422, wantIssues: []issue{
			{"missing", []string{"body", "username"}, "Field required"}, {"missing", []string{"body", "password"}, "Field required"}}},
		{name: "malformed form", body: rawBody{"application/x-www-form-urlencoded", []byte("username=%zz&password=" + wrong)},
			wantStatus: 422, secret: wrong},
		{name: "JSON instead of a form", body: map[string]string{"username": id, "password": wrong},
			wantStatus: 415, wantCode: "unsupported_media_type", secret: wrong},
		{name: "form over 64 KiB", body: form("username", id, "password", wrong, "pad", strings.Repeat("z", 64<<10)),
			wantStatus: 413, wantCode: "payload_too_large", secret: wrong},
	}, http.MethodPost, path)
}

// TestCookiesOverTLSAreSecure checks COOKIE_SECURE=auto: over TLS the token
// cookies are Secure, and their clearing too.
func TestCookiesOverTLSAreSecure(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withTLS())
	id := api.newAccount(t, "Tls")
	r := api.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword))
	wantTokenResponse(t, r, true)
	r = api.refresh(t, tokensOf(t, r).refresh)
	wantTokenResponse(t, r, true)
	r = api.do(t, http.MethodDelete, logoutPath, nil, refreshCookie(tokensOf(t, r).refresh))
	wantClearedCookies(t, r)
	for _, c := range r.Cookies {
		if !c.Secure {
			t.Fatalf("clearing Set-Cookie %q over TLS, want Secure", c.Raw)
		}
	}
}

// TestLoginFailuresLookAlike checks that a wrong password and an unknown
// account cannot be told apart: same status, same body, same headers, and
// both pay exactly one bcrypt comparison.
func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Alike")
	attempts := map[string]url.Values{
		"wrong password":        loginForm(id, "not-the-password"),
		"unknown account":       loginForm(newAccountID("ghost"), "not-the-password"),
		"impossible account id": loginForm("x", "not-the-password"),
		"73 byte password":      loginForm(id, strings.Repeat("n", 73)),
	}
	var first *response
	for name, f := range attempts {
		before := api.hasher.Compares()
		r := api.do(t, http.MethodPost, accountsPath+"/token", f)
		if n := api.hasher.Compares() - before; n != 1 {
			t.Fatalf("%s: %d bcrypt comparisons, want exactly 1", name, n)
		}
		wantStatus(t, r, http.StatusBadRequest, "invalid_credentials")
		if first == nil {
			first = &r
			continue
		}
		if !bytes.Equal(r.Body, first.Body) {
			t.Fatalf("%s: body %s, want the same body as the other failures: %s", name, r.Body, first.Body)
		}
		for _, h := range []string{"Content-Type", "Content-Length", "Set-Cookie", "WWW-Authenticate", "Cache-Control"} {
			if strings.Join(r.Header.Values(h), ",") != strings.Join(first.Header.Values(h), ",") {
				t.Fatalf("%s: %s = %q, want %q as for the other failures", name, h, r.Header.Values(h), first.Header.Values(h))
			}
		}
	}
}

func TestAuthenticatedEndpointsNeedAToken(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	notAuthenticated := func(t *testing.T, r response) {
		if got := r.Header.Get("WWW-Authenticate"); got != "Bearer" {
			t.Fatalf("WWW-Authenticate = %q, want Bearer", got)
		}
	}
	cases := []apiCase{
		{name: "me", method: http.MethodGet, path: accountsPath + "/me"},
		{name: "verify_password", method: http.MethodPost, path: accountsPath + "/verify_password", body: `{"password":"securepass123"}`},
		{name: "password", method: http.MethodPut, path: accountsPath + "/password",
			body: `{"old_password":"securepass123","new_password":"another-pass-1"}`},
		{name: "sessions", method: http.MethodGet, path: accountsPath + "/sessions"},
		{name: "delete session", method: http.MethodDelete, path: accountsPath + "/sessions/" + "3f1c6d2e-8a4b-4c1d-9e2f-0a1b2c3d4e5f"},
		{name: "basic auth is no token", method: http.MethodGet, path: accountsPath + "/me",
			opts: []reqOpt{header("Authorization", "Basic dXNlcjpzZWN1cmVwYXNzMTIz")}},
		{name: "empty bearer", method: http.MethodGet, path: accountsPath + "/me", opts: []reqOpt{header("Authorization", "Bearer ")}},
		{name: "refresh cookie is no access token", method: http.MethodGet, path: accountsPath + "/me",
			opts: []reqOpt{refreshCookie("abc")}},
	}
	for i := range cases {
		cases[i].wantStatus, cases[i].wantCode, cases[i].check = http.StatusUnauthorized, "not_authenticated", notAuthenticated
	}
	runCases(t, api, cases, "", "")
}

func TestExist(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Exist.Me")
	email := "Mail_" + randomHex(4) + "@example.com"
	plus := "a+b-" + randomHex(4)
	api.register(t, email, testPassword)
	api.register(t, plus, testPassword)
	exists := func(asked string, want bool) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			m := r.obj(t)
			if len(m) != 2 || m["account_id"] != asked || m["exists"] != want {
				t.Fatalf("body = %s, want {\"account_id\": %q, \"exists\": %v}", r.Body, asked, want)
			}
		}
	}
	p := accountsPath + "/exist/"
	unknown := newAccountID("nobody")
	runCases(t, api, []apiCase{
		{name: "exists", path: p + id, wantStatus: 200, check: exists(id, true)},
		{name: "exists in lower case", path: p + strings.ToLower(id), wantStatus: 200, check: exists(strings.ToLower(id), true)},
		{name: "exists in upper case", path: p + strings.ToUpper(id), wantStatus: 200, check: exists(strings.ToUpper(id), true)},
		{name: "email address", path: p + email, wantStatus: 200, check: exists(email, true)},
		{name: "plus sign", path: p + plus, wantStatus: 200, check: exists(plus, true)},
		{name: "unknown", path: p + unknown, wantStatus: 200, check: exists(unknown, false)},
		// encodeURIComponent, which frontends use to build this path,
		// escapes @ and +; the server must decode the path parameter.
		{name: "email address percent-encoded", path: p + strings.Replace(email, "@", "%40", 1), wantStatus: 200, check: exists(email, true)},
		{name: "plus sign percent-encoded", path: p + strings.Replace(plus, "+", "%2B", 1), wantStatus: 200, check: exists(plus, true)},
		{name: "too short", path: p + "ab", wantStatus: 422,
			wantIssues: []issue{{"string_too_short", []string{"path", "account_id"}, ""}}},
		{name: "too long", path: p + strings.Repeat("z", 65), wantStatus: 422,
			wantIssues: []issue{{"string_too_long", []string{"path", "account_id"}, ""}}},
		{name: "bad character", path: p + "bad%21id", wantStatus: 422,
			wantIssues: []issue{{"string_pattern_mismatch", []string{"path", "account_id"}, ""}}},
		{name: "space", path: p + "bad%20id", wantStatus: 422,
			wantIssues: []issue{{"string_pattern_mismatch", []string{"path", "account_id"}, ""}}},
	}, http.MethodGet, "")
}

func TestVerifyPassword(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Verify")
	l := api.login(t, id, testPassword)
	auth := []reqOpt{bearer(l.access)}
	wrong := "Wrong-Password-" + randomHex(4)
	long := "Long-" + strings.Repeat("l", 80)
	message := func(t *testing.T, r response) {
		if m := r.obj(t); len(m) != 1 || m["message"] == "" || m["message"] == nil {
			t.Fatalf("body = %s, want {\"message\": \"...\"}", r.Body)
		}
	}
	runCases(t, api, []apiCase{
		{name: "right password", body: map[string]string{"password": testPassword}, opts: auth, wantStatus: 200, check: message},
		{name: "right password via cookie", body: map[string]string{"password": testPassword},
			opts: []reqOpt{withCookie("access_token", l.access)}, wantStatus: 200, check: message},
		{name: "wrong password", body: map[string]string{"password": wrong}, opts: auth, wantStatus: 400,
			wantCode: "invalid_password", secret: wrong},
		{name: "password over 72 bytes", body: map[string]string{"password": long}, opts: auth, wantStatus: 400,
			wantCode: "invalid_password", secret: long},
		{name: "missing password", body: `{}`, opts: auth, wantStatus: 422,
			wantIssues: []issue{{"missing", []string{"body", "password"}, "Field required"}}},
		{name: "password not a string", body: `{"password": true}`, opts: auth, wantStatus: 422,
			wantIssues: []issue{{"string_type", []string{"body", "password"}, ""}}},
		{name: "malformed JSON", body: `{"password": `, opts: auth, wantStatus: 422},
		{name: "form", body: url.Values{"password": {wrong}}, opts: auth, wantStatus: 415, wantCode: "unsupported_media_type", secret: wrong},
		{name: "no token", body: map[string]string{"password": testPassword}, wantStatus: 401, wantCode: "not_authenticated"},
	}, http.MethodPost, accountsPath+"/verify_password")
}

func TestChangePasswordAnswers(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Change")
	auth := []reqOpt{bearer(api.login(t, id, testPassword).access)}
	changer := api.newAccount(t, "Changer")
	changerAuth := []reqOpt{bearer(api.login(t, changer, testPassword).access)}
	wrong := "Wrong-Password-" + randomHex(4)
	newPW := "Brand-New-Pass-" + randomHex(4)
	long := "Long-" + strings.Repeat("m", 68)
	change := func(old, new string) map[string]string {
		return map[string]string{"old_password": old, "new_password": new}
	}
	runCases(t, api, []apiCase{
		{name: "changed", body: change(testPassword, newPW), opts: changerAuth, wantStatus: 200, secret: newPW,
			check: func(t *testing.T, r response) {
				if m := r.obj(t); len(m) != 1 || m["message"] == nil {
					t.Fatalf("body = %s, want {\"message\": \"...\"}", r.Body)
				}
			}},
		{name: "wrong old password", body: change(wrong, newPW), opts: auth, wantStatus: 400, wantCode: "invalid_password", secret: wrong},
		{name: "unchanged", body: change(testPassword, testPassword), opts: auth, wantStatus: 400, wantCode: "password_unchanged",
			secret: testPassword},
		{name: "new password too short", body: change(testPassword, "short"), opts: auth, wantStatus: 422, secret: testPassword,
			wantIssues: []issue{{"string_too_short", []string{"body", "new_password"}, ""}}},
		{name: "new password of 73 bytes", body: change(testPassword, long), opts: auth, wantStatus: 422, secret: long,
			wantIssues: []issue{{"string_too_long", []string{"body", "new_password"}, ""}}},
		{name: "new password equals account_id", body: change(testPassword, strings.ToUpper(id)), opts: auth, wantStatus: 422,
			wantIssues: []issue{{"value_error", []string{"body", "new_password"}, ""}}},
		{name: "missing fields", body: `{}`, opts: auth, wantStatus: 422, wantIssues: []issue{
			{"missing", []string{"body", "old_password"}, "Field required"}, {"missing", []string{"body", "new_password"}, "Field required"}}},
		{name: "old password not a string", body: `{"old_password": 5, "new_password": "another-pass-1"}`, opts: auth, wantStatus: 422,
			wantIssues: []issue{{"string_type", []string{"body", "old_password"}, ""}}},
		{name: "text/plain", body: rawBody{"text/plain", []byte(`{}`)}, opts: auth, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "no token", body: change(testPassword, newPW), wantStatus: 401, wantCode: "not_authenticated"},
	}, http.MethodPut, accountsPath+"/password")

	t.Run("password unchanged by the failures", func(t *testing.T) {
		api.login(t, id, testPassword)
		api.login(t, changer, newPW)
	})
}

func TestSessionsList(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Lister")
	first := api.login(t, id, testPassword, header("User-Agent", "phone/1.0"),
		header("X-Forwarded-For", "203.0.113.9")) // not from a trusted proxy: ignored
	second := api.login(t, id, testPassword, header("User-Agent", "laptop/2.0"))
	other := api.newAccount(t, "Stranger")
	api.login(t, other, testPassword)

	r := api.do(t, http.MethodGet, accountsPath+"/sessions", nil, bearer(first.access))
	wantStatus(t, r, http.StatusOK, "")
	list, ok := r.JSON.([]any)
	if !ok || len(list) != 2 {
		t.Fatalf("GET /sessions = %s, want a list of the account's 2 sessions", r.Body)
	}
	seen := map[string]map[string]any{}
	for _, e := range list {
		s, _ := e.(map[string]any)
		id, _ := s["id"].(string)
		seen[id] = s
		for _, k := range []string{"created_at", "last_used_at", "expires_at"} {
			v, _ := s[k].(string)
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				t.Fatalf("session %s = %v, want an RFC 3339 time", k, s[k])
			}
		}
		exp, _ := time.Parse(time.RFC3339Nano, s["expires_at"].(string))
		if d := time.Until(exp); d < refreshTTL-time.Minute || d > refreshTTL+time.Minute {
			t.Fatalf("expires_at = %v, want about %v from now", exp, refreshTTL)
		}
		if len(s) != 7 {
			t.Fatalf("session entry %v, want exactly id, created_at, last_used_at, expires_at, ip_address, user_agent, current", s)
		}
	}
	for _, want := range []struct {
		l       login
		ua      string
		current bool
	}{{first, "phone/1.0", true}, {second, "laptop/2.0", false}} {
		s := seen[want.l.sessionID]
		if s == nil {
			t.Fatalf("sessions %s do not list session %s", r.Body, want.l.sessionID)
		}
		if s["current"] != want.current || s["ip_address"] != "127.0.0.1" || s["user_agent"] != want.ua {
			t.Fatalf("session %v, want current=%v, ip_address 127.0.0.1, user_agent %q", s, want.current, want.ua)
		}
	}
	// Newest first.
	if list[0].(map[string]any)["id"] != second.sessionID {
		t.Fatalf("first listed session = %v, want the newest, %s", list[0], second.sessionID)
	}
	// From the other session, that one is current.
	r = api.do(t, http.MethodGet, accountsPath+"/sessions", nil, withCookie("access_token", second.access))
	wantStatus(t, r, http.StatusOK, "")
	for _, e := range r.JSON.([]any) {
		s := e.(map[string]any)
		if (s["id"] == second.sessionID) != (s["current"] == true) {
			t.Fatalf("sessions seen from %s = %s, want only that one current", second.sessionID, r.Body)
		}
	}
}

func TestRevokeSession(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Revoker")
	me := api.login(t, id, testPassword)
	mine := api.login(t, id, testPassword)
	current := api.login(t, id, testPassword)
	stranger := api.login(t, api.newAccount(t, "Stranger"), testPassword)
	p := accountsPath + "/sessions/"
	auth := []reqOpt{bearer(me.access)}

	runCases(t, api, []apiCase{
		{name: "another account's session", path: p + stranger.sessionID, opts: auth, wantStatus: 404, wantCode: "session_not_found"},
		{name: "garbage id", path: p + "not-a-session", opts: auth, wantStatus: 404, wantCode: "session_not_found"},
		{name: "unknown uuid", path: p + "0b7f3a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", opts: auth, wantStatus: 404, wantCode: "session_not_found"},
		{name: "own other session", path: p + mine.sessionID, opts: auth, wantStatus: 200},
		{name: "own current session", path: p + current.sessionID, opts: []reqOpt{bearer(current.access)}, wantStatus: 200},
	}, http.MethodDelete, "")

	t.Run("effects", func(t *testing.T) {
		api.wantAccess(t, "stranger's session after a foreign DELETE", stranger.access, http.StatusOK, "")
		api.wantRefresh(t, "stranger's session after a foreign DELETE", stranger.refresh, http.StatusOK, "")
		api.wantAccess(t, "revoked session", mine.access, http.StatusUnauthorized, "token_revoked")
		api.wantRefresh(t, "revoked session", mine.refresh, http.StatusUnauthorized, "invalid_token")
		api.wantAccess(t, "session that revoked itself", current.access, http.StatusUnauthorized, "token_revoked")
		api.wantAccess(t, "caller", me.access, http.StatusOK, "")
		r := api.do(t, http.MethodDelete, p+mine.sessionID, nil, auth...)
		wantStatus(t, r, http.StatusNotFound, "session_not_found")
		r = api.do(t, http.MethodGet, accountsPath+"/sessions", nil, auth...)
		if list, _ := r.JSON.([]any); len(list) != 1 || list[0].(map[string]any)["id"] != me.sessionID {
			t.Fatalf("sessions after revoking two = %s, want only %s", r.Body, me.sessionID)
		}
	})
}

func TestServiceEndpoints(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	exactBody := func(want string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			if got := string(bytes.TrimSpace(r.Body)); got != want {
				t.Fatalf("body = %s, want %s", got, want)
			}
		}
	}
	allow := func(want string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			if got := r.Header.Get("Allow"); got != want {
				t.Fatalf("Allow = %q, want %q", got, want)
			}
		}
	}
	notFound := exactBody(`{"detail":"Not Found","code":"not_found"}`)
	runCases(t, api, []apiCase{
		{name: "health", method: http.MethodGet, path: "/health", wantStatus: 200,
			check: exactBody(`{"status":"ok","checks":{"postgres":"ok","redis":"ok"}}`)},
		{name: "livez", method: http.MethodGet, path: "/livez", wantStatus: 200},
		{name: "root", method: http.MethodGet, path: "/", wantStatus: 200,
			check: exactBody(`{"name":"accountd","version":"` + testVersion + `","docs":"/docs"}`)},

		{name: "unknown path", method: http.MethodGet, path: "/nope", wantStatus: 404, wantCode: "not_found", check: notFound},
		{name: "unknown API path", method: http.MethodPost, path: accountsPath + "/nope", wantStatus: 404, wantCode: "not_found", check: notFound},
		{name: "old API version", method: http.MethodGet, path: "/api/v2/accounts/me", wantStatus: 404, wantCode: "not_found", check: notFound},
		{name: "session id missing", method: http.MethodGet, path: accountsPath + "/sessions/a/b", wantStatus: 404, wantCode: "not_found",
			check: notFound},

		{name: "GET token", method: http.MethodGet, path: accountsPath + "/token", wantStatus: 405, wantCode: "method_not_allowed",
			check: allow("POST")},
		{name: "PUT me", method: http.MethodPut, path: accountsPath + "/me", wantStatus: 405, wantCode: "method_not_allowed",
			check: allow("GET, DELETE")},
		{name: "GET register", method: http.MethodGet, path: accountsPath + "/", wantStatus: 405, wantCode: "method_not_allowed",
			check: allow("POST")},
		{name: "POST logout", method: http.MethodPost, path: accountsPath + "/logout", wantStatus: 405, wantCode: "method_not_allowed",
			check: allow("DELETE")},
		{name: "POST exist", method: http.MethodPost, path: accountsPath + "/exist/someone", wantStatus: 405, wantCode: "method_not_allowed",
			check: allow("GET")},
		{name: "GET session", method: http.MethodGet, path: accountsPath + "/sessions/0b7f3a9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
			wantStatus: 405, wantCode: "method_not_allowed", check: allow("DELETE")},
		{name: "POST health", method: http.MethodPost, path: "/health", wantStatus: 405, wantCode: "method_not_allowed",
			check: allow("GET")},
	}, "", "")
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	sane := regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)
	generated := map[string]bool{}
	for _, c := range []struct {
		name, path, sent string
		echoed           bool
	}{
		{"sane id echoed", "/livez", "req-123_abc.DEF:9", true},
		{"128 characters echoed", "/livez", strings.Repeat("r", 128), true},
		{"echoed on a 404", "/nowhere", "trace-404", true},
		{"echoed on a 401", accountsPath + "/me", "trace-401", true},
		{"absent", "/livez", "", false},
		{"absent on a 404", "/nowhere", "", false},
		{"300 characters", "/livez", strings.Repeat("x", 300), false},
		{"129 characters", "/livez", strings.Repeat("y", 129), false},
		{"spaces", "/livez", "has some spaces", false},
		{"quotes and angle brackets", "/livez", `"><script>`, false},
		{"tab", "/livez", "a\tb", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var opts []reqOpt
			if c.sent != "" {
				opts = append(opts, header("X-Request-ID", c.sent))
			}
			r := api.do(t, http.MethodGet, c.path, nil, opts...)
			got := r.Header.Values("X-Request-ID")
			if len(got) != 1 {
				t.Fatalf("X-Request-ID = %q, want exactly one", got)
			}
			if c.echoed {
				if got[0] != c.sent {
					t.Fatalf("X-Request-ID = %q, want the sane one sent, %q", got[0], c.sent)
				}
				return
			}
			if got[0] == c.sent || !sane.MatchString(got[0]) || generated[got[0]] {
				t.Fatalf("X-Request-ID = %q, want a fresh generated id (sent %q)", got[0], c.sent)
			}
			generated[got[0]] = true
		})
	}
	// A newline cannot be sent through a real client, so this one goes
	// straight to the handler.
	for _, sent := range []string{"line\nbreak", "cr\rlf", "nul\x00byte"} {
		req := httptestRequest(t, http.MethodGet, "/livez")
		req.Header["X-Request-Id"] = []string{sent}
		rec := serve(api, req)
		if got := rec.Header().Get("X-Request-ID"); got == sent || !sane.MatchString(got) {
			t.Fatalf("X-Request-ID for %q = %q, want a generated id", sent, got)
		}
	}
}
