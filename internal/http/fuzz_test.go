package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
	"github.com/accountd/accountd/internal/security"
)

// The fuzz targets here feed hostile input to the decoders and to the
// token paths. Whatever comes in, the answer is never a 5xx nor a panic, and
// every 4xx has the contract's shape. `go test` runs their seed corpora
// (testdata/fuzz/FuzzXxx and the f.Add calls); `make fuzz` explores.

// wantClientErrorShape fails unless rec is a 4xx whose body is the
// contract's error: {"detail": text, "code": code}, or for a 422 a
// non-empty list of {type, loc, msg} with code validation_error.
func wantClientErrorShape(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code < 400 || rec.Code > 499 {
		t.Fatalf("status = %d, want a 4xx (body %q)", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("status %d: Content-Type = %q, want application/json", rec.Code, ct)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body) != 2 || body["code"] == nil {
		t.Fatalf("status %d: body %q, want exactly detail and code", rec.Code, rec.Body.String())
	}
	var code string
	if json.Unmarshal(body["code"], &code) != nil || code == "" {
		t.Fatalf("status %d: code %s, want a non-empty string", rec.Code, body["code"])
	}
	if rec.Code != http.StatusUnprocessableEntity {
		var detail string
		if json.Unmarshal(body["detail"], &detail) != nil || detail == "" {
			t.Fatalf("status %d: detail %s, want a non-empty string", rec.Code, body["detail"])
		}
		return
	}
	var items []struct {
		Type *string `json:"type"`
		Loc  []any   `json:"loc"`
		Msg  *string `json:"msg"`
	}
	if code != "validation_error" || json.Unmarshal(body["detail"], &items) != nil || len(items) == 0 {
		t.Fatalf("422 body %q, want a non-empty detail list and code validation_error", rec.Body.String())
	}
	for _, it := range items {
		if it.Type == nil || *it.Type == "" || it.Msg == nil || *it.Msg == "" || len(it.Loc) == 0 {
			t.Fatalf("422 entry of %q lacks type, loc or msg", rec.Body.String())
		}
	}
}

func fuzzRequest(method, target, contentType string, body []byte) *http.Request {
	r := httptest.NewRequestWithContext(context.Background(), method, target, bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"account_id": "alice", "password": "securepass123"}`), "application/json")
	f.Add([]byte(`{"account_id": "alice", "password": "securepass123"} ]`), "application/json")
	f.Add([]byte(`{"account_id": null, "password": 12}`), "application/json; charset=utf-8")
	f.Add([]byte(`[{"account_id": "alice"}]`), "application/json")
	f.Add([]byte(`{"account_id": "\ud800", "password": "x\u0000y"}`), "application/JSON")
	f.Add([]byte(`{"account_id": "a", "account_id": {"$gt": ""}}`), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		rec := httptest.NewRecorder()
		var dst registerRequest
		err := decodeJSON(rec, fuzzRequest(http.MethodPost, "/", contentType, body), &dst)
		if err != nil {
			if !errors.Is(err, errAnswered) {
				t.Fatalf("decodeJSON = %v, want nil or errAnswered", err)
			}
			wantClientErrorShape(t, rec)
			return
		}
		if rec.Body.Len() != 0 {
			t.Fatalf("decodeJSON succeeded but wrote %q", rec.Body.String())
		}
		// Success means one JSON object whose fields are those strings.
		var obj map[string]any
		if !json.Valid(body) || json.Unmarshal(body, &obj) != nil {
			t.Fatalf("decodeJSON accepted %q, which is not one JSON object", body)
		}
		if obj["account_id"] != dst.AccountID || obj["password"] != dst.Password {
			t.Fatalf("decodeJSON(%q) = %+v, want the object's strings", body, dst)
		}
	})
}

func FuzzDecodeForm(f *testing.F) {
	const form = "application/x-www-form-urlencoded"
	f.Add([]byte("username=alice&password=securepass123&grant_type=password"), form)
	f.Add([]byte("username=alice&password=%zz"), form)
	f.Add([]byte("username=&password=x;y"), form)
	f.Add([]byte("username=a&username=b&password=p&scope=%00"), form+"; charset=utf-8")
	f.Add([]byte("--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n"+
		"--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nsecurepass123\r\n--XyZ--\r\n"),
		"multipart/form-data; boundary=XyZ")
	f.Add([]byte("--XyZ\r\nContent-Disposition: form-data; name=\"username\"; filename=\"a\"\r\n\r\nx"),
		"multipart/form-data; boundary=XyZ")
	f.Add([]byte("username=alice"), "multipart/form-data")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		rec := httptest.NewRecorder()
		var dst tokenRequest
		err := decodeForm(rec, fuzzRequest(http.MethodPost, "/", contentType, body), &dst)
		if err != nil {
			if !errors.Is(err, errAnswered) {
				t.Fatalf("decodeForm = %v, want nil or errAnswered", err)
			}
			wantClientErrorShape(t, rec)
			return
		}
		if rec.Body.Len() != 0 {
			t.Fatalf("decodeForm succeeded but wrote %q", rec.Body.String())
		}
		if dst.Username == "" || dst.Password == "" {
			t.Fatalf("decodeForm accepted %q without username or password: %+v", body, dst)
		}
		if strings.HasPrefix(contentType, form) {
			values, err := url.ParseQuery(string(body))
			if err != nil || values.Get("username") != dst.Username || values.Get("password") != dst.Password {
				t.Fatalf("decodeForm(%q) = %+v, want the form's first values", body, dst)
			}
		}
	})
}

// fuzzNow is the fixed clock of FuzzTokenPaths, so that its seed tokens
// stay valid.
var fuzzNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// The one account of FuzzTokenPaths, and its one session, whose refresh
// token is fuzzRefresh.
const (
	fuzzAccountUUID = "5b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"
	fuzzSessionID   = "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d"
	fuzzRefresh     = "fuzz-refresh-token-fuzz-refresh-token-fuzz"
)

// newFuzzAPI returns a function that makes the real router on fresh
// in-memory stores, which hold one account with one session; and a valid
// access token of that session. Every input gets fresh stores, so that a
// logout or a refresh by one does not change what the next one meets.
func newFuzzAPI(f *testing.F) (newHandler func(t *testing.T) http.Handler, access string) {
	f.Helper()
	hasher, err := security.NewHasher(4, 1)
	if err != nil {
		f.Fatal(err)
	}
	clock := accounttest.NewClock(fuzzNow)
	tokens, err := security.NewJWT(security.JWTConfig{
		Algorithm: "HS256", Key: []byte("fuzz-key-fuzz-key-fuzz-key-fuzz-key"), Issuer: "accountd",
		TTL: time.Hour, Now: clock.Now,
	})
	if err != nil {
		f.Fatal(err)
	}
	access, _, err = tokens.Issue(fuzzAccountUUID, fuzzSessionID)
	if err != nil {
		f.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return func(t *testing.T) http.Handler {
		accounts := accounttest.NewAccountStore()
		sessions := accounttest.NewSessionStore(accounts)
		err := accounts.Put(account.Account{
			UUID: fuzzAccountUUID, AccountID: "fuzzer", PasswordHash: accounttest.PasswordHash, CreatedAt: fuzzNow,
		})
		if err == nil {
			err = sessions.Create(t.Context(), account.NewSession{
				ID: fuzzSessionID, AccountUUID: fuzzAccountUUID, PasswordHash: accounttest.PasswordHash,
				TokenHash: security.HashToken(fuzzRefresh), CreatedAt: fuzzNow, ExpiresAt: fuzzNow.Add(time.Hour),
			})
		}
		if err != nil {
			t.Fatal(err)
		}
		svc := account.NewService(accounts, sessions, accounttest.NewRevocations(clock.Now), hasher, tokens,
			account.Config{RefreshTTL: time.Hour, Now: clock.Now}, log)
		return NewHandler(Config{Service: svc, Logger: log, RequestTimeout: 5 * time.Second,
			Cookies: CookieConfig{Secure: "auto", SameSite: http.SameSiteLaxMode}})
	}, access
}

// FuzzTokenPaths sends hostile Authorization and Cookie headers to every
// endpoint that reads a token: the bearer and cookie paths of requireAuth,
// /refresh and /logout.
func FuzzTokenPaths(f *testing.F) {
	newHandler, access := newFuzzAPI(f)
	f.Add("Bearer "+access, "")
	f.Add("", "refresh_token="+fuzzRefresh)
	f.Add("Bearer "+access, "refresh_token="+fuzzRefresh)
	f.Add("", "access_token="+access+"; refresh_token=abc")
	f.Add("bearer  "+access+" ", "access_token=x")
	f.Add("Basic YWxpY2U6c2VjcmV0", "refresh_token="+strings.Repeat("A", 5000))
	f.Add("Bearer "+strings.Replace(access, ".", "..", 1), `access_token="`+access+`"`)
	f.Add("Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJ4In0.", "access_token=eyJhbGciOiJub25lIn0.e30.")
	f.Add("Bearer", "refresh_token=\x00; access_token=\xff")
	f.Fuzz(func(t *testing.T, authorization, cookie string) {
		h := newHandler(t)
		for _, ep := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/accounts/me"},
			{http.MethodGet, "/api/v1/accounts/sessions"},
			{http.MethodPost, "/api/v1/accounts/refresh"},
			{http.MethodDelete, "/api/v1/accounts/logout"},
		} {
			r := fuzzRequest(ep.method, ep.path, "", nil)
			if authorization != "" {
				r.Header.Set("Authorization", authorization)
			}
			if cookie != "" {
				r.Header.Set("Cookie", cookie)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			switch rec.Code {
			case http.StatusOK:
			case http.StatusUnauthorized:
				wantClientErrorShape(t, rec)
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Fatalf("%s %s: 401 without WWW-Authenticate", ep.method, ep.path)
				}
			default:
				t.Fatalf("%s %s with Authorization %q, Cookie %q: status %d, want 200 or 401 (body %q)",
					ep.method, ep.path, authorization, cookie, rec.Code, rec.Body.String())
			}
		}
	})
}
