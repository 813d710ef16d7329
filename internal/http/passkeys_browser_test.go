package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/accountd/accountd/internal/app"
)

// browserBound bounds the whole browser test: it takes a few seconds; this
// only keeps a wedged browser from hanging the run.
const browserBound = 90 * time.Second

// readmePage returns the minimal page of the README's Passkeys section: the
// fenced html block after the passkeys-page marker, so that the page users
// copy is the one this test proves.
func readmePage(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatalf("read the README: %v", err)
	}
	_, after, ok := strings.Cut(string(readme), "<!-- passkeys-page")
	_, after, ok2 := strings.Cut(after, "```html\n")
	page, _, ok3 := strings.Cut(after, "\n```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("the README has no ```html block after its <!-- passkeys-page --> marker")
	}
	return page
}

// TestPasskeysInChromium registers a passkey and logs in with it for real:
// headless Chromium with a virtual platform authenticator (CTAP2, internal
// transport, resident keys, user verification) runs the README's page,
// served from the same origin as the API (http://localhost is a secure
// context, so WebAuthn runs on it).
func TestPasskeysInChromium(t *testing.T) {
	t.Parallel()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("Chromium is not installed (no chromium on PATH): %s", chromiumHint)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	origin := fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	api := newTestAPI(t, withPasskeys(app.PasskeyConfig{RPID: "localhost", RPName: "accountd", Origins: []string{origin}}))
	id := api.newAccount(t, "chromium")

	page := readmePage(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /passkeys.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	mux.Handle("/", api.handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), browserBound)
	defer cancel()
	var output bytes.Buffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.CombinedOutput(&output))...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()

	err = chromedp.Do(bctx, chromedp.Navigate(origin+"/passkeys.html"), addAuthenticator)
	if err != nil {
		t.Fatalf("start Chromium with a virtual authenticator: %v\nchromium output:\n%s", err, output.String())
	}
	script := fmt.Sprintf(`(async () => {
		const login = await fetch("/api/v1/accounts/token", {method: "POST",
			body: new URLSearchParams({username: %q, password: %q})});
		if (!login.ok) throw new Error("password login: " + login.status);
		const added = await addPasskey("Chromium");
		const logout = await fetch("/api/v1/accounts/logout", {method: "DELETE"});
		if (!logout.ok) throw new Error("logout: " + logout.status);
		const signedOut = (await fetch("/api/v1/accounts/me")).status;
		const tokens = await logInWithPasskey();
		const me = await fetch("/api/v1/accounts/me");
		return {added, signedOut, accessToken: tokens.access_token, meStatus: me.status, me: await me.json()};
	})()`, id, testPassword)
	type result struct {
		Added       map[string]any `json:"added"`
		SignedOut   int            `json:"signedOut"`
		AccessToken string         `json:"accessToken"`
		MeStatus    int            `json:"meStatus"`
		Me          map[string]any `json:"me"`
	}
	res, err := chromedp.Run(bctx, chromedp.Evaluate[result](script, chromedp.EvalAwaitPromise))
	if err != nil {
		var ex *chromedp.ExceptionError
		if errors.As(err, &ex) {
			t.Fatalf("the page failed: %v\nservice log:\n%s", ex, api.logs.String())
		}
		t.Fatalf("run the page: %v\nchromium output:\n%s", err, output.String())
	}

	if res.Added["name"] != "Chromium" || res.Added["id"] == "" {
		t.Fatalf("register/finish = %v, want the new passkey called Chromium", res.Added)
	}
	if res.SignedOut != http.StatusUnauthorized {
		t.Fatalf("/me after logout = %d, want 401", res.SignedOut)
	}
	if res.MeStatus != http.StatusOK || res.Me["account_id"] != id {
		t.Fatalf("/me by cookie after the passkey login = %d %v, want 200 and %s", res.MeStatus, res.Me, id)
	}
	if amr := claimsOf(t, res.AccessToken)["amr"]; !reflect.DeepEqual(amr, []any{"hwk"}) {
		t.Fatalf("amr of the passkey login's access token = %v, want [hwk]", amr)
	}
	list := api.do(t, http.MethodGet, passkeysPath, nil, bearer(res.AccessToken))
	wantStatus(t, list, http.StatusOK, "")
	var passkeys []map[string]any
	if err := json.Unmarshal(list.Body, &passkeys); err != nil || len(passkeys) != 1 ||
		passkeys[0]["id"] != res.Added["id"] || passkeys[0]["last_used_at"] == nil {
		t.Fatalf("GET /passkeys = %s, want the one passkey, used", list.Body)
	}
}

// addAuthenticator gives the page a virtual platform authenticator that
// holds discoverable credentials and verifies its user.
func addAuthenticator(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
	if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		return chromedp.Void{}, fmt.Errorf("WebAuthn.enable: %w", err)
	}
	_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport:      webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		return chromedp.Void{}, fmt.Errorf("WebAuthn.addVirtualAuthenticator: %w", err)
	}
	return chromedp.Void{}, nil
}
