package http_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/app"
	"github.com/accountd/accountd/internal/keys"
	"github.com/accountd/accountd/internal/security"
)

// Paths of the second-factor endpoints.
const (
	mfaPath         = accountsPath + "/mfa"
	totpPath        = mfaPath + "/totp"
	totpConfirmPath = totpPath + "/confirm"
	tokenMFAPath    = accountsPath + "/token/mfa"
)

// factorCipher is the cipher that seals the test instances' TOTP secrets
// under their SECRET_KEY.
func factorCipher(t testing.TB, key []byte) *keys.Cipher {
	t.Helper()
	c, err := app.FactorCipher(key, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("FactorCipher: %v", err)
	}
	return c
}

// totpUser is an account whose TOTP is on, with a signed-in session.
type totpUser struct {
	id       string
	access   string
	secret   string
	recovery []string
}

// codeAt is the TOTP code of secret at the instance's clock, moved by d.
func (a *testAPI) codeAt(t *testing.T, secret string, d time.Duration) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, a.clock.Now().Add(d))
	if err != nil {
		t.Fatalf("GenerateCode: %v", err)
	}
	return c
}

// code is the TOTP code of secret now, by the instance's clock.
func (a *testAPI) code(t *testing.T, secret string) string { return a.codeAt(t, secret, 0) }

// wrongCode is a six-digit code that is none of the codes the instance
// could accept around now.
func (a *testAPI) wrongCode(t *testing.T, secret string) string {
	t.Helper()
	near := []string{}
	for _, d := range []time.Duration{-2, -1, 0, 1, 2} {
		near = append(near, a.codeAt(t, secret, d*security.TOTPPeriod))
	}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444", "555555"} {
		if !slices.Contains(near, c) {
			return c
		}
	}
	t.Fatal("every candidate wrong code is a right one")
	return ""
}

// enableTOTP registers an account, turns its TOTP on through the API and
// moves the clock to the next step, so that a code of now is not the one
// that confirmed it.
func (a *testAPI) enableTOTP(t *testing.T, prefix string) totpUser {
	t.Helper()
	u := totpUser{id: a.newAccount(t, prefix)}
	u.access = a.login(t, u.id, testPassword).access
	r := a.do(t, http.MethodPost, totpPath, map[string]string{"password": testPassword}, bearer(u.access))
	wantStatus(t, r, http.StatusOK, "")
	u.secret, _ = r.obj(t)["secret"].(string)
	r = a.do(t, http.MethodPost, totpConfirmPath, map[string]string{"code": a.code(t, u.secret)}, bearer(u.access))
	wantStatus(t, r, http.StatusOK, "")
	for _, c := range r.obj(t)["recovery_codes"].([]any) {
		u.recovery = append(u.recovery, c.(string))
	}
	a.clock.Advance(security.TOTPPeriod)
	return u
}

// mfaToken logs in with the password and returns the mfa_token of the 401
// mfa_required, checking that it set no cookie.
func (a *testAPI) mfaToken(t *testing.T, id string) string {
	t.Helper()
	r := a.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword))
	wantStatus(t, r, http.StatusUnauthorized, "mfa_required")
	if len(r.Cookies) != 0 {
		t.Fatalf("mfa_required set cookies: %v", r.Cookies)
	}
	token, _ := r.obj(t)["mfa_token"].(string)
	if token == "" {
		t.Fatalf("mfa_required without an mfa_token: %s", r.Body)
	}
	return token
}

// finish sends the second step as a form.
func (a *testAPI) finish(t *testing.T, token, field, code string) response {
	t.Helper()
	return a.do(t, http.MethodPost, tokenMFAPath, url.Values{"mfa_token": {token}, field: {code}})
}

func wantAMR(t *testing.T, access string, want ...string) {
	t.Helper()
	var got []string
	for _, v := range claimsOf(t, access)["amr"].([]any) {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("amr = %v, want %v", got, want)
	}
}

func TestTOTPEnrolmentAndLogin(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	id := api.newAccount(t, "totp")
	access := api.login(t, id, testPassword).access

	r := api.do(t, http.MethodGet, mfaPath, nil, bearer(access))
	wantStatus(t, r, http.StatusOK, "")
	if got := string(bytes.TrimSpace(r.Body)); got != `{"totp":false,"passkeys":0,"recovery_codes_left":0}` {
		t.Fatalf("GET /mfa = %s, want no factor", got)
	}
	wantStatus(t, api.do(t, http.MethodPost, totpPath, map[string]string{"password": "wrong-password"}, bearer(access)),
		http.StatusBadRequest, "invalid_password")
	wantStatus(t, api.do(t, http.MethodPost, totpConfirmPath, map[string]string{"code": "123456"}, bearer(access)),
		http.StatusConflict, "totp_not_pending")
	r = api.do(t, http.MethodPost, totpPath, map[string]string{"password": testPassword}, bearer(access))
	wantStatus(t, r, http.StatusOK, "")
	secret, _ := r.obj(t)["secret"].(string)
	uri, _ := r.obj(t)["otpauth_uri"].(string)
	if secret == "" || !strings.HasPrefix(uri, "otpauth://totp/accountd:"+id+"?") || !strings.Contains(uri, "secret="+secret) {
		t.Fatalf("enrolment = %s, want a secret and its otpauth URI", r.Body)
	}
	// Pending, the password alone still logs in.
	api.login(t, id, testPassword)
	wantStatus(t, api.do(t, http.MethodPost, totpConfirmPath, map[string]string{"code": api.wrongCode(t, secret)}, bearer(access)),
		http.StatusBadRequest, "invalid_mfa_code")
	r = api.do(t, http.MethodPost, totpConfirmPath, map[string]string{"code": api.code(t, secret)}, bearer(access))
	wantStatus(t, r, http.StatusOK, "")
	codes, _ := r.obj(t)["recovery_codes"].([]any)
	if len(codes) != account.RecoveryCodeCount {
		t.Fatalf("recovery codes = %s, want %d", r.Body, account.RecoveryCodeCount)
	}
	r = api.do(t, http.MethodGet, mfaPath, nil, bearer(access))
	if got := string(bytes.TrimSpace(r.Body)); got != `{"totp":true,"passkeys":0,"recovery_codes_left":10}` {
		t.Fatalf("GET /mfa = %s, want TOTP and 10 codes", got)
	}
	wantStatus(t, api.do(t, http.MethodPost, totpPath, map[string]string{"password": testPassword}, bearer(access)),
		http.StatusConflict, "totp_already_enabled")
	wantNoClearFactors(t, api, id, secret, codes[0].(string))

	// Now the password alone is not enough: a code finishes the login.
	api.clock.Advance(security.TOTPPeriod)
	b := api.newBrowser(t)
	r = b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword))
	wantStatus(t, r, http.StatusUnauthorized, "mfa_required")
	if len(r.Cookies) != 0 || b.cookie(t, accountsPath, "refresh_token") != "" {
		t.Fatalf("mfa_required set cookies: %v", r.Cookies)
	}
	token, _ := r.obj(t)["mfa_token"].(string)
	code := api.code(t, secret)
	r = b.do(t, http.MethodPost, tokenMFAPath, map[string]string{"mfa_token": token, "code": code})
	wantStatus(t, r, http.StatusOK, "")
	wantAMR(t, tokensOf(t, r).access, "pwd", "otp")
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/me", nil), http.StatusOK, "")
	r = b.do(t, http.MethodPost, accountsPath+"/refresh", nil)
	wantStatus(t, r, http.StatusOK, "")
	wantAMR(t, tokensOf(t, r).access, "pwd", "otp")

	// The mfa_token and the code were used; a code of an earlier step is
	// refused too.
	wantStatus(t, api.finish(t, token, "code", code), http.StatusUnauthorized, "invalid_token")
	wantStatus(t, api.finish(t, api.mfaToken(t, id), "code", code), http.StatusBadRequest, "invalid_mfa_code")
	wantStatus(t, api.finish(t, api.mfaToken(t, id), "code", api.codeAt(t, secret, -security.TOTPPeriod)),
		http.StatusBadRequest, "invalid_mfa_code")
	api.clock.Advance(security.TOTPPeriod)
	wantStatus(t, api.finish(t, api.mfaToken(t, id), "code", api.code(t, secret)), http.StatusOK, "")

	// Nothing secret reached the log.
	logs := []byte(api.logs.String())
	for _, s := range []string{secret, token, codes[0].(string), strings.ReplaceAll(codes[0].(string), "-", "")} {
		wantNoSecret(t, "the log", logs, s)
	}
}

// wantNoClearFactors fails when the tables hold the TOTP secret or a
// recovery code in the clear.
func wantNoClearFactors(t *testing.T, api *testAPI, id, secret, recoveryCode string) {
	t.Helper()
	var (
		sealed    []byte
		encrypted bool
		hashes    [][]byte
	)
	ctx := context.Background()
	err := api.pool.QueryRow(ctx, `SELECT s.secret, s.encrypted FROM totp_secrets s JOIN accounts a ON a.uuid = s.account_uuid
WHERE lower(a.account_id) = lower($1)`, id).Scan(&sealed, &encrypted)
	if err != nil {
		t.Fatal(err)
	}
	if !encrypted || bytes.Contains(sealed, []byte(secret)) || bytes.Contains(sealed, []byte(secret[:10])) {
		t.Fatalf("totp_secrets holds %x (encrypted %v), want the secret sealed", sealed, encrypted)
	}
	err = api.pool.QueryRow(ctx, `SELECT array_agg(c.code_hash) FROM recovery_codes c JOIN accounts a ON a.uuid = c.account_uuid
WHERE lower(a.account_id) = lower($1)`, id).Scan(&hashes)
	if err != nil {
		t.Fatal(err)
	}
	if len(hashes) != account.RecoveryCodeCount || !slices.ContainsFunc(hashes, func(h []byte) bool {
		return bytes.Equal(h, security.HashRecoveryCode(recoveryCode))
	}) {
		t.Fatalf("recovery_codes holds %d hashes, want %d, among them the code's", len(hashes), account.RecoveryCodeCount)
	}
	for _, h := range hashes {
		if bytes.Contains(h, []byte(strings.ReplaceAll(recoveryCode, "-", "")[:8])) {
			t.Fatalf("recovery_codes holds a code in the clear: %x", h)
		}
	}
}

func TestRecoveryCodeLogin(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	u := api.enableTOTP(t, "recovery")
	// JSON as well as a form; case and spaces do not matter.
	typed := strings.ToUpper(strings.ReplaceAll(u.recovery[0], "-", " "))
	r := api.do(t, http.MethodPost, tokenMFAPath, map[string]string{"mfa_token": api.mfaToken(t, u.id), "recovery_code": typed})
	wantStatus(t, r, http.StatusOK, "")
	wantAMR(t, tokensOf(t, r).access, "pwd", "otp")
	wantStatus(t, api.finish(t, api.mfaToken(t, u.id), "recovery_code", u.recovery[0]), http.StatusBadRequest, "invalid_mfa_code")
	r = api.do(t, http.MethodGet, mfaPath, nil, bearer(u.access))
	if n, _ := r.obj(t)["recovery_codes_left"].(float64); n != account.RecoveryCodeCount-1 {
		t.Fatalf("recovery_codes_left = %v, want %d", r.obj(t)["recovery_codes_left"], account.RecoveryCodeCount-1)
	}
	wantStatus(t, api.finish(t, api.mfaToken(t, u.id), "recovery_code", u.recovery[1]), http.StatusOK, "")
	wantEventTypes(t, api, u.access, "mfa_enabled", "recovery_code_used", "login_failed", "recovery_code_used")
}

// wantEventTypes fails unless the caller's security history, oldest first,
// holds the types in order among its other events.
func wantEventTypes(t *testing.T, api *testAPI, access string, want ...string) {
	t.Helper()
	var got []string
	events := api.events(t, access, 100)
	for i := len(events) - 1; i >= 0; i-- {
		if typ, _ := events[i]["type"].(string); slices.Contains(want, typ) {
			got = append(got, typ)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v in this order", got, want)
	}
}
