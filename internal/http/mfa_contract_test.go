package http_test

import (
	"net/http"
	"net/url"
	"testing"
)

// contractMFA runs the second-factor flows through api (whose client
// checks them against the OpenAPI document) and returns the
// "METHOD /path status" answers they must have produced.
func contractMFA(t *testing.T, api *testAPI) []string {
	t.Helper()
	u := api.enableTOTP(t, "contract-mfa")
	wantStatus(t, api.do(t, http.MethodGet, mfaPath, nil, bearer(u.access)), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodPost, totpPath, map[string]string{"password": testPassword}, bearer(u.access)),
		http.StatusConflict, "totp_already_enabled")
	wantStatus(t, api.do(t, http.MethodPost, totpConfirmPath, map[string]string{"code": "12"}, bearer(u.access)),
		http.StatusUnprocessableEntity, "validation_error")

	token := api.mfaToken(t, u.id)
	wantStatus(t, api.do(t, http.MethodPost, tokenMFAPath, map[string]string{"mfa_token": token, "code": api.wrongCode(t, u.secret)}),
		http.StatusBadRequest, "invalid_mfa_code")
	wantStatus(t, api.do(t, http.MethodPost, tokenMFAPath, url.Values{"mfa_token": {token}}),
		http.StatusUnprocessableEntity, "validation_error")
	wantStatus(t, api.finish(t, token, "code", api.code(t, u.secret)), http.StatusOK, "")
	wantStatus(t, api.finish(t, token, "recovery_code", u.recovery[0]), http.StatusUnauthorized, "invalid_token")

	disable := func(code string) response {
		return api.do(t, http.MethodDelete, totpPath, map[string]string{"password": testPassword, "code": code}, bearer(u.access))
	}
	wantStatus(t, disable(u.recovery[9]+"x"), http.StatusBadRequest, "invalid_mfa_code")
	wantStatus(t, disable(u.recovery[9]), http.StatusOK, "")
	wantStatus(t, disable(u.recovery[8]), http.StatusConflict, "totp_not_enabled")
	wantStatus(t, api.do(t, http.MethodPost, totpConfirmPath, map[string]string{"code": "123456"}, bearer(u.access)),
		http.StatusConflict, "totp_not_pending")
	return []string{
		"POST /api/v1/accounts/token 401",
		"POST /api/v1/accounts/token/mfa 200", "POST /api/v1/accounts/token/mfa 400",
		"POST /api/v1/accounts/token/mfa 401", "POST /api/v1/accounts/token/mfa 422",
		"POST /api/v1/accounts/mfa/totp 200", "POST /api/v1/accounts/mfa/totp 409",
		"POST /api/v1/accounts/mfa/totp/confirm 200", "POST /api/v1/accounts/mfa/totp/confirm 409",
		"DELETE /api/v1/accounts/mfa/totp 200", "DELETE /api/v1/accounts/mfa/totp 400",
		"DELETE /api/v1/accounts/mfa/totp 409",
	}
}
