package config

import (
	"strings"
	"testing"
)

// TestSecretKeyLengthFollowsAlgorithm shows that SECRET_KEY must be as long
// as the hash of ALGORITHM: 32, 48 or 64 bytes. A shorter one stops
// start-up with one line that names the variable.
func TestSecretKeyLengthFollowsAlgorithm(t *testing.T) {
	t.Chdir(t.TempDir())
	for alg, want := range map[string]int{"HS256": 32, "HS384": 48, "HS512": 64} {
		short := []string{"ALGORITHM=" + alg, "SECRET_KEY=" + strings.Repeat("k", want-1)}
		_, err := Load(short)
		if err == nil || !strings.HasPrefix(err.Error(), "SECRET_KEY:") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s with a %d-byte SECRET_KEY: error = %v, want one line starting with SECRET_KEY:", alg, want-1, err)
		}
		if _, err := Load([]string{"ALGORITHM=" + alg, "SECRET_KEY=" + strings.Repeat("k", want)}); err != nil {
			t.Errorf("%s with a %d-byte SECRET_KEY: %v", alg, want, err)
		}
		if _, err := Load([]string{"ALGORITHM=" + alg}); err != nil {
			t.Errorf("%s with SECRET_KEY unset (random key): %v", alg, err)
		}
	}
}
