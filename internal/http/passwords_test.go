package http_test

import (
	"bytes"
	"net/http"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestChangePasswordRevokesOtherSessions(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Rotator")
	b := api.newBrowser(t) // the caller, with cookies
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword)), http.StatusOK, "")
	second, third := api.login(t, id, testPassword), api.login(t, id, testPassword)
	stranger := api.login(t, api.newAccount(t, "Bystander"), testPassword)
	newPW := "Brand-New-Pass-" + randomHex(4)

	r := b.do(t, http.MethodPut, accountsPath+"/password", map[string]string{"old_password": testPassword, "new_password": newPW})
	wantStatus(t, r, http.StatusOK, "")
	wantNoSecret(t, "password change answer", r.Body, newPW)

	api.wantSessionDead(t, "second session after the password change", second)
	api.wantSessionDead(t, "third session after the password change", third)
	// The caller's session goes on, access and refresh alike.
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/me", nil), http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/refresh", nil), http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/me", nil), http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/verify_password", map[string]string{"password": newPW}), http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/verify_password", map[string]string{"password": testPassword}),
		http.StatusBadRequest, "invalid_password")

	wantStatus(t, api.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword)), http.StatusBadRequest, "invalid_credentials")
	api.wantSessionAlive(t, "login with the new password", api.login(t, id, newPW))
	api.wantSessionAlive(t, "another account", stranger)
	if bytes.Contains([]byte(api.logs.String()), []byte(newPW)) {
		t.Fatalf("the new password appears in the log")
	}
}

// TestLoginRehashesOtherCost logs in on an instance with another bcrypt
// cost: a good login re-hashes the password at that cost, a bad one does not.
func TestLoginRehashesOtherCost(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	b := newTestAPI(t, sharingBackendsWith(a), withBcryptCost(testBcryptCost+1))
	id := a.newAccount(t, "Rehash")
	cost := func() int {
		t.Helper()
		var hash []byte
		if err := a.pool.QueryRow(t.Context(), "SELECT password_hash FROM accounts WHERE account_id = $1", id).Scan(&hash); err != nil {
			t.Fatalf("read hash: %v", err)
		}
		c, err := bcrypt.Cost(hash)
		if err != nil {
			t.Fatalf("stored hash is not bcrypt: %v", err)
		}
		return c
	}
	if got := cost(); got != testBcryptCost {
		t.Fatalf("cost after registration = %d, want %d", got, testBcryptCost)
	}
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, "wrong-password")), http.StatusBadRequest, "invalid_credentials")
	if got := cost(); got != testBcryptCost {
		t.Fatalf("cost after a failed login = %d, want it unchanged at %d", got, testBcryptCost)
	}
	b.login(t, id, testPassword)
	if got := cost(); got != testBcryptCost+1 {
		t.Fatalf("cost after a good login on an instance with cost %d = %d, want it re-hashed", testBcryptCost+1, got)
	}
	a.login(t, id, testPassword) // the password still works, and goes back
	if got := cost(); got != testBcryptCost {
		t.Fatalf("cost after a good login back on cost %d = %d", testBcryptCost, got)
	}
}

func TestDisabledAccount(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Disabled")
	api.disable(t, id)

	r := api.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword))
	wantStatus(t, r, http.StatusForbidden, "account_disabled")
	wantErrorBody(t, r, "account_disabled")
	if len(r.Cookies) != 0 {
		t.Fatalf("refused login set cookies %q", r.Header.Values("Set-Cookie"))
	}
	wantStatus(t, api.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, "wrong-password")),
		http.StatusBadRequest, "invalid_credentials")
	// A wrong password says nothing about the account being disabled.
	wrong := api.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, "wrong-password"))
	unknown := api.do(t, http.MethodPost, accountsPath+"/token", loginForm(newAccountID("ghost"), "wrong-password"))
	if !bytes.Equal(wrong.Body, unknown.Body) || wrong.Status != unknown.Status {
		t.Fatalf("wrong password on a disabled account = %d %s, want the same as an unknown account: %d %s",
			wrong.Status, wrong.Body, unknown.Status, unknown.Body)
	}
}

// TestDisabledAccountLosesItsSessions disables an account that is logged
// in: its access token no longer gets its data, and its refresh token must
// not mint new tokens (which other services would accept as valid JWTs).
func TestDisabledAccountLosesItsSessions(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "Banned")
	l := api.login(t, id, testPassword)
	api.disable(t, id)

	api.wantAccess(t, "access token of a disabled account", l.access, http.StatusForbidden, "account_disabled")
	r := api.refresh(t, l.refresh)
	if c := r.cookie("refresh_token"); r.Status == http.StatusOK || (c != nil && c.Value != "") {
		t.Fatalf("POST /refresh for a disabled account = %d, new refresh cookie: %v; want it refused "+
			"(403 account_disabled, as at login) with no new tokens", r.Status, c != nil && c.Value != "")
	}
	wantStatus(t, r, http.StatusForbidden, "account_disabled")
}
