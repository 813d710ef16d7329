package security

import (
	"bytes"
	"encoding/base64"
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

// sameBytesSpellings returns every other spelling of the base64url segment
// seg that a lenient decoder turns into the same bytes: seg with its last
// character swapped for one that differs only in the unused low bits.
func sameBytesSpellings(t *testing.T, seg string) []string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	want, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode %q: %v", seg, err)
	}
	var out []string
	for _, c := range alphabet {
		alt := seg[:len(seg)-1] + string(c)
		if alt == seg {
			continue
		}
		if got, err := base64.RawURLEncoding.DecodeString(alt); err == nil && bytes.Equal(got, want) {
			out = append(out, alt)
		}
	}
	return out
}

// TestJWTRefusesNonCanonicalSignature shows that a token whose signature is
// spelled otherwise than its canonical base64url, with the same bytes, is
// refused: one token, one spelling.
func TestJWTRefusesNonCanonicalSignature(t *testing.T) {
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		t.Run(alg, func(t *testing.T) {
			j, err := NewJWT(JWTConfig{Algorithm: alg, Key: []byte(strings.Repeat("s", 64)), Issuer: "accountd", TTL: time.Minute})
			if err != nil {
				t.Fatalf("NewJWT: %v", err)
			}
			tok, _, err := j.Issue("acct", "sess")
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if _, err := j.Verify(tok); err != nil {
				t.Fatalf("Verify of the canonical token: %v", err)
			}
			dot := strings.LastIndexByte(tok, '.')
			alts := sameBytesSpellings(t, tok[dot+1:])
			// HS256's 32 bytes leave 2 unused bits in the last character
			// (3 other spellings), HS512's 64 bytes 4 (15), HS384's 48 none.
			if want := map[string]int{"HS256": 3, "HS384": 0, "HS512": 15}[alg]; len(alts) != want {
				t.Fatalf("%d other spellings of the signature, want %d", len(alts), want)
			}
			for _, alt := range alts {
				if _, err := j.Verify(tok[:dot+1] + alt); !errors.Is(err, ErrTokenInvalid) {
					t.Errorf("signature spelled %q instead of %q: Verify = %v, want ErrTokenInvalid",
						alt[len(alt)-1:], tok[len(tok)-1:], err)
				}
			}
		})
	}
}

// TestJWTClockLeeway shows that a token issued by an instance whose clock
// runs a little ahead verifies, one far ahead does not, and that expiry
// gets no leeway.
func TestJWTClockLeeway(t *testing.T) {
	now := time.Now()
	verifier := newTestJWT(t, func() time.Time { return now }, "")
	issue := func(ahead time.Duration) string {
		t.Helper()
		issuer := newTestJWT(t, func() time.Time { return now.Add(ahead) }, "")
		tok, _, err := issuer.Issue("acct", "sess")
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		return tok
	}
	// Issue truncates iat to the second; 2s ahead plus that stays within
	// the leeway.
	if _, err := verifier.Verify(issue(2 * time.Second)); err != nil {
		t.Errorf("token from a clock 2s ahead: Verify = %v, want it accepted (leeway %v)", err, clockLeeway)
	}
	if _, err := verifier.Verify(issue(time.Minute)); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("token from a clock 1m ahead: Verify = %v, want ErrTokenInvalid", err)
	}
	// nbf alone in the future, iat now.
	nbfAhead := func(d time.Duration) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "a", "sid": "s", "jti": "j", "iss": "accountd",
			"iat": now.Unix(), "nbf": now.Add(d).Unix(), "exp": now.Add(time.Hour).Unix()})
		tk.Header["typ"] = accessTokenType
		s, err := tk.SignedString(testKey)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		return s
	}
	if _, err := verifier.Verify(nbfAhead(2 * time.Second)); err != nil {
		t.Errorf("token with nbf 2s ahead: Verify = %v, want it accepted", err)
	}
	if _, err := verifier.Verify(nbfAhead(time.Minute)); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("token with nbf 1m ahead: Verify = %v, want ErrTokenInvalid", err)
	}
	// A token is expired from its exp on, leeway or not.
	tok, claims, err := verifier.Issue("acct", "sess")
	if err != nil {
		t.Fatal(err)
	}
	fresh := newTestJWT(t, func() time.Time { return claims.ExpiresAt.Add(time.Second) }, "")
	if _, err := fresh.Verify(tok); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("token 1s past its exp: Verify = %v, want ErrTokenExpired", err)
	}
}

// TestNewJWTKeyLengthPerAlgorithm shows that each HMAC algorithm wants a
// key at least as long as its hash.
func TestNewJWTKeyLengthPerAlgorithm(t *testing.T) {
	for alg, want := range map[string]int{"HS256": 32, "HS384": 48, "HS512": 64} {
		if got := MinKeyBytes(alg); got != want {
			t.Errorf("MinKeyBytes(%s) = %d, want %d", alg, got, want)
		}
		if _, err := NewJWT(JWTConfig{Algorithm: alg, Key: make([]byte, want-1), Issuer: "x", TTL: time.Minute}); err == nil {
			t.Errorf("%s: a %d-byte key was accepted, want at least %d", alg, want-1, want)
		}
		if _, err := NewJWT(JWTConfig{Algorithm: alg, Key: make([]byte, want), Issuer: "x", TTL: time.Minute}); err != nil {
			t.Errorf("%s: a %d-byte key: %v", alg, want, err)
		}
	}
}
