package config

import (
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/security"
)

func TestPasswordDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.PasswordHash != security.Bcrypt || c.BreachedPasswordsFile != "" {
		t.Fatalf("PASSWORD_HASH %q, BREACHED_PASSWORDS_FILE %q; want bcrypt and none", c.PasswordHash, c.BreachedPasswordsFile)
	}
	if got := c.Argon2Params(); got != security.DefaultArgon2Params {
		t.Fatalf("Argon2Params() = %+v, want the defaults %+v", got, security.DefaultArgon2Params)
	}
	c, err = Load([]string{"PASSWORD_HASH=argon2id", "ARGON2_MEMORY=64 MiB", "ARGON2_TIME=3", "ARGON2_THREADS=4", "ARGON2_MAX_MEMORY=1GiB"})
	if err != nil {
		t.Fatal(err)
	}
	want := security.Argon2Params{Memory: 65536, Time: 3, Threads: 4, MaxMemory: 1 << 20}
	if got := c.Argon2Params(); c.PasswordHash != security.Argon2id || got != want {
		t.Fatalf("PASSWORD_HASH %q, Argon2Params() = %+v; want argon2id and %+v", c.PasswordHash, got, want)
	}
}

func TestPasswordErrorsNameTheVariable(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := map[string]string{
		"PASSWORD_HASH=scrypt":     "PASSWORD_HASH",
		"PASSWORD_HASH=Argon2id":   "PASSWORD_HASH",
		"ARGON2_MEMORY=lots":       "ARGON2_MEMORY",
		"ARGON2_MEMORY=19MB":       "ARGON2_MEMORY",
		"ARGON2_MEMORY=4KiB":       "ARGON2_MEMORY",
		"ARGON2_MEMORY=5GiB":       "ARGON2_MEMORY",
		"ARGON2_TIME=0":            "ARGON2_TIME",
		"ARGON2_THREADS=0":         "ARGON2_THREADS",
		"ARGON2_THREADS=256":       "ARGON2_THREADS",
		"ARGON2_MAX_MEMORY=1MiB":   "ARGON2_MAX_MEMORY",
		"ARGON2_MAX_MEMORY=-1":     "ARGON2_MAX_MEMORY",
		"ARGON2_MAX_MEMORY=9e9GiB": "ARGON2_MAX_MEMORY",
	}
	for setting, name := range cases {
		_, err := Load([]string{setting})
		if err == nil || !strings.HasPrefix(err.Error(), name+":") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Load(%s) error = %v, want one line starting with %s:", setting, err, name)
		}
	}
}

func TestKiB(t *testing.T) {
	for in, want := range map[string]KiB{
		"19MiB": 19456, "19456": 19456, "19456KiB": 19456, "19 mib": 19456, "1GiB": 1 << 20, " 8kib ": 8,
	} {
		var k KiB
		if err := k.UnmarshalText([]byte(in)); err != nil || k != want {
			t.Errorf("UnmarshalText(%q) = %d, %v; want %d", in, k, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1.5MiB", "-1", "19MB", "19 M", "0x10"} {
		var k KiB
		if err := k.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("UnmarshalText(%q) = %d, want an error", in, k)
		}
	}
	for k, want := range map[KiB]string{19456: "19MiB", 1 << 20: "1GiB", 1000: "1000KiB", 0: "0KiB"} {
		if got := k.String(); got != want {
			t.Errorf("KiB(%d).String() = %q, want %q", uint64(k), got, want)
		}
	}
}
