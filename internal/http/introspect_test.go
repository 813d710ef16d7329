package http_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func (a *testAPI) introspect(t *testing.T, token string, opts ...reqOpt) response {
	t.Helper()
	opts = append([]reqOpt{basicAuth(testClientID, testClientSecret)}, opts...)
	return a.do(t, http.MethodPost, accountsPath+"/introspect", url.Values{"token": {token}}, opts...)
}

func wantInactive(t *testing.T, what string, r response) {
	t.Helper()
	wantStatus(t, r, http.StatusOK, "")
	if m := r.obj(t); len(m) != 1 || m["active"] != false {
		t.Fatalf("%s: introspection = %s, want only {\"active\": false}", what, r.Body)
	}
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withOrigins("https://app.example"))
	other := newTestAPI(t, sharingBackendsWith(api))
	id := api.newAccount(t, "Introspected")
	l := api.login(t, id, testPassword)

	r := api.introspect(t, l.access)
	wantStatus(t, r, http.StatusOK, "")
	m := r.obj(t)
	claims := claimsOf(t, l.access)
	for k, want := range map[string]any{
		"active": true, "sub": claims["sub"], "sid": l.sessionID, "jti": claims["jti"], "iat": claims["iat"],
		"exp": claims["exp"], "iss": testIssuer, "token_type": "access_token", "username": id,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}

	// Servers call it: a browser's cross-site headers neither block it
	// (no CSRF check: no cookie is read) nor get CORS headers back.
	cross := api.introspect(t, l.access, header("Origin", "https://app.example"), header("Sec-Fetch-Site", "cross-site"))
	wantStatus(t, cross, http.StatusOK, "")
	if got := cross.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("Access-Control-Allow-Origin = %q on introspection, want none", got)
	}

	for name, opt := range map[string]reqOpt{
		"no client":        func(*http.Request) {},
		"wrong secret":     basicAuth(testClientID, "wrong"),
		"unknown client":   basicAuth("nobody", testClientSecret),
		"bearer, no basic": bearer(l.access),
	} {
		r := api.do(t, http.MethodPost, accountsPath+"/introspect", url.Values{"token": {l.access}}, opt)
		wantStatus(t, r, http.StatusUnauthorized, "invalid_client")
		if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic") {
			t.Errorf("%s: WWW-Authenticate = %q, want Basic", name, got)
		}
		if strings.Contains(string(r.Body), "active") {
			t.Errorf("%s: answered about the token without a client: %s", name, r.Body)
		}
	}

	wantInactive(t, "garbage", api.introspect(t, "garbage"))
	wantInactive(t, "refresh token", api.do(t, http.MethodPost, accountsPath+"/introspect",
		url.Values{"token": {l.refresh}, "token_type_hint": {"refresh_token"}}, basicAuth(testClientID, testClientSecret)))
	// A logout on one instance shows on the other within a second (checked
	// with a generous bound).
	wantStatus(t, api.do(t, http.MethodDelete, accountsPath+"/logout", nil, bearer(l.access)), http.StatusOK, "")
	eventually(t, "logout seen by the other instance's introspection", func() bool {
		return other.introspect(t, l.access).obj(t)["active"] == false
	})
	wantInactive(t, "logged-out token", other.introspect(t, l.access))

	fresh := api.login(t, id, testPassword)
	api.clock.Advance(accessTTL + time.Second)
	wantInactive(t, "expired token", api.introspect(t, fresh.access))
}
