package http_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	accounthttp "github.com/accountd/accountd/internal/http"
)

// hint is a parsed session_hint Set-Cookie.
type hint struct {
	raw                          string
	access, refresh, sessionEnds int64
	cookie                       *http.Cookie
}

// setCookie returns the parsed Set-Cookie header of the named cookie, or
// nil; it fails the test if the cookie is set twice.
func setCookie(t *testing.T, r response, name string) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.Name == name {
			if found != nil {
				t.Fatalf("%s is set twice: %q", name, r.Header.Values("Set-Cookie"))
			}
			found = c
		}
	}
	return found
}

// wantHint fails unless r sets session_hint as the contract says: not
// HttpOnly, Path=/, the same SameSite, Secure and Domain as the refresh
// cookie, its Max-Age, and the value <access_exp>.<refresh_exp>.<session_exp>
// in which access_exp is the access token's exp and refresh_exp is its
// Max-Age from the token's iat. It returns the hint.
func wantHint(t *testing.T, r response) hint {
	t.Helper()
	c, rc := setCookie(t, r, "session_hint"), setCookie(t, r, "refresh_token")
	if c == nil || rc == nil {
		t.Fatalf("Set-Cookie = %q, want session_hint and refresh_token", r.Header.Values("Set-Cookie"))
	}
	if c.HttpOnly || c.Path != "/" || c.SameSite != rc.SameSite || c.Secure != rc.Secure || c.Domain != rc.Domain ||
		c.MaxAge != rc.MaxAge || c.MaxAge <= 0 {
		t.Fatalf("session_hint = %+v, want not HttpOnly, Path=/, and SameSite, Secure, Domain, Max-Age of %+v", c, rc)
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		t.Fatalf("session_hint value %q, want three numbers joined by dots", c.Value)
	}
	var n [3]int64
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v <= 0 {
			t.Fatalf("session_hint value %q: part %q is not a Unix time", c.Value, p)
		}
		n[i] = v
	}
	h := hint{raw: c.Value, access: n[0], refresh: n[1], sessionEnds: n[2], cookie: c}
	access, _ := r.obj(t)["access_token"].(string)
	claims := claimsOf(t, access)
	exp, _ := claims["exp"].(float64)
	iat, _ := claims["iat"].(float64)
	if h.access != int64(exp) {
		t.Fatalf("session_hint access_exp %d, want the access token's exp %d", h.access, int64(exp))
	}
	// Max-Age is counted from the login's instant; the token is signed a
	// database round trip later, and either may fall on the next second.
	if d := h.refresh - (int64(iat) + int64(c.MaxAge)); d < -1 || d > 1 {
		t.Fatalf("session_hint refresh_exp %d, want iat %d + Max-Age %d", h.refresh, int64(iat), c.MaxAge)
	}
	if h.sessionEnds < h.refresh {
		t.Fatalf("session_hint session_exp %d before refresh_exp %d", h.sessionEnds, h.refresh)
	}
	return h
}

// wantCleared fails unless r clears the three cookies, repeating their
// paths.
func wantCleared(t *testing.T, what string, r response) {
	t.Helper()
	for name, path := range map[string]string{"access_token": "/", "refresh_token": "/api/v1/accounts", "session_hint": "/"} {
		c := setCookie(t, r, name)
		if c == nil || c.Value != "" || c.MaxAge >= 0 || c.Path != path {
			t.Fatalf("%s: %s cookie = %+v, want it cleared (empty, Max-Age=0, Path=%s); Set-Cookie %q",
				what, name, c, path, r.Header.Values("Set-Cookie"))
		}
	}
}

func TestSessionHintOnLoginAndRefresh(t *testing.T) {
	t.Parallel()
	const lifetime = 48 * time.Hour // shorter than a refresh token: caps it
	api := newTestAPI(t, withSessionMaxLifetime(lifetime))
	id := api.newAccount(t, "hint")

	l := api.login(t, id, testPassword)
	first := wantHint(t, l.resp)
	iat, _ := claimsOf(t, l.access)["iat"].(float64)
	if first.sessionEnds-int64(iat) > int64(lifetime/time.Second) || first.refresh != first.sessionEnds {
		t.Fatalf("login hint %q: want the session to end %v after login and the refresh token with it", first.raw, lifetime)
	}
	if first.cookie.MaxAge > int(lifetime/time.Second) {
		t.Fatalf("hint Max-Age %d outlives the session (%v)", first.cookie.MaxAge, lifetime)
	}

	api.clock.Advance(time.Hour)
	r := api.wantRefresh(t, "refresh", l.refresh, http.StatusOK, "")
	second := wantHint(t, r)
	if second.sessionEnds != first.sessionEnds || second.access <= first.access {
		t.Fatalf("refresh hint %q after login hint %q: want the same session end and a later access expiry",
			second.raw, first.raw)
	}
	// The grace path: the old token again gets the same child, and a hint.
	again := api.wantRefresh(t, "refresh within the grace", l.refresh, http.StatusOK, "")
	graced := wantHint(t, again)
	if tokensOf(t, again).refresh != tokensOf(t, r).refresh || graced.refresh != second.refresh ||
		graced.sessionEnds != second.sessionEnds {
		t.Fatalf("grace hint %q, want the refresh and session expiry of %q", graced.raw, second.raw)
	}

	// GET /session reports what the hint says, without rotating anything.
	s := api.do(t, http.MethodGet, accountsPath+"/session", nil, bearer(tokensOf(t, r).access))
	wantStatus(t, s, http.StatusOK, "")
	body := s.obj(t)
	for key, want := range map[string]int64{
		"access_expires_at": second.access, "refresh_expires_at": second.refresh, "session_expires_at": second.sessionEnds,
	} {
		at, err := time.Parse(time.RFC3339Nano, body[key].(string))
		if err != nil || at.Unix() != want {
			t.Fatalf("GET /session %s = %v, want Unix %d (body %s)", key, body[key], want, s.Body)
		}
	}
	if body["session_id"] != l.sessionID || len(body) != 5 || s.cookie("session_hint") != nil {
		t.Fatalf("GET /session = %s, want the session %s and no cookies set", s.Body, l.sessionID)
	}
	s = api.do(t, http.MethodGet, accountsPath+"/session", nil, refreshCookie(tokensOf(t, r).refresh))
	wantStatus(t, s, http.StatusOK, "")
	if m := s.obj(t); m["access_expires_at"] != nil || m["session_id"] != l.sessionID {
		t.Fatalf("GET /session by the refresh cookie = %s, want access_expires_at null", s.Body)
	}
	api.wantRefresh(t, "the refresh token after GET /session", tokensOf(t, r).refresh, http.StatusOK, "")
	s = api.do(t, http.MethodGet, accountsPath+"/session", nil, refreshCookie("nope"))
	wantStatus(t, s, http.StatusUnauthorized, "invalid_token")
	if s.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 from GET /session without WWW-Authenticate")
	}
}

// The hint keeps the other cookies' Secure and Domain.
func TestSessionHintAttributes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		cfg  accounthttp.CookieConfig
		opts []apiOption
	}{
		{"secure strict with a domain", accounthttp.CookieConfig{Secure: "true", SameSite: http.SameSiteStrictMode, Domain: "example.test"}, nil},
		{"auto over TLS", accounthttp.CookieConfig{Secure: "auto", SameSite: http.SameSiteNoneMode}, []apiOption{withTLS()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			api := newTestAPI(t, append(c.opts, withCookies(c.cfg))...)
			id := api.newAccount(t, "hint-attr")
			h := wantHint(t, api.login(t, id, testPassword).resp)
			if !h.cookie.Secure || h.cookie.SameSite != c.cfg.SameSite || h.cookie.Domain != c.cfg.Domain {
				t.Fatalf("hint = %+v, want Secure, SameSite %v, Domain %q", h.cookie, c.cfg.SameSite, c.cfg.Domain)
			}
			cleared := api.do(t, http.MethodDelete, logoutPath, nil)
			if hc := setCookie(t, cleared, "session_hint"); hc == nil || hc.Domain != c.cfg.Domain || !hc.Secure {
				t.Fatalf("cleared hint = %+v, want Domain %q and Secure repeated", hc, c.cfg.Domain)
			}
		})
	}
}

// Every path that clears the token cookies clears the hint with them.
func TestSessionHintCleared(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "hint-clear")
	for _, scope := range []string{"", "?scope=local", "?scope=global"} {
		l := api.login(t, id, testPassword)
		wantCleared(t, "logout"+scope, api.do(t, http.MethodDelete, logoutPath+scope, nil, bearer(l.access)))
	}
	l := api.login(t, id, testPassword)
	r := api.do(t, http.MethodDelete, logoutPath+"?scope=others", nil, bearer(l.access))
	wantStatus(t, r, http.StatusOK, "")
	if len(r.Cookies) != 0 {
		t.Fatalf("logout of the others set cookies %q, want none: the caller stays signed in", r.Header.Values("Set-Cookie"))
	}
	wantCleared(t, "logout without tokens", api.do(t, http.MethodDelete, logoutPath, nil))
	wantCleared(t, "refresh with an unknown token", api.refresh(t, "unknown"))

	api.wantRefresh(t, "rotation", l.refresh, http.StatusOK, "")
	api.clock.Advance(defaultGrace + time.Second)
	wantCleared(t, "replay", api.wantRefresh(t, "replay", l.refresh, http.StatusUnauthorized, "refresh_token_reused"))

	gone := api.login(t, api.newAccount(t, "hint-gone"), testPassword)
	r = api.do(t, http.MethodDelete, accountsPath+"/me", map[string]string{"password": testPassword}, bearer(gone.access))
	wantStatus(t, r, http.StatusOK, "")
	wantCleared(t, "account deletion", r)
}

func TestSessionHintClearedWhenTheSessionEnds(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withSessionMaxLifetime(time.Hour))
	l := api.login(t, api.newAccount(t, "hint-end"), testPassword)
	api.clock.Advance(time.Hour)
	wantCleared(t, "refresh after the session's end",
		api.wantRefresh(t, "refresh after the end", l.refresh, http.StatusUnauthorized, "session_expired"))
}

// A browser page under / sees the hint and not the refresh token, whose
// path is /api/v1/accounts.
func TestSessionHintReachesEveryPath(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	b := api.newBrowser(t)
	id := api.newAccount(t, "hint-jar")
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword)), http.StatusOK, "")
	if b.cookie(t, "/app/page", "session_hint") == "" || b.cookie(t, "/app/page", "refresh_token") != "" {
		t.Fatal("a page at /app/page should get session_hint and not refresh_token")
	}
	r := b.do(t, http.MethodGet, accountsPath+"/session", nil)
	wantStatus(t, r, http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodDelete, logoutPath, nil), http.StatusOK, "")
	if b.cookie(t, "/", "session_hint") != "" {
		t.Fatal("session_hint survives logout in the jar")
	}
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/session", nil), http.StatusUnauthorized, "not_authenticated")
}
