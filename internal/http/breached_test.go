package http_test

import (
	"crypto/sha1" //nolint:gosec // G505: the breached list is keyed by SHA-1
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/breached"
)

// openBreachedList writes a Have I Been Pwned file listing passwords and
// opens it.
func openBreachedList(t *testing.T, passwords ...string) *breached.List {
	t.Helper()
	var lines []string
	for _, p := range passwords {
		sum := sha1.Sum([]byte(p)) //nolint:gosec // G401: the list's key
		lines = append(lines, strings.ToUpper(hex.EncodeToString(sum[:]))+":42\r\n")
	}
	slices.Sort(lines)
	path := filepath.Join(t.TempDir(), "pwned.txt")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := breached.Open(path)
	if err != nil {
		t.Fatalf("open breached list: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// wantBreached fails unless r is the contract's 422 for a breached password
// at field, and does not echo it.
func wantBreached(t *testing.T, r response, field, password string) {
	t.Helper()
	wantStatus(t, r, http.StatusUnprocessableEntity, "password_breached")
	var body struct {
		Detail []struct {
			Type string   `json:"type"`
			Loc  []string `json:"loc"`
			Msg  string   `json:"msg"`
		} `json:"detail"`
		Code string `json:"code"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Detail) != 1 {
		t.Fatalf("body %s: want one detail entry (%v)", r.Body, err)
	}
	d := body.Detail[0]
	if d.Type != "password_breached" || !slices.Equal(d.Loc, []string{"body", field}) || d.Msg == "" {
		t.Fatalf("detail = %+v, want type password_breached at [body %s] with a message", d, field)
	}
	wantNoSecret(t, "422 body", r.Body, password)
}

func TestBreachedPasswordsRefused(t *testing.T) {
	t.Parallel()
	const listed = "correct horse battery staple"
	api := newTestAPI(t, withBreached(openBreachedList(t, listed, "password123", "letmein-please")))
	api.client.Transport = newContract(t, api.client.Transport) // the 422s are as documented
	id := newAccountID("Pwned")

	r := api.do(t, http.MethodPost, accountsPath+"/", map[string]string{"account_id": id, "password": listed})
	wantBreached(t, r, "password", listed)
	r = api.do(t, http.MethodGet, accountsPath+"/exist/"+id, nil)
	wantStatus(t, r, http.StatusOK, "")
	if exists, ok := r.obj(t)["exists"].(bool); !ok || exists {
		t.Fatal("a refused registration created the account")
	}

	api.register(t, id, testPassword)
	b := api.newBrowser(t)
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword)), http.StatusOK, "")
	r = b.do(t, http.MethodPut, accountsPath+"/password", map[string]string{"old_password": testPassword, "new_password": listed})
	wantBreached(t, r, "new_password", listed)
	api.login(t, id, testPassword) // unchanged
	wantStatus(t, b.do(t, http.MethodPut, accountsPath+"/password",
		map[string]string{"old_password": testPassword, "new_password": "not-in-the-list-" + randomHex(4)}), http.StatusOK, "")
	if strings.Contains(api.logs.String(), listed) {
		t.Fatal("the breached password appears in the log")
	}
}
