package security

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestHMACTokensCarryAStableKid(t *testing.T) {
	j := newTestJWT(t, nil, "")
	tok, c, err := j.Issue("acct", "sess")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	parsed, _, _ := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	kid, _ := parsed.Header["kid"].(string)
	if !strings.HasPrefix(kid, "hs-") || kid != c.KeyID {
		t.Fatalf("kid = %q (claims %q), want an hs- id", kid, c.KeyID)
	}
	if _, c2, _ := newTestJWT(t, nil, "").Issue("acct", "sess"); c2.KeyID != kid {
		t.Fatalf("the same SECRET_KEY gave kid %q, then %q", kid, c2.KeyID)
	}
}

func TestHMACKidChecks(t *testing.T) {
	now := time.Now()
	j := newTestJWT(t, func() time.Time { return now }, "")
	sign := func(kid string) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "a", "sid": "s", "jti": "j" + kid,
			"iss": "accountd", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()})
		tk.Header["typ"] = "at+jwt"
		if kid != "" {
			tk.Header["kid"] = kid
		}
		s, _ := tk.SignedString(testKey)
		return s
	}
	// Tokens of the original service, issued before every token had a kid,
	// still verify while they live.
	if _, err := j.Verify(sign("")); err != nil {
		t.Fatalf("a token without kid: %v", err)
	}
	if _, err := j.Verify(sign("hs-other")); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("a token with another kid: %v, want ErrTokenInvalid", err)
	}
}
