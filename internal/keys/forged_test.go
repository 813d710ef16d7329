package keys

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/accountd/accountd/internal/security"
)

// reasons records why tokens were refused.
type reasons struct {
	mu   sync.Mutex
	last string
}

func (r *reasons) TokenRefused(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = reason
}

// TestForgedTokensAreRefused signs tokens every way an attacker without the
// private key could, and a few an insider might reuse, and checks each is
// refused for the right reason.
func TestForgedTokensAreRefused(t *testing.T) {
	clock := &fakeClock{now: t0}
	store := &memStore{}
	s := newTestSet(t, store, clock)
	obs := &reasons{}
	j, err := security.NewJWT(security.JWTConfig{Keys: s, Issuer: "accountd", TTL: testPolicy.TokenTTL, Now: clock.Now, Observer: obs})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	cur := store.records[0]
	key, _ := cur.Open(&Cipher{})
	claims := func() jwt.MapClaims {
		now := clock.Now()
		return jwt.MapClaims{"sub": "acct", "sid": "sess", "jti": "id-" + now.String(), "iss": "accountd",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	}
	sign := func(m jwt.SigningMethod, kid string, k any) string {
		t.Helper()
		tk := jwt.NewWithClaims(m, claims())
		tk.Header["typ"] = "at+jwt"
		if kid != "" {
			tk.Header["kid"] = kid
		}
		s, err := tk.SignedString(k)
		if err != nil {
			t.Fatalf("sign %s: %v", m.Alg(), err)
		}
		return s
	}
	refused := func(name, tok, reason string) {
		t.Helper()
		if _, err := j.Verify(tok); !errors.Is(err, security.ErrTokenInvalid) {
			t.Errorf("%s: Verify = %v, want ErrTokenInvalid", name, err)
		}
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if obs.last != reason {
			t.Errorf("%s: refused as %q, want %q", name, obs.last, reason)
		}
	}

	if _, err := j.Verify(sign(key.Method, cur.ID, key.Private)); err != nil {
		t.Fatalf("a well-signed token: %v", err)
	}
	none := sign(jwt.SigningMethodNone, cur.ID, jwt.UnsafeAllowNoneSignatureType)
	refused("alg none", none, security.ReasonAlgorithm)

	der, _ := x509.MarshalPKIXPublicKey(key.Public)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwk, _ := s.JWKS()
	for name, secret := range map[string][]byte{"DER": der, "PEM": pemBytes, "JWKS": jwk} {
		refused("HS256 keyed with the public key's "+name, sign(jwt.SigningMethodHS256, cur.ID, secret), security.ReasonAlgorithm)
	}

	other, _ := NewRecord(ES256, t0, t0, &Cipher{})
	otherKey, _ := other.Open(&Cipher{})
	refused("unknown kid", sign(otherKey.Method, other.ID, otherKey.Private), security.ReasonUnknownKey)
	refused("our kid, another key", sign(otherKey.Method, cur.ID, otherKey.Private), security.ReasonBadSignature)
	refused("no kid", sign(key.Method, "", key.Private), security.ReasonUnknownKey)
	edKey, _ := NewRecord(EdDSA, t0, t0, &Cipher{})
	ed, _ := edKey.Open(&Cipher{})
	refused("EdDSA under an ES256 kid", sign(ed.Method, cur.ID, ed.Private), security.ReasonAlgorithm)

	// Rotate at once; the old key is retired, then gone once its tokens
	// have expired.
	clock.Advance(time.Second)
	if _, err := s.Manager().Rotate(t.Context(), true); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if err := s.sync(t.Context(), time.Minute); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if _, err := j.Verify(sign(key.Method, cur.ID, key.Private)); err != nil {
		t.Fatalf("a retired key's fresh token: %v", err)
	}
	clock.Advance(testPolicy.Retention())
	if err := s.sync(t.Context(), time.Minute); err != nil { // deletes it
		t.Fatalf("sync: %v", err)
	}
	refused("retired, then removed kid", sign(key.Method, cur.ID, key.Private), security.ReasonUnknownKey)

	if len(store.records) != 1 {
		t.Fatalf("%d keys left, want the one that took over", len(store.records))
	}
	live, _ := store.records[0].Open(&Cipher{})
	tok := sign(live.Method, live.ID, live.Private)
	if err := s.Manager().Revoke(t.Context(), live.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := s.sync(t.Context(), time.Minute); err != nil {
		t.Fatalf("sync: %v", err)
	}
	refused("revoked kid", tok, security.ReasonRevokedKey)
}
