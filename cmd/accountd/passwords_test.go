package main

import (
	"context"
	"crypto/sha1" //nolint:gosec // G505: the breached list is keyed by SHA-1
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBreachedFile writes a Have I Been Pwned file of the lines, in the
// order given, and returns its path.
func writeBreachedFile(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pwned.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func sha1Line(password string) string {
	sum := sha1.Sum([]byte(password)) //nolint:gosec // G401: the list's key
	return strings.ToUpper(hex.EncodeToString(sum[:])) + ":7"
}

// TestBadBreachedFileStopsStart checks that a missing, empty, malformed
// or unsorted BREACHED_PASSWORDS_FILE stops the start with one line naming
// the variable.
func TestBadBreachedFileStopsStart(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"missing":   filepath.Join(t.TempDir(), "nope.txt"),
		"empty":     writeBreachedFile(t),
		"malformed": writeBreachedFile(t, "password", "123456"),
		"unsorted":  writeBreachedFile(t, "F"+strings.Repeat("0", 39)+":1", "A"+strings.Repeat("0", 39)+":1"),
	}
	for name, path := range cases {
		env := append(baseEnv(t), "BREACHED_PASSWORDS_FILE="+path)
		err := run(context.Background(), []string{"accountd", "serve"}, env, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), "BREACHED_PASSWORDS_FILE: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s file: run = %v, want one line starting with BREACHED_PASSWORDS_FILE", name, err)
		}
	}
}

// TestServeWithArgon2idAndBreachedList runs accountd with PASSWORD_HASH=
// argon2id and a list of breached passwords: a listed password is refused
// at sign-up, another one registers and logs in.
func TestServeWithArgon2idAndBreachedList(t *testing.T) {
	t.Parallel()
	const listed = "password123456"
	env := append(baseEnv(t), "PASSWORD_HASH=argon2id", "ARGON2_MEMORY=1MiB", "ARGON2_TIME=1",
		"ARGON2_MAX_MEMORY=2MiB", "BREACHED_PASSWORDS_FILE="+writeBreachedFile(t, sha1Line(listed)))
	in := start(t, env)
	api := in.URL + "/api/v1/accounts"
	c := newClient(t)
	st, body, _ := c.do("POST", api+"/", "application/json", `{"account_id": "pwned", "password": "`+listed+`"}`)
	wantStatus(t, "register with a breached password", st, http.StatusUnprocessableEntity, body)
	if body["code"] != "password_breached" {
		t.Fatalf("code = %v, want password_breached", body["code"])
	}
	st, body, _ = c.do("POST", api+"/", "application/json", `{"account_id": "argon", "password": "securepass123"}`)
	wantStatus(t, "register", st, http.StatusCreated, body)
	st, body, _ = c.do("POST", api+"/token", "application/x-www-form-urlencoded", "username=argon&password=securepass123")
	wantStatus(t, "login", st, http.StatusOK, body)
	st, body, _ = c.do("POST", api+"/token", "application/x-www-form-urlencoded", "username=argon&password=wrong-password")
	wantStatus(t, "login with a wrong password", st, http.StatusBadRequest, body)
}
