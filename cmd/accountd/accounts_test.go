package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseAccountsArgs(t *testing.T) {
	t.Parallel()
	ok := []struct {
		args []string
		want accountsArgs
	}{
		{[]string{"show", "alice"}, accountsArgs{sub: "show", ref: "alice"}},
		{[]string{"show", "--json", "alice"}, accountsArgs{sub: "show", ref: "alice", json: true}},
		{[]string{"show", "alice", "--json"}, accountsArgs{sub: "show", ref: "alice", json: true}},
		{[]string{"disable", "--", "-odd-id"}, accountsArgs{sub: "disable", ref: "-odd-id"}},
		{[]string{"list"}, accountsArgs{sub: "list", limit: 50}},
		{[]string{"list", "--query", "al", "--limit=5", "--json"}, accountsArgs{sub: "list", query: "al", limit: 5, json: true}},
		{[]string{"events", "bob", "--limit", "3", "--before", "9"}, accountsArgs{sub: "events", ref: "bob", limit: 3, before: 9}},
		{[]string{"set-password", "bob"}, accountsArgs{sub: "set-password", ref: "bob", readsPassword: true}},
		{[]string{"--json", "show", "bob"}, accountsArgs{sub: "show", ref: "bob", json: true}},
		{[]string{"--limit=2", "--json", "list"}, accountsArgs{sub: "list", limit: 2, json: true}},
	}
	for _, c := range ok {
		got, err := parseAccountsArgs(c.args)
		if err != nil || got != c.want {
			t.Errorf("parse %q = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	for _, args := range [][]string{
		nil, {"--json"}, {"--json", "--", "show"}, {"frobnicate", "x"}, {"show"}, {"show", "a", "b"}, {"list", "alice"}, {"show", "--limit", "3", "a"},
		{"list", "--limit", "many"}, {"show", "--nope", "a"}, {"events", "a", "--before", "x"},
	} {
		_, err := parseAccountsArgs(args)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "usage: accountd accounts") {
			t.Errorf("parse %q: exit %d (%v), want %d with the usage", args, exitCode(err), err, exitUsage)
		}
	}
}

// cli runs `accountd accounts args...` on env with stdin and returns its
// stdout and exit status.
func cli(t *testing.T, env []string, stdin string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	err := runWith(t.Context(), append([]string{"accountd", "accounts"}, args...), env,
		streams{in: strings.NewReader(stdin), out: &out, err: t.Output()})
	if err == nil {
		return out.String(), 0
	}
	t.Logf("accountd accounts %s: %v", strings.Join(args, " "), err)
	return out.String(), exitCode(err)
}

// wantCLI fails unless the command exits with status; it returns stdout.
func wantCLI(t *testing.T, env []string, stdin string, status int, args ...string) string {
	t.Helper()
	out, got := cli(t, env, stdin, args...)
	if got != status {
		t.Fatalf("accountd accounts %s: exit %d, want %d (stdout %q)", strings.Join(args, " "), got, status, out)
	}
	return out
}

// login logs in on in and returns the access token.
func login(t *testing.T, c *client, in *instance, id, password string) string {
	t.Helper()
	st, body, _ := c.do("POST", in.URL+"/api/v1/accounts/token", "application/x-www-form-urlencoded",
		"username="+id+"&password="+password)
	wantStatus(t, "login "+id, st, http.StatusOK, body)
	return body["access_token"].(string)
}

func register(t *testing.T, c *client, in *instance, id string) string {
	t.Helper()
	st, body, _ := c.do("POST", in.URL+"/api/v1/accounts/", "application/json",
		`{"account_id": "`+id+`", "password": "securepass123"}`)
	wantStatus(t, "register "+id, st, http.StatusCreated, body)
	return body["uuid"].(string)
}

// meStatus returns GET /me's status and code for the token.
func meStatus(c *client, in *instance, access string) (int, string) {
	st, body, _ := c.do("GET", in.URL+"/api/v1/accounts/me", "", "", "Authorization", "Bearer "+access)
	code, _ := body["code"].(string)
	return st, code
}

func TestAccountsCommands(t *testing.T) {
	env := baseEnv(t)
	in := start(t, env)
	c := newClient(t)
	uuid := register(t, c, in, "Operated")
	access := login(t, c, in, "operated", "securepass123")

	var list []map[string]any
	if err := json.Unmarshal([]byte(wantCLI(t, env, "", 0, "list", "--json", "--query", "OPER")), &list); err != nil ||
		len(list) != 1 || list[0]["uuid"] != uuid || list[0]["account_id"] != "Operated" || list[0]["disabled"] != false {
		t.Fatalf("list --json = %v (%v), want the one account", list, err)
	}
	if out := wantCLI(t, env, "", 0, "list"); !strings.HasPrefix(out, "UUID") || !strings.Contains(out, uuid) {
		t.Fatalf("list = %q, want a table with the account", out)
	}
	for _, ref := range []string{"OPERATED", uuid} {
		if out := wantCLI(t, env, "", 0, "show", ref); !strings.Contains(out, "account_id:  Operated") ||
			!strings.Contains(out, "sessions:    1") {
			t.Fatalf("show %s = %q, want the account and its one session", ref, out)
		}
	}
	var events []map[string]any
	if err := json.Unmarshal([]byte(wantCLI(t, env, "", 0, "events", "operated", "--json")), &events); err != nil ||
		len(events) != 2 || events[0]["type"] != "login_succeeded" || events[1]["type"] != "account_created" {
		t.Fatalf("events --json = %v (%v), want login_succeeded, account_created", events, err)
	}

	wantCLI(t, env, "short\n", exitUsage, "set-password", "operated")
	wantCLI(t, env, "operated\n", exitUsage, "set-password", "operated")
	out := wantCLI(t, env, "a-new-secure-pass\n", 0, "set-password", "operated")
	if !strings.Contains(out, "password set: Operated") || !strings.Contains(out, "1 sessions revoked") {
		t.Fatalf("set-password = %q", out)
	}
	if st, code := meStatus(c, in, access); st != http.StatusUnauthorized || code != "token_revoked" {
		t.Fatalf("token after set-password: %d %s, want 401 token_revoked", st, code)
	}
	access = login(t, c, in, "operated", "a-new-secure-pass")

	var res map[string]any
	if err := json.Unmarshal([]byte(wantCLI(t, env, "", 0, "--json", "revoke-sessions", uuid)), &res); err != nil ||
		res["sessions_revoked"] != float64(1) || res["done"] != "sessions revoked" {
		t.Fatalf("revoke-sessions --json = %v (%v)", res, err)
	}
	if st, code := meStatus(c, in, access); st != http.StatusUnauthorized || code != "token_revoked" {
		t.Fatalf("token after revoke-sessions: %d %s, want 401 token_revoked", st, code)
	}
	wantCLI(t, env, "", 0, "disable", "operated")
	st, body, _ := c.do("POST", in.URL+"/api/v1/accounts/token", "application/x-www-form-urlencoded",
		"username=operated&password=a-new-secure-pass")
	wantStatus(t, "login of a disabled account", st, http.StatusForbidden, body)
	wantCLI(t, env, "", 0, "enable", "operated")
	login(t, c, in, "operated", "a-new-secure-pass")
	if err := json.Unmarshal([]byte(wantCLI(t, env, "", 0, "events", "operated", "--json", "--limit", "100")), &events); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e["type"].(string))
		if e["user_agent"] == "accountd accounts disable" && e["type"] != "account_disabled" && e["type"] != "session_revoked" {
			t.Fatalf("disable wrote %v", e)
		}
	}
	for _, want := range []string{"password_changed", "session_revoked", "account_disabled", "account_enabled"} {
		if !strings.Contains(strings.Join(types, " "), want) {
			t.Fatalf("events %v lack %s", types, want)
		}
	}

	wantCLI(t, env, "", 0, "delete", "operated")
	for _, args := range [][]string{{"show", "operated"}, {"events", uuid}, {"disable", "operated"}, {"delete", uuid}} {
		wantCLI(t, env, "", exitNotFound, args...)
	}
	wantCLI(t, env, "", exitUsage, "show")
	wantCLI(t, env, "", exitUsage, "list", "--limit", "0")
	if out := wantCLI(t, env, "", 0, "--help"); !strings.Contains(out, "revoke-sessions") {
		t.Fatalf("accounts --help = %q", out)
	}
	register(t, c, in, "operated")
}

// Disabling, revoking and deleting on the command line make live access
// tokens fail on every running instance within about a second (the test
// allows 10s, for a busy machine, and logs what it took).
func TestAccountsCommandsReachEveryInstance(t *testing.T) {
	env := baseEnv(t)
	a, b := start(t, env), start(t, env)
	c := newClient(t)
	for _, cmd := range []string{"disable", "revoke-sessions", "delete"} {
		id := "reach-" + cmd
		register(t, c, a, id)
		onA, onB := login(t, c, a, id, "securepass123"), login(t, c, b, id, "securepass123")
		for _, in := range []*instance{a, b} {
			for _, tok := range []string{onA, onB} {
				if st, _ := meStatus(c, in, tok); st != http.StatusOK {
					t.Fatalf("%s: token before the command: %d", cmd, st)
				}
			}
		}
		start := time.Now()
		wantCLI(t, env, "", 0, cmd, id)
		for _, in := range []*instance{a, b} {
			for _, tok := range []string{onA, onB} {
				took, ok := pollUntil(10*time.Second, func() bool {
					st, code := meStatus(c, in, tok)
					return st == http.StatusUnauthorized && code == "token_revoked"
				})
				if !ok {
					st, code := meStatus(c, in, tok)
					t.Fatalf("%s: token still %d %s on %s after 10s, want 401 token_revoked", cmd, st, code, in.URL)
				}
				t.Logf("%s: token refused on %s %v after the command returned (%v after it started)",
					cmd, in.URL, took, time.Since(start))
			}
		}
	}
}
