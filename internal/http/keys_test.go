package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/accountd/accountd/internal/app"
	"github.com/accountd/accountd/internal/postgres/pgtest"
)

// fastKeys shortens the key life so that keys rotate every two seconds: a
// key is published 2 x JWKS_MAX_AGE = 2s before it signs.
func fastKeys(c *app.TokenConfig) {
	c.JWKSMaxAge = time.Second
	c.Rotation = 2 * time.Second
}

// privateKeysAPI starts an instance on a database of its own, so that the
// keys it rotates or revokes are no other test's.
func privateKeysAPI(t *testing.T, change func(*app.TokenConfig)) *testAPI {
	t.Helper()
	_, pool := pgtest.NewDatabase(t)
	return newTestAPI(t, withPool(pool), withTokens(change))
}

func kidOf(t *testing.T, token string) string {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatalf("parse %q: %v", token, err)
	}
	kid, _ := parsed.Header["kid"].(string)
	return kid
}

func TestJWKSIsCacheableAndRevalidates(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Jwks")
	l := api.login(t, id, testPassword)
	r := api.do(t, http.MethodGet, "/.well-known/jwks.json", nil)
	wantStatus(t, r, http.StatusOK, "")
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=600" {
		t.Fatalf("Cache-Control = %q, want public, max-age=600 (JWKS_MAX_AGE 10m)", cc)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.Body, &set); err != nil {
		t.Fatalf("JWKS %s: %v", r.Body, err)
	}
	keys := set.Key(kidOf(t, l.access))
	if len(keys) != 1 || keys[0].Algorithm != "ES256" || keys[0].Use != "sig" || !keys[0].IsPublic() {
		t.Fatalf("JWKS %s does not publish the token's key as an ES256 public key", r.Body)
	}
	if strings.Contains(string(r.Body), `"d"`) {
		t.Fatalf("JWKS shows a private part: %s", r.Body)
	}
	etag := r.Header.Get("ETag")
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		nm := api.do(t, http.MethodGet, "/.well-known/jwks.json", nil, header("If-None-Match", inm))
		if nm.Status != http.StatusNotModified || len(nm.Body) != 0 || nm.Header.Get("ETag") != etag {
			t.Fatalf("If-None-Match %s: status %d, body %q; want 304 with no body", inm, nm.Status, nm.Body)
		}
	}
	wantStatus(t, api.do(t, http.MethodGet, "/.well-known/jwks.json", nil, header("If-None-Match", `"stale"`)), http.StatusOK, "")
}

func TestDiscoveryDocument(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	r := api.do(t, http.MethodGet, "/.well-known/oauth-authorization-server", nil)
	wantStatus(t, r, http.StatusOK, "")
	m := r.obj(t)
	want := map[string]any{
		"issuer": testIssuer, "token_endpoint": "/api/v1/accounts/token", "jwks_uri": "/.well-known/jwks.json",
		"introspection_endpoint": "/api/v1/accounts/introspect",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	grants, _ := m["grant_types_supported"].([]any)
	if len(grants) != 2 || grants[0] != "password" || grants[1] != "refresh_token" {
		t.Errorf("grant_types_supported = %v", m["grant_types_supported"])
	}
	if methods, _ := m["introspection_endpoint_auth_methods_supported"].([]any); len(methods) != 1 || methods[0] != "client_secret_basic" {
		t.Errorf("introspection_endpoint_auth_methods_supported = %v", methods)
	}
}

// TestRotationSeenByARealJWKSClient verifies fresh tokens with keyfunc, a
// JWKS client with a cache, while accountd rotates its key every two
// seconds: the client refreshes the JWKS every JWKS_MAX_AGE and never
// refetches on an unknown kid, so a single key that signed before the
// client could know it would show as a failure.
func TestRotationSeenByARealJWKSClient(t *testing.T) {
	t.Parallel()
	api := privateKeysAPI(t, fastKeys)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{api.URL + "/.well-known/jwks.json"}, keyfunc.Override{
		RefreshInterval: time.Second, RefreshUnknownKID: rate.NewLimiter(0, 0),
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(_ context.Context, err error) { t.Logf("JWKS refresh: %v", err) }
		},
	})
	if err != nil {
		t.Fatalf("keyfunc: %v", err)
	}
	id := api.newAccount(t, "Rotating")
	l := api.login(t, id, testPassword)
	kids := map[string]bool{}
	verified := 0
	for deadline := time.Now().Add(60 * time.Second); len(kids) < 4; {
		if time.Now().After(deadline) {
			t.Fatalf("saw %d keys in 60s, want 4 with a rotation every 2s", len(kids))
		}
		r := api.refresh(t, l.refresh)
		wantStatus(t, r, http.StatusOK, "")
		l = tokensOf(t, r)
		if _, err := jwt.Parse(l.access, kf.Keyfunc, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(testIssuer)); err != nil {
			t.Fatalf("after %d verified tokens and %d keys, the JWKS client refused a fresh token of kid %s: %v",
				verified, len(kids), kidOf(t, l.access), err)
		}
		api.wantAccess(t, "fresh token", l.access, http.StatusOK, "")
		verified++
		kids[kidOf(t, l.access)] = true
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d fresh tokens of %d keys verified by the JWKS client, none refused", verified, len(kids))
}

// TestInstancesAcceptEachOthersTokensAcrossRotations runs two instances on
// one database through several scheduled rotations.
func TestInstancesAcceptEachOthersTokensAcrossRotations(t *testing.T) {
	t.Parallel()
	a := privateKeysAPI(t, fastKeys)
	b := newTestAPI(t, sharingBackendsWith(a), withTokens(fastKeys))
	id := a.newAccount(t, "TwoInstances")
	kids := map[string]bool{}
	for deadline := time.Now().Add(60 * time.Second); len(kids) < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("saw %d keys in 60s, want 3", len(kids))
		}
		for _, pair := range [][2]*testAPI{{a, b}, {b, a}} {
			l := pair[0].login(t, id, testPassword)
			pair[1].wantAccess(t, "a token of the other instance", l.access, http.StatusOK, "")
			kids[kidOf(t, l.access)] = true
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRevokedKeyIsRefusedAtOnce revokes the current key: its tokens are
// refused by both instances within a second (checked with a generous
// bound), it leaves the JWKS, and the key that takes over signs tokens
// that both accept.
func TestRevokedKeyIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	a := privateKeysAPI(t, nil)
	b := newTestAPI(t, sharingBackendsWith(a))
	id := a.newAccount(t, "RevokedKey")
	l := a.login(t, id, testPassword)
	intro := func(api *testAPI, token string) map[string]any {
		r := api.do(t, http.MethodPost, accountsPath+"/introspect", url.Values{"token": {token}},
			basicAuth(testClientID, testClientSecret))
		wantStatus(t, r, http.StatusOK, "")
		return r.obj(t)
	}
	for _, api := range []*testAPI{a, b} {
		api.wantAccess(t, "before the revocation", l.access, http.StatusOK, "")
		if in := intro(api, l.access); in["active"] != true {
			t.Fatalf("introspection before the revocation = %v, want active", in)
		}
	}
	kid := kidOf(t, l.access)
	if err := a.tokens.Keys.Manager().Revoke(context.Background(), kid); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	for name, api := range map[string]*testAPI{"revoking instance": a, "other instance": b} {
		eventually(t, name+" refuses the revoked key's token", func() bool { return api.me(t, l.access).Status == http.StatusUnauthorized })
		api.wantAccess(t, "revoked key's token", l.access, http.StatusUnauthorized, "invalid_token")
		if in := intro(api, l.access); len(in) != 1 || in["active"] != false {
			t.Fatalf("%s: introspection of the revoked key's token = %v, want only active false", name, in)
		}
		if jwks := api.do(t, http.MethodGet, "/.well-known/jwks.json", nil); strings.Contains(string(jwks.Body), kid) {
			t.Fatalf("%s: JWKS still publishes the revoked key: %s", name, jwks.Body)
		}
	}
	fresh := a.login(t, id, testPassword)
	if kidOf(t, fresh.access) == kid {
		t.Fatalf("signs with the revoked key still")
	}
	// The key that took over at once was not published before it signed:
	// the other instance may need its next poll to know it.
	eventually(t, "other instance accepts the new key's token", func() bool { return b.me(t, fresh.access).Status == http.StatusOK })
}

// eventually waits up to a generous 10s for cond, failing the test if it
// never holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
	}
}
