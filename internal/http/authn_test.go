package http_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/accountd/accountd/internal/security"
)

// forge signs claims with key and method, with the header fields given (typ
// at+jwt unless overridden), as an attacker or a misconfigured issuer would.
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, hdr map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["typ"] = "at+jwt"
	for k, v := range hdr {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign forged token: %v", err)
	}
	return s
}

// claimsLike returns the claims of a real access token of the session, with
// the given claims changed (a nil value removes the claim).
func claimsLike(l login, changes jwt.MapClaims) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub": claimsOfUnchecked(l.access)["sub"], "sid": l.sessionID, "jti": security.NewID(), "iss": testIssuer,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func claimsOfUnchecked(token string) map[string]any {
	var m jwt.MapClaims
	_, _, _ = jwt.NewParser().ParseUnverified(token, &m)
	return m
}

func TestAccessTokenVerification(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Verifier")
	l := api.login(t, id, testPassword)
	loggedOut := api.login(t, id, testPassword)
	wantStatus(t, api.do(t, http.MethodDelete, accountsPath+"/logout", nil, bearer(loggedOut.access)), http.StatusOK, "")

	sk := api.signingKey(t)
	signed := func(claims jwt.MapClaims, hdr map[string]any) string {
		h := map[string]any{"kid": sk.ID}
		maps.Copy(h, hdr)
		return forge(t, sk.Method, sk.Key, claims, h)
	}
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	publicKey, _ := x509.MarshalPKIXPublicKey(sk.Key.(crypto.Signer).Public())
	valid := signed(claimsLike(l, nil), nil)
	past := time.Now().Add(-time.Hour)
	unknownAccount := signed(claimsLike(l, jwt.MapClaims{"sub": security.NewID(), "sid": security.NewID()}), nil)
	bad := map[string]string{
		"garbage":                         "not-a-jwt",
		"three garbage parts":             "a.b.c",
		"wrong signature":                 forge(t, sk.Method, otherKey, claimsLike(l, nil), map[string]any{"kid": sk.ID}),
		"HS256 keyed with the public key": forge(t, jwt.SigningMethodHS256, publicKey, claimsLike(l, nil), map[string]any{"kid": sk.ID}),
		"HS256 keyed with SECRET_KEY":     forge(t, jwt.SigningMethodHS256, api.key, claimsLike(l, nil), map[string]any{"kid": sk.ID}),
		"unknown kid":                     forge(t, sk.Method, sk.Key, claimsLike(l, nil), map[string]any{"kid": "no-such-key"}),
		"no kid":                          forge(t, sk.Method, sk.Key, claimsLike(l, nil), nil),
		"tampered claims":                 tamper(t, l.access),
		"alg none":                        forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claimsLike(l, nil), nil),
		"alg none, signature kept":        algNoneKeepingSignature(t, l.access),
		"algorithm switch to HS512":       forge(t, jwt.SigningMethodHS512, api.key, claimsLike(l, nil), nil),
		"wrong issuer":                    signed(claimsLike(l, jwt.MapClaims{"iss": "someone-else"}), nil),
		"no issuer":                       signed(claimsLike(l, jwt.MapClaims{"iss": nil}), nil),
		"no exp":                          signed(claimsLike(l, jwt.MapClaims{"exp": nil}), nil),
		"nbf in the future":               signed(claimsLike(l, jwt.MapClaims{"nbf": time.Now().Add(time.Hour).Unix()}), nil),
		"no sid":                          signed(claimsLike(l, jwt.MapClaims{"sid": nil}), nil),
		"no sub":                          signed(claimsLike(l, jwt.MapClaims{"sub": nil}), nil),
		"typ JWT, not at+jwt":             signed(claimsLike(l, nil), map[string]any{"typ": "JWT"}),
		"no typ":                          signed(claimsLike(l, nil), map[string]any{"typ": nil}),
		"token of an unknown account":     unknownAccount,
		"over 4096 bytes":                 valid + strings.Repeat("A", 4096),
	}
	var cases []apiCase
	add := func(name string, status int, code string, opts ...reqOpt) {
		c := apiCase{name: name, opts: opts, wantStatus: status, wantCode: code}
		if status == http.StatusUnauthorized {
			c.check = func(t *testing.T, r response) {
				if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Fatalf("WWW-Authenticate = %q, want Bearer", got)
				}
			}
		}
		cases = append(cases, c)
	}
	add("bearer", http.StatusOK, "", bearer(l.access))
	add("cookie", http.StatusOK, "", withCookie("access_token", l.access))
	add("lower-case bearer scheme", http.StatusOK, "", header("Authorization", "bearer "+l.access))
	add("bearer wins over a garbage cookie", http.StatusOK, "", bearer(l.access), withCookie("access_token", "garbage"))
	add("forged with the right key", http.StatusOK, "", bearer(valid))
	for name, tok := range bad {
		add(name, http.StatusUnauthorized, "invalid_token", bearer(tok))
	}
	add("garbage cookie", http.StatusUnauthorized, "invalid_token", withCookie("access_token", "garbage"))
	add("wrong signature in the cookie", http.StatusUnauthorized, "invalid_token", withCookie("access_token", bad["wrong signature"]))
	add("expired", http.StatusUnauthorized, "token_expired",
		bearer(signed(claimsLike(l, jwt.MapClaims{"iat": past.Unix(), "nbf": past.Unix(), "exp": past.Add(30 * time.Minute).Unix()}), nil)))
	add("expired in the cookie", http.StatusUnauthorized, "token_expired",
		withCookie("access_token", signed(claimsLike(l, jwt.MapClaims{"exp": time.Now().Add(-time.Second).Unix()}), nil)))
	add("logged out", http.StatusUnauthorized, "token_revoked", bearer(loggedOut.access))
	add("logged out, in the cookie", http.StatusUnauthorized, "token_revoked", withCookie("access_token", loggedOut.access))
	runCases(t, api, cases, http.MethodGet, accountsPath+"/me")
}

// tamper changes the sid of a signed token without re-signing it.
func tamper(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	c := claimsOf(t, token)
	c["sid"] = security.NewID()
	return parts[0] + "." + encodeSegment(t, c) + "." + parts[2]
}

// algNoneKeepingSignature relabels a real token as alg none.
func algNoneKeepingSignature(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	return encodeSegment(t, map[string]any{"alg": "none", "typ": "at+jwt"}) + "." + parts[1] + "." + parts[2]
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode JWT segment: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestAccessTokenExpiresOnTheClock moves the injected clock past the access
// token lifetime: the token is refused as expired (not merely invalid),
// while the refresh token still gives a new one.
func TestAccessTokenExpiresOnTheClock(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Clock")
	l := api.login(t, id, testPassword)
	api.wantAccess(t, "fresh token", l.access, http.StatusOK, "")

	api.clock.Advance(accessTTL - time.Minute)
	api.wantAccess(t, "token a minute before it expires", l.access, http.StatusOK, "")

	api.clock.Advance(time.Minute + time.Second)
	r := api.me(t, l.access)
	wantStatus(t, r, http.StatusUnauthorized, "token_expired")
	if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Fatalf("WWW-Authenticate = %q, want Bearer", got)
	}

	next := tokensOf(t, api.wantRefresh(t, "refresh after the access token expired", l.refresh, http.StatusOK, ""))
	api.wantAccess(t, "access token from the refresh", next.access, http.StatusOK, "")
}
