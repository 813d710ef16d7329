package http_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
)

func TestDisableTOTPNeedsPasswordAndCode(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	u := api.enableTOTP(t, "disable")
	disable := func(password, code string) response {
		return api.do(t, http.MethodDelete, totpPath, map[string]string{"password": password, "code": code}, bearer(u.access))
	}
	wantStatus(t, disable("wrong-password", api.code(t, u.secret)), http.StatusBadRequest, "invalid_password")
	wantStatus(t, disable(testPassword, api.wrongCode(t, u.secret)), http.StatusBadRequest, "invalid_mfa_code")
	wantStatus(t, api.do(t, http.MethodDelete, totpPath, map[string]string{"password": testPassword}, bearer(u.access)),
		http.StatusUnprocessableEntity, "validation_error")
	wantStatus(t, disable(testPassword, api.code(t, u.secret)), http.StatusOK, "")
	wantStatus(t, disable(testPassword, api.code(t, u.secret)), http.StatusConflict, "totp_not_enabled")
	wantEventTypes(t, api, u.access, "mfa_enabled", "mfa_disabled")
	wantAMR(t, api.login(t, u.id, testPassword).access, "pwd")
	r := api.do(t, http.MethodGet, mfaPath, nil, bearer(u.access))
	if got := string(bytes.TrimSpace(r.Body)); got != `{"totp":false,"passkeys":0,"recovery_codes_left":0}` {
		t.Fatalf("GET /mfa after disabling = %s", got)
	}
}

// An account without a factor logs in as before: 200 with cookies and amr
// pwd; the second step has nothing to finish.
func TestLoginWithoutFactorUnchanged(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "plain")
	l := api.login(t, id, testPassword)
	wantAMR(t, l.access, "pwd")
	if l.resp.cookie("access_token") == nil {
		t.Fatal("login set no access_token cookie")
	}
	wantStatus(t, api.finish(t, "made-up-token", "code", "123456"), http.StatusUnauthorized, "invalid_token")
}

// Deleting an account deletes its factors; the account id registered again
// logs in with its password alone.
func TestDeleteAccountDeletesFactors(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	u := api.enableTOTP(t, "delete-mfa")
	var uuid string
	if err := api.pool.QueryRow(context.Background(), "SELECT uuid FROM accounts WHERE lower(account_id) = lower($1)", u.id).Scan(&uuid); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, api.do(t, http.MethodDelete, accountsPath+"/me", map[string]string{"password": testPassword}, bearer(u.access)),
		http.StatusOK, "")
	var n int
	err := api.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM totp_secrets WHERE account_uuid = $1)
 + (SELECT count(*) FROM recovery_codes WHERE account_uuid = $1)`, uuid).Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("factor rows of the deleted account: %d, %v; want 0", n, err)
	}
	api.register(t, u.id, testPassword)
	wantAMR(t, api.login(t, u.id, testPassword).access, "pwd")
}
