package http_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/app"
	"github.com/accountd/accountd/internal/passkeys/passkeystest"
)

// The WebAuthn relying party of test instances: the origin is what the
// software authenticator claims to run the ceremonies from.
const (
	passkeysPath      = accountsPath + "/passkeys"
	testPasskeyOrigin = "https://app.localhost"
)

var testPasskeys = app.PasskeyConfig{RPID: "localhost", RPName: "accountd test", Origins: []string{testPasskeyOrigin}}

// addPasskey registers a passkey on the authenticator for the browser's
// signed-in account, and returns the 201 body.
func addPasskey(t *testing.T, b *browser, a *passkeystest.Authenticator, name string) map[string]any {
	t.Helper()
	begin := b.do(t, http.MethodPost, passkeysPath+"/register/begin", nil)
	wantStatus(t, begin, http.StatusOK, "")
	cred, err := a.Create(begin.Body)
	if err != nil {
		t.Fatalf("create the credential: %v", err)
	}
	r := b.do(t, http.MethodPost, passkeysPath+"/register/finish", withName(t, cred, name))
	wantStatus(t, r, http.StatusCreated, "")
	return r.obj(t)
}

// withName adds a "name" member to the JSON object of a credential.
func withName(t *testing.T, cred []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(cred, &m); err != nil {
		t.Fatal(err)
	}
	if name != "" {
		m["name"] = name
	}
	out, _ := json.Marshal(m)
	return string(out)
}

// passkeyLogin runs both steps of a passkey login in the browser, with the
// assertion that answer makes of the options, and returns the finish.
func passkeyLogin(t *testing.T, b *browser, answer func(options []byte) ([]byte, error)) response {
	t.Helper()
	begin := b.do(t, http.MethodPost, passkeysPath+"/login/begin", nil)
	wantStatus(t, begin, http.StatusOK, "")
	assertion, err := answer(begin.Body)
	if err != nil {
		t.Fatalf("get the assertion: %v", err)
	}
	return b.do(t, http.MethodPost, passkeysPath+"/login/finish", string(assertion))
}

// signedIn returns a browser signed in with a password to a new account.
func signedIn(t *testing.T, api *testAPI, prefix string) (*browser, string) {
	t.Helper()
	id := api.newAccount(t, prefix)
	b := api.newBrowser(t)
	wantStatus(t, b.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, testPassword)), http.StatusOK, "")
	return b, id
}

func TestPasskeyRegisterAndLogIn(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	owner, id := signedIn(t, api, "passkey")
	a := passkeystest.New(testPasskeyOrigin)

	added := addPasskey(t, owner, a, "Laptop")
	if added["id"] != a.CredentialID() || added["name"] != "Laptop" || added["created_at"] == nil {
		t.Fatalf("register/finish = %v, want the credential's id, the name and created_at", added)
	}
	list := owner.do(t, http.MethodGet, passkeysPath, nil)
	wantStatus(t, list, http.StatusOK, "")
	if items, _ := list.JSON.([]any); len(items) != 1 || items[0].(map[string]any)["last_used_at"] != nil {
		t.Fatalf("GET /passkeys = %s, want the one passkey, never used", list.Body)
	}

	// A browser with no cookies logs in without a username.
	b := api.newBrowser(t)
	begin := b.do(t, http.MethodPost, passkeysPath+"/login/begin", nil)
	wantStatus(t, begin, http.StatusOK, "")
	ck := begin.cookie("webauthn_ceremony")
	if ck == nil || ck.Value == "" || !ck.HttpOnly || ck.Path != passkeysPath || ck.MaxAge != 300 || ck.SameSite != http.SameSiteLaxMode {
		t.Fatalf("ceremony cookie = %+v, want HttpOnly, Path=%s, Max-Age=300, SameSite=Lax", ck, passkeysPath)
	}
	if strings.Contains(string(begin.Body), "allowCredentials") {
		t.Fatalf("request options %s name credentials; want none (discoverable login)", begin.Body)
	}
	assertion, err := a.Get(begin.Body)
	if err != nil {
		t.Fatal(err)
	}
	finish := b.do(t, http.MethodPost, passkeysPath+"/login/finish", string(assertion))
	wantStatus(t, finish, http.StatusOK, "")
	if c := finish.cookie("webauthn_ceremony"); c == nil || c.MaxAge >= 0 {
		t.Fatalf("login/finish did not clear the ceremony cookie: %+v", c)
	}
	tokens := tokensOf(t, finish)
	if got := claimsOf(t, tokens.access)["amr"]; !reflect.DeepEqual(got, []any{"hwk"}) {
		t.Fatalf("amr = %v, want [hwk]", got)
	}
	me := b.do(t, http.MethodGet, accountsPath+"/me", nil)
	wantStatus(t, me, http.StatusOK, "")
	if me.obj(t)["account_id"] != id {
		t.Fatalf("/me by cookie = %s, want %s", me.Body, id)
	}
	refreshed := tokensOf(t, api.wantRefresh(t, "refresh", tokens.refresh, http.StatusOK, ""))
	if got := claimsOf(t, refreshed.access)["amr"]; !reflect.DeepEqual(got, []any{"hwk"}) {
		t.Fatalf("amr after a refresh = %v, want [hwk]", got)
	}

	// The used ceremony finishes nothing more, even with its cookie.
	again := api.do(t, http.MethodPost, passkeysPath+"/login/finish", string(assertion), withCookie("webauthn_ceremony", ck.Value))
	wantStatus(t, again, http.StatusBadRequest, "invalid_passkey")
	// The same assertion in a new ceremony answers the wrong challenge.
	wantStatus(t, passkeyLogin(t, b, func([]byte) ([]byte, error) { return assertion, nil }),
		http.StatusBadRequest, "invalid_passkey")
	// A counter that does not grow is a replay or a clone.
	one := uint32(1)
	wantStatus(t, passkeyLogin(t, b, func(o []byte) ([]byte, error) {
		return a.GetTampered(o, passkeystest.Tamper{Count: &one})
	}), http.StatusBadRequest, "invalid_passkey")
	wantStatus(t, passkeyLogin(t, b, a.Get), http.StatusOK, "")

	if items, _ := owner.do(t, http.MethodGet, passkeysPath, nil).JSON.([]any); items[0].(map[string]any)["last_used_at"] == nil {
		t.Fatal("last_used_at is still null after logins")
	}
	// Removed, the passkey logs in no more.
	wantStatus(t, owner.do(t, http.MethodDelete, passkeysPath+"/"+a.CredentialID(), nil), http.StatusOK, "")
	wantStatus(t, owner.do(t, http.MethodDelete, passkeysPath+"/"+a.CredentialID(), nil), http.StatusNotFound, "passkey_not_found")
	wantStatus(t, passkeyLogin(t, b, a.Get), http.StatusBadRequest, "invalid_passkey")

	// The account's security history has it all, newest first: the replayed
	// assertion and the one whose counter did not grow are failed logins.
	events := owner.do(t, http.MethodGet, accountsPath+"/events?limit=100", nil)
	wantStatus(t, events, http.StatusOK, "")
	var types []string
	for _, e := range events.JSON.([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	want := []string{"passkey_removed", "login_succeeded", "login_failed", "login_failed", "login_succeeded", "passkey_added", "login_succeeded", "account_created"}
	if !slices.Equal(types, want) {
		t.Fatalf("events = %v, want %v", types, want)
	}
}

// A passkey logs in to its own account only: an assertion whose user handle
// names another account is refused, and so is one of a disabled account.
func TestPasskeyBelongsToItsAccount(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	alice, aliceID := signedIn(t, api, "alice")
	bob, _ := signedIn(t, api, "bob")
	aliceKey, bobKey := passkeystest.New(testPasskeyOrigin), passkeystest.New(testPasskeyOrigin)
	addPasskey(t, alice, aliceKey, "")
	addPasskey(t, bob, bobKey, "")

	// bob's handle, from his registration options.
	begin := bob.do(t, http.MethodPost, passkeysPath+"/register/begin", nil)
	var opts struct {
		PublicKey struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(begin.Body, &opts); err != nil || opts.PublicKey.User.ID == "" {
		t.Fatalf("registration options %s: no user id", begin.Body)
	}
	handle, _ := base64.RawURLEncoding.DecodeString(opts.PublicKey.User.ID)
	b := api.newBrowser(t)
	wantStatus(t, passkeyLogin(t, b, func(o []byte) ([]byte, error) {
		return aliceKey.GetTampered(o, passkeystest.Tamper{UserHandle: handle})
	}), http.StatusBadRequest, "invalid_passkey")
	// bob cannot remove alice's passkey either.
	wantStatus(t, bob.do(t, http.MethodDelete, passkeysPath+"/"+aliceKey.CredentialID(), nil), http.StatusNotFound, "passkey_not_found")

	api.disable(t, aliceID)
	r := passkeyLogin(t, b, aliceKey.Get)
	wantStatus(t, r, http.StatusForbidden, "account_disabled")
	wantErrorBody(t, r, "account_disabled")
	wantStatus(t, passkeyLogin(t, b, bobKey.Get), http.StatusOK, "")
}

// passkeyContract runs the passkey flows through api's client, which
// TestOpenAPIContract makes check every request and response against the
// document.
func passkeyContract(t *testing.T, api *testAPI) {
	t.Helper()
	owner, _ := signedIn(t, api, "contract-passkey")
	a := passkeystest.New(testPasskeyOrigin)
	addPasskey(t, owner, a, "Laptop")
	wantStatus(t, owner.do(t, http.MethodGet, passkeysPath, nil), http.StatusOK, "")
	b := api.newBrowser(t)
	wantStatus(t, passkeyLogin(t, b, a.Get), http.StatusOK, "")
	wantStatus(t, passkeyLogin(t, b, func(o []byte) ([]byte, error) {
		return a.GetTampered(o, passkeystest.Tamper{BadSignature: true})
	}), http.StatusBadRequest, "invalid_passkey")
	wantStatus(t, b.do(t, http.MethodGet, accountsPath+"/me", nil), http.StatusOK, "")
	wantStatus(t, owner.do(t, http.MethodPost, passkeysPath+"/register/finish", "[]"), http.StatusUnprocessableEntity, "validation_error")
	wantStatus(t, owner.do(t, http.MethodDelete, passkeysPath+"/"+a.CredentialID(), nil), http.StatusOK, "")
	wantStatus(t, owner.do(t, http.MethodDelete, passkeysPath+"/"+a.CredentialID(), nil), http.StatusNotFound, "passkey_not_found")
}

// Deleting the account deletes its passkeys: one kept in an authenticator
// logs in to nothing, not even to a new account of the same account id.
func TestPasskeyGoesWithItsAccount(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t)
	owner, id := signedIn(t, api, "passkey-deleted")
	a := passkeystest.New(testPasskeyOrigin)
	addPasskey(t, owner, a, "")
	wantStatus(t, owner.do(t, http.MethodDelete, accountsPath+"/me", map[string]string{"password": testPassword}), http.StatusOK, "")
	api.register(t, id, testPassword)
	wantStatus(t, passkeyLogin(t, api.newBrowser(t), a.Get), http.StatusBadRequest, "invalid_passkey")
}
