package http_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	accounthttp "github.com/accountd/accountd/internal/http"
	"github.com/accountd/accountd/internal/passkeys/passkeystest"
)

func TestPasskeyBadRequests(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	owner, _ := signedIn(t, api, "passkey-bad")
	access := owner.cookie(t, "/", "access_token")
	a := passkeystest.New(testPasskeyOrigin)
	begin := owner.do(t, http.MethodPost, passkeysPath+"/register/begin", nil)
	cred, err := a.Create(begin.Body)
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, api, []apiCase{
		{name: "list without a token", method: http.MethodGet, path: passkeysPath, wantStatus: http.StatusUnauthorized, wantCode: "not_authenticated"},
		{name: "begin without a token", path: passkeysPath + "/register/begin", wantStatus: http.StatusUnauthorized, wantCode: "not_authenticated"},
		{name: "finish without a begin", path: passkeysPath + "/register/finish", body: string(cred),
			opts:       []reqOpt{bearer(api.login(t, api.newAccount(t, "nobegin"), testPassword).access)},
			wantStatus: http.StatusBadRequest, wantCode: "invalid_passkey"},
		{name: "name too long", path: passkeysPath + "/register/finish", body: withName(t, cred, strings.Repeat("n", 65)),
			opts: []reqOpt{bearer(access)}, wantStatus: http.StatusUnprocessableEntity,
			wantIssues: []issue{{typ: "string_too_long", loc: []string{"body", "name"}}}},
		{name: "name not a string", path: passkeysPath + "/register/finish", body: `{"id": "x", "name": 7}`,
			opts: []reqOpt{bearer(access)}, wantStatus: http.StatusUnprocessableEntity,
			wantIssues: []issue{{typ: "string_type", loc: []string{"body", "name"}}}},
		{name: "finish not JSON", path: passkeysPath + "/login/finish", body: "{", wantStatus: http.StatusUnprocessableEntity,
			wantIssues: []issue{{typ: "json_invalid", loc: []string{"body"}}}},
		{name: "finish not an object", path: passkeysPath + "/login/finish", body: "[1]", wantStatus: http.StatusUnprocessableEntity,
			wantIssues: []issue{{typ: "model_attributes_type", loc: []string{"body"}}}},
		{name: "finish as a form", path: passkeysPath + "/login/finish", body: rawBody{"application/x-www-form-urlencoded", []byte("a=b")},
			wantStatus: http.StatusUnsupportedMediaType, wantCode: "unsupported_media_type"},
		{name: "finish without a ceremony", path: passkeysPath + "/login/finish", body: string(cred),
			wantStatus: http.StatusBadRequest, wantCode: "invalid_passkey"},
		{name: "finish with a made-up ceremony", path: passkeysPath + "/login/finish", body: string(cred),
			opts: []reqOpt{withCookie("webauthn_ceremony", "made-up")}, wantStatus: http.StatusBadRequest, wantCode: "invalid_passkey"},
		{name: "delete an unknown passkey", method: http.MethodDelete, path: passkeysPath + "/AAAA", opts: []reqOpt{bearer(access)},
			wantStatus: http.StatusNotFound, wantCode: "passkey_not_found"},
		{name: "from another site", path: passkeysPath + "/login/begin",
			opts:       []reqOpt{header("Origin", "https://evil.example"), header("Sec-Fetch-Site", "cross-site")},
			wantStatus: http.StatusForbidden, wantCode: "cross_origin_rejected"},
	}, http.MethodPost, "")
	// The ceremony of the session survived the 422 on its name.
	r := owner.do(t, http.MethodPost, passkeysPath+"/register/finish", string(cred))
	wantStatus(t, r, http.StatusCreated, "")
	// A credential made for another account's ceremony is refused.
	other, _ := signedIn(t, api, "passkey-dup")
	wantStatus(t, other.do(t, http.MethodPost, passkeysPath+"/register/begin", nil), http.StatusOK, "")
	wantStatus(t, other.do(t, http.MethodPost, passkeysPath+"/register/finish", string(cred)), http.StatusBadRequest, "invalid_passkey")
}

// Login ceremonies are limited per client address like /token.
func TestPasskeyLoginRateLimited(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{PerIP: account.PerWindow(2, time.Minute)}))
	for range 2 {
		wantStatus(t, api.do(t, http.MethodPost, passkeysPath+"/login/begin", nil), http.StatusOK, "")
	}
	r := api.do(t, http.MethodPost, passkeysPath+"/login/begin", nil)
	wantStatus(t, r, http.StatusTooManyRequests, "too_many_attempts")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	wantStatus(t, api.do(t, http.MethodPost, passkeysPath+"/login/finish", "{}"), http.StatusTooManyRequests, "too_many_attempts")
	// /token has a count of its own.
	wantStatus(t, api.do(t, http.MethodPost, accountsPath+"/token", loginForm("nobody-x", "whatever-pass")),
		http.StatusBadRequest, "invalid_credentials")
}

// Without a relying party every passkey endpoint answers 404
// passkeys_disabled, before asking for a token.
func TestPasskeysDisabled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(accounthttp.NewHandler(accounthttp.Config{
		Logger: slog.New(slog.DiscardHandler), RequestTimeout: time.Second,
	}))
	defer srv.Close()
	api := &testAPI{URL: srv.URL, client: &http.Client{Transport: newContract(t, srv.Client().Transport)}}
	for _, op := range []struct{ method, path string }{
		{http.MethodGet, passkeysPath}, {http.MethodPost, passkeysPath + "/register/begin"},
		{http.MethodPost, passkeysPath + "/register/finish"}, {http.MethodDelete, passkeysPath + "/AAAA"},
		{http.MethodPost, passkeysPath + "/login/begin"}, {http.MethodPost, passkeysPath + "/login/finish"},
	} {
		r := api.do(t, op.method, op.path, nil)
		wantStatus(t, r, http.StatusNotFound, "passkeys_disabled")
		wantErrorBody(t, r, "passkeys_disabled")
	}
}
