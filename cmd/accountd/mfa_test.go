package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp/totp"
)

// TestReadmeSecondFactorFlow follows the README's second-factor curl
// examples against the real binary: enrol, confirm, the two-step login, and
// turning TOTP off. The second step uses recovery codes, which do not wait
// for the next 30-second step on the machine's real clock. The secret is
// sealed at rest under SECRET_KEY.
func TestReadmeSecondFactorFlow(t *testing.T) {
	env := baseEnv(t)
	in := start(t, env)
	api := in.URL + "/api/v1/accounts"
	c := newClient(t)
	st, body, _ := c.do("POST", api+"/", "application/json", `{"account_id": "john", "password": "securepass123"}`)
	wantStatus(t, "register", st, http.StatusCreated, body)
	st, body, _ = c.do("POST", api+"/token", "application/x-www-form-urlencoded", "username=john&password=securepass123")
	wantStatus(t, "login", st, http.StatusOK, body)

	st, body, _ = c.do("POST", api+"/mfa/totp", "application/json", `{"password": "securepass123"}`)
	wantStatus(t, "enrol", st, http.StatusOK, body)
	secret, _ := body["secret"].(string)
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, body, _ = c.do("POST", api+"/mfa/totp/confirm", "application/json", fmt.Sprintf(`{"code": %q}`, code))
	wantStatus(t, "confirm", st, http.StatusOK, body)
	raw, _ := json.Marshal(body["recovery_codes"])
	var recovery []string
	if err := json.Unmarshal(raw, &recovery); err != nil || len(recovery) != 10 {
		t.Fatalf("recovery codes = %s (%v), want 10", raw, err)
	}

	wantSealed(t, env)

	fresh := newClient(t)
	st, body, h := fresh.do("POST", api+"/token", "application/x-www-form-urlencoded", "username=john&password=securepass123")
	wantStatus(t, "step 1", st, http.StatusUnauthorized, body)
	token, _ := body["mfa_token"].(string)
	if body["code"] != "mfa_required" || token == "" || len(h.Values("Set-Cookie")) != 0 {
		t.Fatalf("step 1 = %v, cookies %v; want mfa_required with an mfa_token and no cookie", body, h.Values("Set-Cookie"))
	}
	st, body, _ = fresh.do("POST", api+"/token/mfa", "application/x-www-form-urlencoded",
		url.Values{"mfa_token": {token}, "recovery_code": {recovery[0]}}.Encode())
	wantStatus(t, "step 2", st, http.StatusOK, body)
	st, body, _ = fresh.do("GET", api+"/me", "", "")
	wantStatus(t, "me", st, http.StatusOK, body)
	st, body, _ = fresh.do("GET", api+"/mfa", "", "")
	if st != http.StatusOK || body["totp"] != true || body["recovery_codes_left"] != float64(9) {
		t.Fatalf("GET /mfa = %d %v, want totp on and 9 codes left", st, body)
	}

	st, body, _ = fresh.do("DELETE", api+"/mfa/totp", "application/json",
		fmt.Sprintf(`{"password": "securepass123", "code": %q}`, recovery[1]))
	wantStatus(t, "disable", st, http.StatusOK, body)
	st, body, _ = newClient(t).do("POST", api+"/token", "application/x-www-form-urlencoded", "username=john&password=securepass123")
	wantStatus(t, "login after disabling", st, http.StatusOK, body)

	if strings.Contains(in.Logs.String(), secret) || strings.Contains(in.Logs.String(), token) {
		t.Fatal("the log holds the TOTP secret or the mfa_token")
	}
}

// wantSealed fails unless the instance's database holds one TOTP secret,
// encrypted.
func wantSealed(t *testing.T, env []string) {
	t.Helper()
	var dbURL string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DATABASE_URL="); ok {
			dbURL = v
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var all, sealed int
	err = conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE encrypted) FROM totp_secrets").Scan(&all, &sealed)
	if err != nil {
		t.Fatal(err)
	}
	if all != 1 || sealed != 1 {
		t.Fatalf("%d TOTP secrets stored, %d of them encrypted; want one, encrypted under SECRET_KEY", all, sealed)
	}
}
