package http_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/app"
	"github.com/accountd/accountd/internal/config"
	accounthttp "github.com/accountd/accountd/internal/http"
	"github.com/accountd/accountd/internal/postgres"
	"github.com/accountd/accountd/internal/postgres/pgtest"
	"github.com/accountd/accountd/internal/redis/redistest"
	"github.com/accountd/accountd/internal/security"
)

// Paths and settings of the API under test.
const (
	accountsPath = "/api/v1/accounts"
	testPassword = "securepass123"
	testVersion  = "test-1.2.3"
	testIssuer   = "accountd"

	accessTTL      = 30 * time.Minute
	refreshTTL     = 7 * 24 * time.Hour
	defaultGrace   = 10 * time.Second
	requestTimeout = 5 * time.Second
	testBcryptCost = 4
)

const postgresHint = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start" +
	" (or point " + pgtest.EnvServerURL + " at a running server)"

// The package shares one migrated database: creating one per test is slow,
// and tests keep apart by using random account ids. It is created by the
// first test that needs it and dropped by TestMain.
var sharedDB struct {
	once sync.Once
	pool *pgxpool.Pool
	name string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDB.pool != nil {
		sharedDB.pool.Close()
	}
	if sharedDB.name != "" {
		if err := dropDatabase(sharedDB.name); err != nil {
			fmt.Fprintf(os.Stderr, "drop test database %s: %v\n", sharedDB.name, err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// sharedPool returns a pool on the package's database, creating and
// migrating the database on first use.
func sharedPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	sharedDB.once.Do(func() {
		sharedDB.name = "accountd_test_http_" + randomHex(8)
		sharedDB.pool, sharedDB.err = createDatabase(sharedDB.name)
	})
	if sharedDB.err != nil {
		t.Fatalf("cannot set up the test database on PostgreSQL at %s: %v\n%s",
			redactURL(pgtest.ServerURL()), sharedDB.err, postgresHint)
	}
	return sharedDB.pool
}

func createDatabase(name string) (*pgxpool.Pool, error) {
	u, err := url.Parse(pgtest.ServerURL())
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", pgtest.EnvServerURL, err)
	}
	u.Path = "/" + name
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := postgres.Open(ctx, u.String()) // creates the missing database
	if err != nil {
		return nil, err
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func dropDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newAccountID returns a fresh account id that starts with prefix.
func newAccountID(prefix string) string { return prefix + "-" + randomHex(5) }

// testClock is the injected clock: the real time moved by an offset that a
// test can advance, so expiry is tested without sleeping.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// logBuffer keeps what the service logged, for assertions on logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// apiOptions are what newTestAPI's options change.
type apiOptions struct {
	reuseGrace     time.Duration
	bcryptCost     int
	shareWith      *testAPI
	redisAddr      string
	pool           *pgxpool.Pool
	trustedProxies []netip.Prefix
	limits         account.Limits
	sessionLife    time.Duration // SESSION_MAX_LIFETIME
	origins        []string      // CORS_ALLOWED_ORIGINS
	hashSlots      int
	queueTimeout   time.Duration
	clientIPHeader accounthttp.ClientIPHeader
	tls            bool
	metrics        accounthttp.RequestObserver
	requestTimeout time.Duration
	tokens         func(*app.TokenConfig)
	hasherOpts     []security.HasherOption
	breached       account.BreachedPasswords
	cookies        *accounthttp.CookieConfig
	passkeys       *app.PasskeyConfig
}

type apiOption func(*apiOptions)

// withTokens changes how the instance signs tokens (ALGORITHM,
// JWKS_MAX_AGE, SIGNING_KEY_ROTATION...).
func withTokens(change func(*app.TokenConfig)) apiOption {
	return func(o *apiOptions) { o.tokens = change }
}

// withCookies sets COOKIE_SECURE, COOKIE_SAMESITE and COOKIE_DOMAIN (auto
// and Lax without a domain unless set).
func withCookies(c accounthttp.CookieConfig) apiOption { return func(o *apiOptions) { o.cookies = &c } }

// withPasskeys sets the WebAuthn relying party (WEBAUTHN_RP_ID...); unless
// set it is testPasskeys.
func withPasskeys(c app.PasskeyConfig) apiOption { return func(o *apiOptions) { o.passkeys = &c } }

// withReuseGrace sets REFRESH_REUSE_GRACE.
func withReuseGrace(d time.Duration) apiOption { return func(o *apiOptions) { o.reuseGrace = d } }

// withBcryptCost sets BCRYPT_COST.
func withBcryptCost(cost int) apiOption { return func(o *apiOptions) { o.bcryptCost = cost } }

// sharingBackendsWith makes a second instance of the service: same database,
// same Redis key prefix, same signing key and same clock as a.
func sharingBackendsWith(a *testAPI) apiOption { return func(o *apiOptions) { o.shareWith = a } }

// withRedisAddr points the instance at another Redis, e.g. a closed port.
func withRedisAddr(addr string) apiOption { return func(o *apiOptions) { o.redisAddr = addr } }

// withPool gives the instance another PostgreSQL pool, e.g. one on a closed
// port.
func withPool(p *pgxpool.Pool) apiOption { return func(o *apiOptions) { o.pool = p } }

// withLimits turns on the rate limits, kept under the test's Redis prefix.
func withLimits(l account.Limits) apiOption { return func(o *apiOptions) { o.limits = l } }

// withSessionMaxLifetime sets SESSION_MAX_LIFETIME.
func withSessionMaxLifetime(d time.Duration) apiOption {
	return func(o *apiOptions) { o.sessionLife = d }
}

// withOrigins sets CORS_ALLOWED_ORIGINS.
func withOrigins(origins ...string) apiOption { return func(o *apiOptions) { o.origins = origins } }

// withTrustedProxies sets TRUSTED_PROXIES.
func withTrustedProxies(cidrs ...string) apiOption {
	return func(o *apiOptions) {
		for _, c := range cidrs {
			o.trustedProxies = append(o.trustedProxies, netip.MustParsePrefix(c))
		}
	}
}

// withClientIPHeader sets CLIENT_IP_HEADER.
func withClientIPHeader(h accounthttp.ClientIPHeader) apiOption {
	return func(o *apiOptions) { o.clientIPHeader = h }
}

// withHashSlots sets how many bcrypt computations run at once (2 unless
// set).
func withHashSlots(n int) apiOption { return func(o *apiOptions) { o.hashSlots = n } }

// withQueueTimeout sets BCRYPT_QUEUE_TIMEOUT.
func withQueueTimeout(d time.Duration) apiOption { return func(o *apiOptions) { o.queueTimeout = d } }

// withArgon2 sets PASSWORD_HASH=argon2id with the settings of p.
func withArgon2(p security.Argon2Params) apiOption {
	return func(o *apiOptions) {
		o.hasherOpts = append(o.hasherOpts, security.WithAlgorithm(security.Argon2id), security.WithArgon2(p))
	}
}

// withBreached sets the list of breached passwords (BREACHED_PASSWORDS_FILE).
func withBreached(list account.BreachedPasswords) apiOption {
	return func(o *apiOptions) { o.breached = list }
}

// withTLS serves the instance over https.
func withTLS() apiOption { return func(o *apiOptions) { o.tls = true } }

// withRequestTimeout sets REQUEST_TIMEOUT.
func withRequestTimeout(d time.Duration) apiOption {
	return func(o *apiOptions) { o.requestTimeout = d }
}

// withRequestObserver tells o about every request, as the metrics are.
func withRequestObserver(o accounthttp.RequestObserver) apiOption {
	return func(opts *apiOptions) { opts.metrics = o }
}

// testAPI is one running instance of the HTTP API, wired like
// cmd/accountd/serve.go does, on real PostgreSQL and Redis.
type testAPI struct {
	URL     string
	handler http.Handler
	client  *http.Client
	pool    *pgxpool.Pool
	rdb     *goredis.Client
	clock   *testClock
	key     []byte
	prefix  string
	hasher  *security.Hasher
	logs    *logBuffer
	tokens  app.Tokens
}

func newTestAPI(t *testing.T, opts ...apiOption) *testAPI {
	t.Helper()
	o := apiOptions{reuseGrace: defaultGrace, bcryptCost: testBcryptCost, requestTimeout: requestTimeout, hashSlots: 2}
	for _, opt := range opts {
		opt(&o)
	}
	a := &testAPI{logs: &logBuffer{}}
	if s := o.shareWith; s != nil {
		a.pool, a.key, a.prefix, a.clock = s.pool, s.key, s.prefix, s.clock
	} else {
		a.key = testSecretKey
		a.clock = &testClock{}
		a.pool = sharedPool(t)
	}
	if o.pool != nil {
		a.pool = o.pool
	}
	switch {
	case o.redisAddr != "":
		a.rdb = goredis.NewClient(&goredis.Options{Addr: o.redisAddr, MaxRetries: -1})
		t.Cleanup(func() { _ = a.rdb.Close() })
	case o.shareWith != nil:
		a.rdb = o.shareWith.rdb
	default:
		// A key prefix of the test's own, so that tests run in parallel.
		a.rdb, a.prefix = redistest.New(t)
	}

	hasher, err := security.NewHasher(o.bcryptCost, o.hashSlots,
		append([]security.HasherOption{security.WithQueueTimeout(o.queueTimeout)}, o.hasherOpts...)...)
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	a.hasher = hasher
	log := slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), a.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps := app.Deps{Pool: a.pool, Redis: a.rdb, KeyPrefix: a.prefix, Hasher: hasher, Logger: log,
		FactorCipher: factorCipher(t, a.key)}
	tc := testTokenConfig(a.key, a.clock.Now)
	if o.tokens != nil {
		o.tokens(&tc)
	}
	a.tokens = startTokens(t, deps, tc)
	deps.Tokens = a.tokens.JWT
	in := startInstance(t, deps, account.Config{
		RefreshTTL: refreshTTL, ReuseGrace: o.reuseGrace, Now: a.clock.Now, Limits: o.limits,
		SessionMaxLifetime: o.sessionLife, Breached: o.breached,
	})
	cookies := accounthttp.CookieConfig{Secure: "auto", SameSite: http.SameSiteLaxMode}
	if o.cookies != nil {
		cookies = *o.cookies
	}
	pc := testPasskeys
	if o.passkeys != nil {
		pc = *o.passkeys
	}
	passkeys, err := app.NewPasskeys(deps, in.Service, pc)
	if err != nil {
		t.Fatalf("NewPasskeys: %v", err)
	}
	a.handler = accounthttp.NewHandler(accounthttp.Config{
		Service: in.Service, Logger: log, Version: testVersion, TrustedProxies: o.trustedProxies, Metrics: o.metrics,
		ClientIPHeader: o.clientIPHeader, CORSAllowedOrigins: o.origins, RequestTimeout: o.requestTimeout,
		Cookies: cookies,
		Health:  app.Checks(deps),
		Keys:    jwksOf(a.tokens), JWKSMaxAge: tc.JWKSMaxAge, Issuer: testIssuer,
		IntrospectionClients: testIntrospectionClients, Passkeys: passkeys,
	})

	var srv *httptest.Server
	if o.tls {
		srv = httptest.NewTLSServer(a.handler)
	} else {
		srv = httptest.NewServer(a.handler)
	}
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	a.client = srv.Client()
	a.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	a.client.Timeout = 2 * requestTimeout
	return a
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return addr
}

// Request bodies: nil (none), a string (JSON text), url.Values (an
// urlencoded form), rawBody (any bytes and content type), multipartForm, or
// any other value, which is sent as its JSON encoding.
type rawBody struct {
	contentType string // "" sends no Content-Type
	data        []byte
}

type multipartForm map[string]string

// reqOpt changes a request before it is sent.
type reqOpt func(*http.Request)

func header(name, value string) reqOpt { return func(r *http.Request) { r.Header.Set(name, value) } }

func bearer(token string) reqOpt { return header("Authorization", "Bearer "+token) }

func basicAuth(id, secret string) reqOpt { return func(r *http.Request) { r.SetBasicAuth(id, secret) } }

func withCookie(name, value string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

func refreshCookie(value string) reqOpt { return withCookie("refresh_token", value) }

// response is what do returns: the status, headers and cookies, the raw body
// and the body decoded as JSON (nil when it is not JSON).
type response struct {
	Status  int
	Header  http.Header
	Cookies []*http.Cookie
	Body    []byte
	JSON    any
}

// obj returns the body as a JSON object.
func (r response) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := r.JSON.(map[string]any)
	if !ok {
		t.Fatalf("body = %s, want a JSON object", r.Body)
	}
	return m
}

// code returns the body's "code", or "".
func (r response) code() string {
	m, _ := r.JSON.(map[string]any)
	s, _ := m["code"].(string)
	return s
}

// cookie returns the Set-Cookie of the named cookie, or nil.
func (r response) cookie(name string) *http.Cookie {
	for _, c := range r.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (a *testAPI) do(t *testing.T, method, path string, body any, opts ...reqOpt) response {
	t.Helper()
	return a.doWith(t, a.client, method, path, body, opts...)
}

func (a *testAPI) doWith(t *testing.T, c *http.Client, method, path string, body any, opts ...reqOpt) response {
	t.Helper()
	var (
		data []byte
		ct   string
	)
	switch b := body.(type) {
	case nil:
	case string:
		data, ct = []byte(b), "application/json"
	case url.Values:
		data, ct = []byte(b.Encode()), "application/x-www-form-urlencoded"
	case rawBody:
		data, ct = b.data, b.contentType
	case multipartForm:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, v := range b {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatalf("multipart: %v", err)
			}
		}
		if err := mw.Close(); err != nil {
			t.Fatalf("multipart: %v", err)
		}
		data, ct = buf.Bytes(), mw.FormDataContentType()
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatalf("marshal request body: %v", err)
		}
		ct = "application/json"
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, a.URL+path, rd)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, path, err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for _, opt := range opts {
		opt(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := response{Status: resp.StatusCode, Header: resp.Header, Cookies: resp.Cookies()}
	if out.Body, err = io.ReadAll(resp.Body); err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if len(out.Body) > 0 && json.Valid(out.Body) {
		_ = json.Unmarshal(out.Body, &out.JSON)
	}
	return out
}

// browser is a client with a cookie jar, like curl -b/-c or a web page.
type browser struct {
	api    *testAPI
	client *http.Client
}

func (a *testAPI) newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	return &browser{api: a, client: &http.Client{
		Transport: a.client.Transport, Jar: jar, CheckRedirect: a.client.CheckRedirect, Timeout: a.client.Timeout,
	}}
}

func (b *browser) do(t *testing.T, method, path string, body any, opts ...reqOpt) response {
	t.Helper()
	return b.api.doWith(t, b.client, method, path, body, opts...)
}

// cookie returns the value the jar would send to path for the named cookie.
func (b *browser) cookie(t *testing.T, path, name string) string {
	t.Helper()
	u, err := url.Parse(b.api.URL + path)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// login is what a successful POST /token gave.
type login struct {
	access    string // from the body
	refresh   string // the refresh_token cookie
	sessionID string // the access token's sid
	resp      response
}

// wantStatus fails the test unless r has the status and, when code is not
// empty, the error code.
func wantStatus(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.Status, status, r.Body)
	}
	if code != "" && r.code() != code {
		t.Fatalf("code = %q, want %q (body %s)", r.code(), code, r.Body)
	}
}

// register creates an account and returns the 201 body.
func (a *testAPI) register(t *testing.T, id, password string) map[string]any {
	t.Helper()
	r := a.do(t, http.MethodPost, accountsPath+"/", map[string]string{"account_id": id, "password": password})
	wantStatus(t, r, http.StatusCreated, "")
	return r.obj(t)
}

// newAccount registers a fresh account with testPassword and returns its id.
func (a *testAPI) newAccount(t *testing.T, prefix string) string {
	t.Helper()
	id := newAccountID(prefix)
	a.register(t, id, testPassword)
	return id
}

func loginForm(id, password string) url.Values {
	return url.Values{"username": {id}, "password": {password}}
}

// login logs in and returns the tokens, failing unless it gives 200.
func (a *testAPI) login(t *testing.T, id, password string, opts ...reqOpt) login {
	t.Helper()
	r := a.do(t, http.MethodPost, accountsPath+"/token", loginForm(id, password), opts...)
	wantStatus(t, r, http.StatusOK, "")
	return tokensOf(t, r)
}

// tokensOf reads the tokens of a 200 from /token or /refresh.
func tokensOf(t *testing.T, r response) login {
	t.Helper()
	access, _ := r.obj(t)["access_token"].(string)
	rc := r.cookie("refresh_token")
	if access == "" || rc == nil || rc.Value == "" {
		t.Fatalf("response has no access token in the body or no refresh_token cookie: %s %v", r.Body, r.Cookies)
	}
	sid, _ := claimsOf(t, access)["sid"].(string)
	return login{access: access, refresh: rc.Value, sessionID: sid, resp: r}
}

func (a *testAPI) refresh(t *testing.T, refresh string, opts ...reqOpt) response {
	t.Helper()
	return a.do(t, http.MethodPost, accountsPath+"/refresh", nil, append([]reqOpt{refreshCookie(refresh)}, opts...)...)
}

func (a *testAPI) me(t *testing.T, access string) response {
	t.Helper()
	return a.do(t, http.MethodGet, accountsPath+"/me", nil, bearer(access))
}

// wantAccess fails unless the access token gets the status (and code) at /me.
func (a *testAPI) wantAccess(t *testing.T, what, access string, status int, code string) {
	t.Helper()
	r := a.me(t, access)
	if r.Status != status || (code != "" && r.code() != code) {
		t.Fatalf("%s: GET /me = %d %q, want %d %q (body %s)", what, r.Status, r.code(), status, code, r.Body)
	}
}

// wantRefresh fails unless the refresh token gets the status (and code).
func (a *testAPI) wantRefresh(t *testing.T, what, refresh string, status int, code string) response {
	t.Helper()
	r := a.refresh(t, refresh)
	if r.Status != status || (code != "" && r.code() != code) {
		t.Fatalf("%s: POST /refresh = %d %q, want %d %q (body %s)", what, r.Status, r.code(), status, code, r.Body)
	}
	return r
}

// claimsOf decodes a JWT's claims without verifying it.
func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decode JWT claims: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode JWT claims: %v", err)
	}
	return m
}

// countRefreshTokens returns how many refresh tokens the session has.
func (a *testAPI) countRefreshTokens(t *testing.T, sessionID string) int {
	t.Helper()
	var n int
	err := a.pool.QueryRow(context.Background(), "SELECT count(*) FROM refresh_tokens WHERE session_id = $1", sessionID).Scan(&n)
	if err != nil {
		t.Fatalf("count refresh tokens: %v", err)
	}
	return n
}

// sessionRevoked reports whether the session row has revoked_at set.
func (a *testAPI) sessionRevoked(t *testing.T, sessionID string) bool {
	t.Helper()
	var revoked bool
	err := a.pool.QueryRow(context.Background(), "SELECT revoked_at IS NOT NULL FROM sessions WHERE id = $1", sessionID).Scan(&revoked)
	if err != nil {
		t.Fatalf("read session %s: %v", sessionID, err)
	}
	return revoked
}

// disable sets accounts.disabled for the account.
func (a *testAPI) disable(t *testing.T, accountID string) {
	t.Helper()
	tag, err := a.pool.Exec(context.Background(), "UPDATE accounts SET disabled = true WHERE lower(account_id) = lower($1)", accountID)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("disable %s: %v (%d rows)", accountID, err, tag.RowsAffected())
	}
}

// wantNoSecret fails when the secret appears in the body.
func wantNoSecret(t *testing.T, what string, body []byte, secret string) {
	t.Helper()
	if secret != "" && bytes.Contains(body, []byte(secret)) {
		t.Fatalf("%s contains the password %q: %s", what, secret, body)
	}
}

// wantErrorBody fails unless the body is exactly {"detail": <text>, "code": code}.
func wantErrorBody(t *testing.T, r response, code string) {
	t.Helper()
	m := r.obj(t)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys, []string{"code", "detail"}) {
		t.Fatalf("error body keys = %v, want [code detail] (body %s)", keys, r.Body)
	}
	if d, _ := m["detail"].(string); d == "" {
		t.Fatalf("error detail = %v, want a non-empty string", m["detail"])
	}
	if r.code() != code {
		t.Fatalf("code = %q, want %q", r.code(), code)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
}

// issue is one field problem of a 422 body. An empty msg is not compared.
type issue struct {
	typ string
	loc []string
	msg string
}

// wantValidation fails unless r is a 422 in FastAPI's shape listing exactly
// the issues, in order, each entry having only type, loc and msg.
func wantValidation(t *testing.T, r response, want []issue) {
	t.Helper()
	wantStatus(t, r, http.StatusUnprocessableEntity, "validation_error")
	var body struct {
		Detail []map[string]json.RawMessage `json:"detail"`
		Code   string                       `json:"code"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("422 body %s: %v, want {detail: [...], code}", r.Body, err)
	}
	if len(body.Detail) == 0 {
		t.Fatalf("422 detail is empty, want at least one entry: %s", r.Body)
	}
	got := make([]issue, len(body.Detail))
	for i, d := range body.Detail {
		if len(d) != 3 || d["type"] == nil || d["loc"] == nil || d["msg"] == nil {
			t.Fatalf("detail[%d] = %s, want exactly the keys type, loc, msg", i, r.Body)
		}
		if json.Unmarshal(d["type"], &got[i].typ) != nil || json.Unmarshal(d["loc"], &got[i].loc) != nil ||
			json.Unmarshal(d["msg"], &got[i].msg) != nil || got[i].msg == "" || got[i].typ == "" || len(got[i].loc) == 0 {
			t.Fatalf("detail[%d] of %s: want type string, loc list of strings, non-empty msg", i, r.Body)
		}
	}
	if want == nil {
		return
	}
	if len(got) != len(want) {
		t.Fatalf("detail = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].typ != want[i].typ || !slices.Equal(got[i].loc, want[i].loc) || (want[i].msg != "" && got[i].msg != want[i].msg) {
			t.Fatalf("detail[%d] = %+v, want %+v (body %s)", i, got[i], want[i], r.Body)
		}
	}
}

// apiCase is one row of a table test run through the real router.
type apiCase struct {
	name       string
	method     string
	path       string
	body       any
	opts       []reqOpt
	wantStatus int
	wantCode   string  // for errors; validation_error is implied by 422
	wantIssues []issue // for 422; nil checks only the shape
	secret     string  // a password that must not appear in the body
	check      func(t *testing.T, r response)
}

// runCases runs the cases as parallel subtests against api; method and path
// are the defaults for cases that leave theirs empty. It returns when every
// case has finished.
func runCases(t *testing.T, api *testAPI, cases []apiCase, method, path string) {
	t.Helper()
	t.Run("cases", func(t *testing.T) {
		for _, c := range cases {
			if c.method == "" {
				c.method = method
			}
			if c.path == "" {
				c.path = path
			}
			runCase(t, api, c)
		}
	})
}

func runCase(t *testing.T, api *testAPI, c apiCase) {
	t.Helper()
	t.Run(c.name, func(t *testing.T) {
		t.Parallel()
		r := api.do(t, c.method, c.path, c.body, c.opts...)
		switch {
		case c.wantStatus == http.StatusUnprocessableEntity:
			wantValidation(t, r, c.wantIssues)
		case c.wantStatus >= 400:
			wantStatus(t, r, c.wantStatus, c.wantCode)
			wantErrorBody(t, r, c.wantCode)
		default:
			wantStatus(t, r, c.wantStatus, "")
		}
		wantNoSecret(t, "response body", r.Body, c.secret)
		if c.check != nil {
			c.check(t, r)
		}
	})
}

// httptestRequest builds a request for serve, for what a real client
// cannot send.
func httptestRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	return httptest.NewRequestWithContext(t.Context(), method, path, nil)
}

// serve runs req through the API's handler without the network.
func serve(a *testAPI, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// startInstance wires the service as serve does, with app.New, and stops
// its revocation view when the test ends.
// testSecretKey is the SECRET_KEY of every test instance: they share one
// database, and with it the signing keys it seals.
var testSecretKey = []byte(randomHex(32)) // 64 bytes

// Introspection clients of every test instance.
const (
	testClientID     = "resource-server"
	testClientSecret = "resource-server-secret-0123456789"
)

var testIntrospectionClients = config.Clients{{ID: testClientID, Secret: testClientSecret}}

// testTokenConfig is how test instances sign tokens unless a test says
// otherwise: the production defaults (ES256, JWKS_MAX_AGE 10m, rotation
// every 720h), keys sealed under key, on the test's clock.
func testTokenConfig(key []byte, now func() time.Time) app.TokenConfig {
	return app.TokenConfig{Algorithm: "ES256", Secret: key, Issuer: testIssuer, TTL: accessTTL,
		JWKSMaxAge: 10 * time.Minute, Rotation: 720 * time.Hour, Now: now}
}

// startTokens loads the signing keys of deps' database until the test ends.
func startTokens(t testing.TB, deps app.Deps, c app.TokenConfig) app.Tokens {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tk, err := app.NewTokens(ctx, deps, c)
	if err != nil {
		t.Fatalf("NewTokens: %v", err)
	}
	return tk
}

// jwksOf is what the JWKS endpoint publishes: the key set, none under HS*.
func jwksOf(tk app.Tokens) accounthttp.JWKSSource {
	if tk.Keys == nil {
		return nil
	}
	return tk.Keys
}

// signingKey is the key the instance signs with now, for tests that sign
// tokens of their own.
func (a *testAPI) signingKey(t *testing.T) security.SigningKey {
	t.Helper()
	if a.tokens.Keys == nil {
		t.Fatalf("the instance signs with SECRET_KEY, not a key set")
	}
	sk, err := a.tokens.Keys.Signing()
	if err != nil {
		t.Fatalf("Signing: %v", err)
	}
	return sk
}

func startInstance(t testing.TB, deps app.Deps, cfg account.Config) *app.Instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := app.New(ctx, deps, cfg)
	t.Cleanup(func() { cancel(); <-in.Done() })
	return in
}
