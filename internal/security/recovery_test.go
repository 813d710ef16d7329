package security_test

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/accountd/accountd/internal/security"
)

func TestRecoveryCode(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)
	seen := map[string]bool{}
	for range 100 {
		c := security.NewRecoveryCode()
		if !shape.MatchString(c) || seen[c] {
			t.Fatalf("code %q: want four groups of four base32 letters, all different", c)
		}
		seen[c] = true
	}
	h := security.HashRecoveryCode("abcd-efgh-ijkl-mnop")
	for _, typed := range []string{"ABCD-EFGH-IJKL-MNOP", "abcd efgh ijkl mnop", "abcdefghijklmnop"} {
		if !bytes.Equal(security.HashRecoveryCode(typed), h) {
			t.Errorf("HashRecoveryCode(%q) differs from the code's hash", typed)
		}
	}
	if bytes.Equal(security.HashRecoveryCode("abcd-efgh-ijkl-mnoq"), h) {
		t.Error("two codes have one hash")
	}
}
