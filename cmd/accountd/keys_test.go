package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// keys runs `accountd keys args...` with env and returns its output.
func keysCmd(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"accountd", "keys"}, args...), env, &out)
	return out.String(), err
}

type listedKey struct {
	KID   string `json:"kid"`
	State string `json:"state"`
}

func listKeysJSON(t *testing.T, env []string) []listedKey {
	t.Helper()
	out, err := keysCmd(t, env, "list", "--json")
	if err != nil {
		t.Fatalf("keys list --json: %v", err)
	}
	var list []listedKey
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("keys list --json printed %q: %v", out, err)
	}
	return list
}

func keyIn(list []listedKey, state string) string {
	for _, k := range list {
		if k.State == state {
			return k.KID
		}
	}
	return ""
}

// TestKeysCommands drives `accountd keys` against a running instance: a
// rotation is scheduled, forced, and the current key revoked, after which
// the instance refuses its tokens.
func TestKeysCommands(t *testing.T) {
	env := baseEnv(t)
	in := start(t, env)
	c := newClient(t)
	api := in.URL + "/api/v1/accounts"
	st, body, _ := c.do("POST", api+"/", "application/json", `{"account_id": "keys.user", "password": "securepass123"}`)
	wantStatus(t, "register", st, http.StatusCreated, body)
	st, body, _ = c.do("POST", api+"/token", "application/x-www-form-urlencoded", "username=keys.user&password=securepass123")
	wantStatus(t, "login", st, http.StatusOK, body)
	access, _ := body["access_token"].(string)

	first := listKeysJSON(t, env)
	if len(first) != 1 || first[0].State != "current" {
		t.Fatalf("keys at start = %+v, want one current key", first)
	}
	out, err := keysCmd(t, env, "list")
	if err != nil || !strings.Contains(out, first[0].KID) || !strings.Contains(out, "current") {
		t.Fatalf("keys list = %q, %v; want the current key", out, err)
	}

	out, err = keysCmd(t, env, "rotate")
	if err != nil || !strings.Contains(out, "signs from") {
		t.Fatalf("keys rotate = %q, %v", out, err)
	}
	next := keyIn(listKeysJSON(t, env), "next")
	if next == "" {
		t.Fatalf("no next key after keys rotate")
	}
	out, err = keysCmd(t, env, "rotate", "--now")
	if err != nil || !strings.Contains(out, next) || !strings.Contains(out, "unknown kid") {
		t.Fatalf("keys rotate --now = %q, %v; want %s current and the risk said", out, err, next)
	}
	list := listKeysJSON(t, env)
	if keyIn(list, "current") != next || keyIn(list, "retired") != first[0].KID {
		t.Fatalf("keys after rotate --now = %+v, want %s current and %s retired", list, next, first[0].KID)
	}
	// The retired key's token still works: it stays published until it expires.
	st, body, _ = c.do("GET", api+"/me", "", "", "Authorization", "Bearer "+access)
	wantStatus(t, "me with the retired key's token", st, http.StatusOK, body)

	if _, err := keysCmd(t, env, "revoke", first[0].KID); err != nil {
		t.Fatalf("keys revoke: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, body, _ = c.do("GET", api+"/me", "", "", "Authorization", "Bearer "+access)
		if st == http.StatusUnauthorized || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	wantStatus(t, "me with the revoked key's token", st, http.StatusUnauthorized, body)
	if !strings.Contains(in.Logs.String(), `"event":"signing_key_rotated"`) {
		t.Errorf("the instance logged no signing_key_rotated event")
	}

	_, err = keysCmd(t, env, "revoke", first[0].KID)
	if exitCode(err) != 1 {
		t.Fatalf("revoking a revoked key: exit %d (%v), want 1", exitCode(err), err)
	}
	for _, args := range [][]string{{}, {"spin"}, {"revoke"}, {"list", "extra"}, {"rotate", "--later"}} {
		if _, err := keysCmd(t, env, args...); exitCode(err) != 2 {
			t.Errorf("keys %v: exit %d (%v), want 2", args, exitCode(err), err)
		}
	}
	if err := run(context.Background(), []string{"accountd", "frobnicate"}, nil, io.Discard); exitCode(err) != 2 {
		t.Errorf("unknown command: exit %d, want 2", exitCode(err))
	}
}

// TestHMACAlgorithmStillWorks runs the original's HS256 setting: SECRET_KEY
// signs, tokens carry a kid, the JWKS publishes nothing, and the keys
// command says there is nothing to manage.
func TestHMACAlgorithmStillWorks(t *testing.T) {
	env := append(baseEnv(t), "ALGORITHM=HS256")
	in := start(t, env)
	c := newClient(t)
	api := in.URL + "/api/v1/accounts"
	st, body, _ := c.do("POST", api+"/", "application/json", `{"account_id": "hs.user", "password": "securepass123"}`)
	wantStatus(t, "register", st, http.StatusCreated, body)
	st, body, _ = c.do("POST", api+"/token", "application/x-www-form-urlencoded", "username=hs.user&password=securepass123")
	wantStatus(t, "login", st, http.StatusOK, body)
	access, _ := body["access_token"].(string)
	header, _, _ := strings.Cut(access, ".")
	if !strings.Contains(decodeSegment(t, header), `"alg":"HS256"`) || !strings.Contains(decodeSegment(t, header), `"kid":"hs-`) {
		t.Fatalf("header = %s, want HS256 with an hs- kid", decodeSegment(t, header))
	}
	st, body, _ = c.do("GET", api+"/me", "", "", "Authorization", "Bearer "+access)
	wantStatus(t, "me", st, http.StatusOK, body)
	resp, err := http.Get(in.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(raw)) != `{"keys":[]}` {
		t.Fatalf("JWKS under HS256 = %s, want no keys", raw)
	}
	if _, err := keysCmd(t, env, "list"); exitCode(err) != 2 {
		t.Fatalf("keys list under HS256: exit %d (%v), want 2", exitCode(err), err)
	}
}

func decodeSegment(t *testing.T, seg string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode %q: %v", seg, err)
	}
	return string(b)
}
