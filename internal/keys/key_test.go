package keys

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// jwksHas reports whether the JWKS document body publishes kid.
func jwksHas(t *testing.T, body []byte, kid string) bool {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	return len(set.Key(kid)) > 0
}

func TestRecordsOfEveryAlgorithmOpen(t *testing.T) {
	c, err := NewCipher([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatalf("NewCipher: %v", err)
	}
	for _, alg := range Algorithms {
		t.Run(alg, func(t *testing.T) {
			r, err := NewRecord(alg, t0, t0, c)
			if err != nil {
				t.Fatalf("NewRecord: %v", err)
			}
			if !r.Encrypted || len(r.ID) != 43 {
				t.Fatalf("record encrypted=%v kid=%q, want sealed with a thumbprint kid", r.Encrypted, r.ID)
			}
			k, err := r.Open(c)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if k.Method.Alg() != alg || k.Private == nil {
				t.Fatalf("key method %s, want %s", k.Method.Alg(), alg)
			}
			sig, err := k.Method.Sign("a.b", k.Private)
			if err != nil || k.Method.Verify("a.b", sig, k.Public) != nil {
				t.Fatalf("sign/verify round trip failed: %v", err)
			}
		})
	}
}

func TestCipherRefusesTheWrongKeyAndMovedRows(t *testing.T) {
	c, _ := NewCipher([]byte(strings.Repeat("k", 32)))
	other, _ := NewCipher([]byte(strings.Repeat("o", 32)))
	r, err := NewRecord(ES256, t0, t0, c)
	if err != nil {
		t.Fatalf("NewRecord: %v", err)
	}
	if _, err := r.Open(other); err == nil {
		t.Fatalf("opened with another SECRET_KEY")
	}
	if _, err := r.Open(&Cipher{}); !errors.Is(err, ErrSealed) {
		t.Fatalf("Open without a secret = %v, want ErrSealed", err)
	}
	moved := r
	moved.ID = "another-kid"
	if _, err := moved.Open(c); err == nil {
		t.Fatalf("a sealed key moved to another kid opened")
	}
	plain, err := NewRecord(ES256, t0, t0, &Cipher{})
	if err != nil || plain.Encrypted {
		t.Fatalf("NewRecord without a secret: encrypted=%v err=%v, want stored in the clear", plain.Encrypted, err)
	}
	if _, err := plain.Open(c); err != nil {
		t.Fatalf("a clear key with a secret set: %v", err)
	}
}

func TestRecordWithAForeignKidDoesNotOpen(t *testing.T) {
	a, _ := NewRecord(ES256, t0, t0, &Cipher{})
	b, _ := NewRecord(ES256, t0, t0, &Cipher{})
	a.PrivateKey = b.PrivateKey // b's key under a's kid
	if _, err := a.Open(&Cipher{}); err == nil {
		t.Fatalf("opened a key whose kid is not its thumbprint")
	}
}
