package security

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testKey = []byte(strings.Repeat("s", 32))

func newTestJWT(t *testing.T, now func() time.Time, audience string) *JWT {
	t.Helper()
	j, err := NewJWT(JWTConfig{Algorithm: "HS256", Key: testKey, Issuer: "accountd", Audience: audience, TTL: 30 * time.Minute, Now: now})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return j
}

func TestJWTRoundTrip(t *testing.T) {
	j := newTestJWT(t, nil, "app")
	tok, issued, err := j.Issue("acct", "sess")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	c, err := j.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Subject != "acct" || c.SessionID != "sess" || c.ID != issued.ID || c.ID == "" {
		t.Fatalf("claims = %+v, want sub acct, sid sess, jti %s", c, issued.ID)
	}
	if got := c.ExpiresAt.Sub(c.IssuedAt); got != 30*time.Minute {
		t.Fatalf("exp - iat = %v, want 30m", got)
	}
	header, _, _ := strings.Cut(tok, ".")
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil || parsed.Header["typ"] != "at+jwt" {
		t.Fatalf("typ header = %v (header %s), want at+jwt", parsed.Header["typ"], header)
	}
	for _, claim := range []string{"sub", "sid", "jti", "iat", "nbf", "exp", "iss", "aud"} {
		if _, ok := parsed.Claims.(jwt.MapClaims)[claim]; !ok {
			t.Errorf("claim %s missing", claim)
		}
	}
}

func TestJWTRejects(t *testing.T) {
	now := time.Now()
	j := newTestJWT(t, func() time.Time { return now }, "")
	good, _, _ := j.Issue("acct", "sess")

	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims, typ string) string {
		tk := jwt.NewWithClaims(method, claims)
		if typ != "" {
			tk.Header["typ"] = typ
		}
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		return s
	}
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "a", "sid": "s", "jti": "j", "iss": "accountd",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	cases := map[string]struct {
		token string
		want  error
	}{
		"garbage":         {"not-a-jwt", ErrTokenInvalid},
		"alg none":        {sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil), "at+jwt"), ErrTokenInvalid},
		"other HMAC alg":  {sign(jwt.SigningMethodHS512, testKey, claims(nil), "at+jwt"), ErrTokenInvalid},
		"wrong key":       {sign(jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), claims(nil), "at+jwt"), ErrTokenInvalid},
		"wrong issuer":    {sign(jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { c["iss"] = "evil" }), "at+jwt"), ErrTokenInvalid},
		"no typ":          {sign(jwt.SigningMethodHS256, testKey, claims(nil), ""), ErrTokenInvalid},
		"JWT typ":         {sign(jwt.SigningMethodHS256, testKey, claims(nil), "JWT"), ErrTokenInvalid},
		"no sid":          {sign(jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { delete(c, "sid") }), "at+jwt"), ErrTokenInvalid},
		"no exp":          {sign(jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { delete(c, "exp") }), "at+jwt"), ErrTokenInvalid},
		"not yet valid":   {sign(jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), "at+jwt"), ErrTokenInvalid},
		"expired":         {sign(jwt.SigningMethodHS256, testKey, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Second).Unix() }), "at+jwt"), ErrTokenExpired},
		"tampered":        {good[:len(good)-2] + "xx", ErrTokenInvalid},
		"audience needed": {good, nil},
	}
	for name, tc := range cases {
		_, err := j.Verify(tc.token)
		if ok := errors.Is(err, tc.want) || (tc.want == nil && err == nil); !ok {
			t.Errorf("%s: Verify error = %v, want %v", name, err, tc.want)
		}
	}
	// A verifier that wants an audience refuses a token without it.
	if _, err := newTestJWT(t, func() time.Time { return now }, "app").Verify(good); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("token without aud against a verifier wanting one: %v, want ErrTokenInvalid", err)
	}
}

func TestNewJWTChecksConfig(t *testing.T) {
	if _, err := NewJWT(JWTConfig{Algorithm: "HS256", Key: []byte("short"), Issuer: "x", TTL: time.Minute}); err == nil {
		t.Error("a 5-byte key was accepted")
	}
	for _, alg := range []string{"none", "RS256", ""} {
		if _, err := NewJWT(JWTConfig{Algorithm: alg, Key: testKey, Issuer: "x", TTL: time.Minute}); err == nil {
			t.Errorf("algorithm %q was accepted", alg)
		}
	}
}

// TestVerifiedCacheHonoursExpiry shows that a token served from the cache of
// verified tokens still expires on time.
func TestVerifiedCacheHonoursExpiry(t *testing.T) {
	now := time.Now()
	j := newTestJWT(t, func() time.Time { return now }, "")
	tok, _, err := j.Issue("acct", "sess")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second is a cache hit
		if _, err := j.Verify(tok); err != nil {
			t.Fatalf("Verify of a fresh token: %v", err)
		}
	}
	now = now.Add(31 * time.Minute)
	if _, err := j.Verify(tok); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("Verify of a cached token past its exp = %v, want ErrTokenExpired", err)
	}
	if _, err := j.Verify(tok[:len(tok)-1]); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("Verify of a truncated cached token = %v, want ErrTokenInvalid", err)
	}
}

// TestVerifiedCacheIsBounded shows that the cache of verified tokens keeps
// at most two generations, however many tokens pass through it.
func TestVerifiedCacheIsBounded(t *testing.T) {
	now := time.Now()
	j := newTestJWT(t, func() time.Time { return now }, "")
	for i := range 3*verifiedGeneration + 10 {
		tok, _, err := j.Issue("acct", "sess")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := j.Verify(tok); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	if n := j.verified.len(); n > 2*verifiedGeneration {
		t.Fatalf("cache holds %d tokens, want at most %d", n, 2*verifiedGeneration)
	}
	// Age alone also retires a generation.
	tok, _, _ := j.Issue("acct", "sess")
	_, _ = j.Verify(tok)
	now = now.Add(verifiedAge + time.Second)
	tok2, _, _ := j.Issue("acct", "sess")
	_, _ = j.Verify(tok2)
	now = now.Add(verifiedAge + time.Second)
	tok3, _, _ := j.Issue("acct", "sess")
	_, _ = j.Verify(tok3)
	if n := j.verified.len(); n > 2 {
		t.Fatalf("after two minutes the cache holds %d tokens, want the last two generations only (2)", n)
	}
}
