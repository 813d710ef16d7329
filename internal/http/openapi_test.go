package http_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"

	"github.com/accountd/accountd/internal/account"
	accounthttp "github.com/accountd/accountd/internal/http"
)

func init() {
	// The docs page is HTML; the validator reads it as plain text.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

// loadOpenAPI loads and validates the document that GET /openapi.json
// serves. kin-openapi validates OpenAPI 3.1 documents with JSON Schema
// 2020-12 semantics (const, type arrays, $ref siblings), which this
// document uses.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	data, err := accounthttp.OpenAPI(testVersion)
	if err != nil {
		t.Fatalf("OpenAPI: %v", err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	if doc.Info.Version != testVersion {
		t.Errorf("info.version = %q, want the build's version %q", doc.Info.Version, testVersion)
	}
	flow := doc.Components.SecuritySchemes["OAuth2PasswordBearer"].Value.Flows.Password
	if flow == nil || flow.TokenURL != "/api/v1/accounts/token" {
		t.Errorf("OAuth2 password flow = %+v, want tokenUrl /api/v1/accounts/token", flow)
	}
}

// TestOpenAPIDocumentsEveryRoute compares the router's routes with the
// document's operations, both ways.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	h := accounthttp.NewHandler(accounthttp.Config{
		Logger: slog.New(slog.DiscardHandler), MetricsHandler: http.NotFoundHandler(), RequestTimeout: time.Second,
	})
	var routed []string
	err := chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasSuffix(route, "/*") {
			return nil // the docs page's assets
		}
		if route != "/" {
			route = strings.TrimSuffix(route, "/")
		}
		routed = append(routed, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatalf("walk routes: %v", err)
	}
	norm := func(ops []string) []string {
		out := make([]string, len(ops))
		for i, op := range ops {
			if op != "POST /api/v1/accounts/" {
				out[i] = op
			} else {
				out[i] = "POST /api/v1/accounts"
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	if d, r := norm(documented), norm(routed); !slices.Equal(d, r) {
		t.Errorf("documented operations and routes differ:\ndocumented %q\nrouted     %q", d, r)
	}
}

// contract checks every request and response that passes through it
// against the OpenAPI document, and records which operations it saw.
type contract struct {
	t      *testing.T
	base   http.RoundTripper
	router routers.Router

	mu   sync.Mutex
	seen map[string]bool
}

func newContract(t *testing.T, base http.RoundTripper) *contract {
	t.Helper()
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("OpenAPI router: %v", err)
	}
	return &contract{t: t, base: base, router: router, seen: map[string]bool{}}
}

// contractOptions make the validator strict: an undocumented status fails,
// and security requirements are met only by the credentials they name.
var contractOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	SkipSettingDefaults:   true,
	AuthenticationFunc:    requireCredentials,
}

// requireCredentials accepts a security requirement when the request
// carries the credential it names; the server checks whether it is good.
func requireCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r, s := in.RequestValidationInput.Request, in.SecurityScheme
	switch {
	case s.Type == "oauth2", s.Type == "http" && s.Scheme == "bearer":
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return errors.New("no bearer token")
		}
	case s.Type == "http" && s.Scheme == "basic":
		if _, _, ok := r.BasicAuth(); !ok {
			return errors.New("no client credentials")
		}
	case s.Type == "apiKey" && s.In == "cookie":
		if _, err := r.Cookie(s.Name); err != nil {
			return fmt.Errorf("no %s cookie", s.Name)
		}
	default:
		return fmt.Errorf("unexpected security scheme %s", in.SecuritySchemeName)
	}
	return nil
}

// RoundTrip sends req and checks it and its response against the
// document. A request that the server accepted (2xx) must be valid; one
// that it refused may not be, since showing that is the point of sending it.
func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	check := req.Clone(req.Context())
	check.Body = io.NopCloser(bytes.NewReader(body))
	what := req.Method + " " + req.URL.Path

	route, params, err := c.router.FindRoute(check)
	if err != nil {
		c.t.Errorf("%s is not in the OpenAPI document: %v", what, err)
		return c.base.RoundTrip(req)
	}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: contractOptions}
	reqErr := openapi3filter.ValidateRequest(req.Context(), in)

	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	if reqErr != nil && resp.StatusCode < 300 {
		c.t.Errorf("%s was answered %d, but the document says the request is invalid: %v", what, resp.StatusCode, reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: contractOptions,
	}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		c.t.Errorf("%s: the %d response does not match the document: %v\nbody: %s", what, resp.StatusCode, err, respBody)
	}
	c.mu.Lock()
	c.seen[route.Method+" "+route.Path] = true
	c.seen[fmt.Sprintf("%s %s %d", route.Method, route.Path, resp.StatusCode)] = true
	c.mu.Unlock()
	return resp, nil
}

// wantCovered fails unless every operation of the document went through.
func (c *contract) wantCovered(t *testing.T) {
	t.Helper()
	doc := loadOpenAPI(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !c.seen[method+" "+path] {
				t.Errorf("no request of the flows exercised %s %s", method, path)
			}
		}
	}
}

// wantStatuses fails unless each "METHOD /path status" went through.
func (c *contract) wantStatuses(t *testing.T, want ...string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range want {
		if !c.seen[w] {
			t.Errorf("no response of the flows was %s", w)
		}
	}
}

// TestOpenAPIContract runs the integration flows through a client that
// checks every request and response against the document, so that the
// document cannot drift from what the service does.
func TestOpenAPIContract(t *testing.T) {
	t.Parallel()
	api := newTestAPI(t, withLimits(account.Limits{LoginFailures: account.LockoutAfter(5, time.Minute)}), withReuseGrace(defaultGrace))
	c := newContract(t, api.client.Transport)
	api.client.Transport = c
	const acc = accountsPath

	// Operations.
	for _, p := range []string{"/", "/livez", "/health", "/openapi.json", "/docs"} {
		wantStatus(t, api.do(t, http.MethodGet, p, nil), http.StatusOK, "")
	}
	metricsAPI := httptest.NewServer(accounthttp.NewHandler(accounthttp.Config{
		Logger: slog.New(slog.DiscardHandler), RequestTimeout: time.Second,
		MetricsHandler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores")
			_, _ = io.WriteString(w, "accountd_up 1\n")
		}),
	}))
	defer metricsAPI.Close()
	resp, err := (&http.Client{Transport: newContract(t, http.DefaultTransport)}).Get(metricsAPI.URL + "/metrics")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %v, %v; want 200", resp, err)
	}
	_ = resp.Body.Close()
	c.seen["GET /metrics"] = true // checked by its own contract above

	// Registration and lookups.
	id := newAccountID("contract")
	api.register(t, id, testPassword)
	wantStatus(t, api.do(t, http.MethodPost, acc+"/", map[string]string{"account_id": strings.ToUpper(id), "password": testPassword}),
		http.StatusConflict, "account_exists")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/", map[string]string{"account_id": newAccountID("contract")}),
		http.StatusUnprocessableEntity, "validation_error")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/", rawBody{"text/plain", []byte("hi")}),
		http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/", rawBody{"application/json", bytes.Repeat([]byte(" "), 65<<10)}),
		http.StatusRequestEntityTooLarge, "payload_too_large")
	wantStatus(t, api.do(t, http.MethodGet, acc+"/exist/"+id, nil), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodGet, acc+"/exist/nobody-"+randomHex(4), nil), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodGet, acc+"/exist/ab", nil), http.StatusUnprocessableEntity, "validation_error")

	// Login, with a form and with multipart, and its failures.
	first := api.login(t, id, testPassword)
	wantStatus(t, api.do(t, http.MethodPost, acc+"/token", multipartForm{"username": id, "password": testPassword, "grant_type": "password"}),
		http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/token", loginForm(id, "wrong-password")), http.StatusBadRequest, "invalid_credentials")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/token", url.Values{"username": {id}}), http.StatusUnprocessableEntity, "validation_error")

	// The caller's account, by bearer token and by cookie.
	b := api.newBrowser(t)
	wantStatus(t, b.do(t, http.MethodPost, acc+"/token", loginForm(id, testPassword)), http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodGet, acc+"/me", nil), http.StatusOK, "")
	wantStatus(t, api.me(t, first.access), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodGet, acc+"/me", nil), http.StatusUnauthorized, "not_authenticated")
	wantStatus(t, api.me(t, "not-a-jwt"), http.StatusUnauthorized, "invalid_token")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/verify_password", map[string]string{"password": testPassword}, bearer(first.access)),
		http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/verify_password", map[string]string{"password": "wrong-password"}, bearer(first.access)),
		http.StatusBadRequest, "invalid_password")

	// Verification by other services: the JWKS, discovery, introspection.
	jwks := api.do(t, http.MethodGet, "/.well-known/jwks.json", nil)
	wantStatus(t, jwks, http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodGet, "/.well-known/jwks.json", nil, header("If-None-Match", jwks.Header.Get("ETag"))),
		http.StatusNotModified, "")
	wantStatus(t, api.do(t, http.MethodGet, "/.well-known/oauth-authorization-server", nil), http.StatusOK, "")
	client := basicAuth(testClientID, testClientSecret)
	wantStatus(t, api.do(t, http.MethodPost, acc+"/introspect", url.Values{"token": {first.access}}, client), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/introspect", url.Values{"token": {"forged"}}, client), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/introspect", url.Values{"token": {first.access}}),
		http.StatusUnauthorized, "invalid_client")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/introspect", url.Values{}, client), http.StatusUnprocessableEntity, "validation_error")

	// Refresh: rotation, a racing re-send within the grace period, a
	// replay after it, and no cookie.
	r := api.refresh(t, first.refresh)
	wantStatus(t, r, http.StatusOK, "")
	second := tokensOf(t, r)
	wantStatus(t, api.refresh(t, first.refresh), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodPost, acc+"/refresh", nil), http.StatusUnauthorized, "not_authenticated")
	wantStatus(t, api.refresh(t, "unknown-"+randomHex(16)), http.StatusUnauthorized, "invalid_token")

	// Sessions.
	third := api.login(t, id, testPassword)
	wantStatus(t, api.do(t, http.MethodGet, acc+"/sessions", nil, bearer(third.access)), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodDelete, acc+"/sessions/"+second.sessionID, nil, bearer(third.access)), http.StatusOK, "")
	wantStatus(t, api.me(t, second.access), http.StatusUnauthorized, "token_revoked")
	wantStatus(t, api.do(t, http.MethodDelete, acc+"/sessions/"+second.sessionID, nil, bearer(third.access)),
		http.StatusNotFound, "session_not_found")

	// Password change.
	const newPassword = "another-secure-pass"
	change := func(old, new string) response {
		return api.do(t, http.MethodPut, acc+"/password", map[string]string{"old_password": old, "new_password": new},
			bearer(third.access))
	}
	wantStatus(t, change("wrong-password", newPassword), http.StatusBadRequest, "invalid_password")
	wantStatus(t, change(testPassword, testPassword), http.StatusBadRequest, "password_unchanged")
	wantStatus(t, change(testPassword, "short"), http.StatusUnprocessableEntity, "validation_error")
	wantStatus(t, change(testPassword, newPassword), http.StatusOK, "")

	// Logout.
	wantStatus(t, api.do(t, http.MethodDelete, acc+"/logout?scope=everything", nil, bearer(third.access)),
		http.StatusUnprocessableEntity, "validation_error")
	wantStatus(t, api.do(t, http.MethodDelete, acc+"/logout?scope=others", nil, bearer(third.access)), http.StatusOK, "")
	wantStatus(t, b.do(t, http.MethodDelete, acc+"/logout", nil), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodDelete, acc+"/logout", nil), http.StatusOK, "")

	// A replay after the grace period revokes the session.
	fourth := api.login(t, id, newPassword)
	wantStatus(t, api.refresh(t, fourth.refresh), http.StatusOK, "")
	api.clock.Advance(defaultGrace + time.Second)
	wantStatus(t, api.refresh(t, fourth.refresh), http.StatusUnauthorized, "refresh_token_reused")

	// The current session, the security history, and deleting an account.
	fifth := api.login(t, id, newPassword)
	wantStatus(t, api.do(t, http.MethodGet, acc+"/session", nil, bearer(fifth.access)), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodGet, acc+"/session", nil, refreshCookie(fifth.refresh)), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodGet, acc+"/session", nil), http.StatusUnauthorized, "not_authenticated")
	wantStatus(t, api.do(t, http.MethodGet, acc+"/events?limit=2", nil, bearer(fifth.access)), http.StatusOK, "")
	wantStatus(t, api.do(t, http.MethodGet, acc+"/events?limit=0", nil, bearer(fifth.access)),
		http.StatusUnprocessableEntity, "validation_error")
	gone := api.login(t, api.newAccount(t, "contract-gone"), testPassword)
	wantStatus(t, api.do(t, http.MethodDelete, acc+"/me", map[string]string{"password": "wrong-password"}, bearer(gone.access)),
		http.StatusBadRequest, "invalid_password")
	wantStatus(t, api.do(t, http.MethodDelete, acc+"/me", map[string]string{"password": testPassword}, bearer(gone.access)),
		http.StatusOK, "")

	// A browser on another origin, and too many failed logins.
	wantStatus(t, api.do(t, http.MethodPost, acc+"/token", loginForm(id, newPassword),
		header("Origin", "https://evil.example"), header("Sec-Fetch-Site", "cross-site")),
		http.StatusForbidden, "cross_origin_rejected")
	locked := api.newAccount(t, "contract-locked")
	for range 10 {
		r := api.do(t, http.MethodPost, acc+"/token", loginForm(locked, "wrong-password"))
		if r.Status == http.StatusTooManyRequests {
			break
		}
		wantStatus(t, r, http.StatusBadRequest, "invalid_credentials")
	}

	passkeyContract(t, api)

	c.wantStatuses(t, contractMFA(t, api)...)
	c.wantCovered(t)
	c.wantStatuses(t,
		"POST /api/v1/accounts/ 201", "POST /api/v1/accounts/ 409", "POST /api/v1/accounts/ 413",
		"POST /api/v1/accounts/ 415", "POST /api/v1/accounts/ 422",
		"POST /api/v1/accounts/token 200", "POST /api/v1/accounts/token 400", "POST /api/v1/accounts/token 403",
		"POST /api/v1/accounts/token 422", "POST /api/v1/accounts/token 429",
		"GET /api/v1/accounts/me 401", "POST /api/v1/accounts/refresh 401",
		"DELETE /api/v1/accounts/sessions/{id} 404", "PUT /api/v1/accounts/password 400",
		"DELETE /api/v1/accounts/logout 422",
		"GET /.well-known/jwks.json 304", "POST /api/v1/accounts/introspect 401",
		"GET /api/v1/accounts/session 200", "GET /api/v1/accounts/session 401", "GET /api/v1/accounts/events 422",
		"DELETE /api/v1/accounts/me 400", "DELETE /api/v1/accounts/me 200",
		"POST /api/v1/accounts/passkeys/register/finish 201", "POST /api/v1/accounts/passkeys/login/finish 400",
		"DELETE /api/v1/accounts/passkeys/{id} 404",
	)
}
