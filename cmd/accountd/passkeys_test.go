package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/passkeys/passkeystest"
)

// TestPasskeysAcrossInstances runs serve with a relying party: a passkey
// registered on one instance logs in through two, the ceremony begun on A
// and finished on B (ceremonies live in Redis). An instance without
// WEBAUTHN_RP_ID or PUBLIC_URL answers 404 passkeys_disabled.
func TestPasskeysAcrossInstances(t *testing.T) {
	const origin = "https://app.localhost"
	env := append(baseEnv(t), "WEBAUTHN_RP_ID=localhost", "WEBAUTHN_ORIGINS="+origin)
	a := start(t, env)
	b := start(t, env)
	passkeys := func(in *instance) string { return in.URL + "/api/v1/accounts/passkeys" }
	c := newClient(t)

	st, body, _ := c.do("POST", a.URL+"/api/v1/accounts/", "application/json", `{"account_id": "passkey.user", "password": "securepass123"}`)
	wantStatus(t, "register", st, http.StatusCreated, body)
	st, body, _ = c.do("POST", a.URL+"/api/v1/accounts/token", "application/x-www-form-urlencoded", "username=passkey.user&password=securepass123")
	wantStatus(t, "login", st, http.StatusOK, body)
	auth := passkeystest.New(origin)
	// raw posts body (JSON, or nothing) and returns the raw 2xx body.
	raw := func(url, body string) []byte {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s = %d %s, %v", url, resp.StatusCode, out, err)
		}
		return out
	}
	cred, err := auth.Create(raw(passkeys(a)+"/register/begin", ""))
	if err != nil {
		t.Fatal(err)
	}
	raw(passkeys(b)+"/register/finish", string(cred))
	st, body, _ = c.do("DELETE", a.URL+"/api/v1/accounts/logout", "", "")
	wantStatus(t, "logout", st, http.StatusOK, body)

	assertion, err := auth.Get(raw(passkeys(a)+"/login/begin", ""))
	if err != nil {
		t.Fatal(err)
	}
	st, body, _ = c.do("POST", passkeys(b)+"/login/finish", "application/json", string(assertion))
	wantStatus(t, "passkey login finished on B", st, http.StatusOK, body)
	st, body, _ = c.do("GET", a.URL+"/api/v1/accounts/me", "", "")
	wantStatus(t, "me on A", st, http.StatusOK, body)
	if body["account_id"] != "passkey.user" {
		t.Fatalf("me = %v, want passkey.user", body)
	}

	off := start(t, baseEnv(t))
	st, body, _ = c.do("POST", passkeys(off)+"/login/begin", "", "")
	wantStatus(t, "login/begin without a relying party", st, http.StatusNotFound, body)
	if body["code"] != "passkeys_disabled" {
		t.Fatalf("code = %v, want passkeys_disabled", body["code"])
	}
}
