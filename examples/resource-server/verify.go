package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Config says where accountd is and what its tokens must say.
type Config struct {
	// AccountdURL is accountd's base URL: the JWKS is at
	// /.well-known/jwks.json, introspection at /api/v1/accounts/introspect.
	AccountdURL string
	// Issuer and Audience are what accountd's JWT_ISSUER and JWT_AUDIENCE
	// are ("" for no audience).
	Issuer, Audience string
	// JWKSRefresh is how often the JWKS is fetched again: no longer than
	// accountd's JWKS_MAX_AGE, since accountd publishes a key 2 x
	// JWKS_MAX_AGE before it signs with it.
	JWKSRefresh time.Duration
	// NoRefreshOnUnknownKID turns off keyfunc's fetch of the JWKS when a
	// token names a kid it does not know (at most once per 5 minutes). Left
	// on, it covers an operator's `accountd keys rotate --now`; the test
	// turns it off to show that rotations need no such fallback.
	NoRefreshOnUnknownKID bool
	// ClientID and ClientSecret are an introspection client of accountd's
	// INTROSPECTION_CLIENTS; empty, introspection is off.
	ClientID, ClientSecret string
	// HTTPClient calls accountd; nil uses http.DefaultClient.
	HTTPClient *http.Client
}

// Verifier checks accountd's access tokens.
type Verifier struct {
	cfg    Config
	keys   keyfunc.Keyfunc
	parser *jwt.Parser
}

// Claims are what an accountd access token says.
type Claims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// NewVerifier fetches the JWKS, and keeps fetching it every JWKSRefresh
// until ctx ends.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	override := keyfunc.Override{RefreshInterval: cfg.JWKSRefresh, Client: cfg.HTTPClient, HTTPTimeout: 10 * time.Second}
	if cfg.NoRefreshOnUnknownKID {
		override.RefreshUnknownKID = rate.NewLimiter(0, 0)
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.AccountdURL + "/.well-known/jwks.json"}, override)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	opts := []jwt.ParserOption{
		// Only the algorithms accountd's keys use: never "none", never an
		// HMAC keyed with a public key.
		jwt.WithValidMethods([]string{"ES256", "EdDSA", "RS256"}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30 * time.Second),
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &Verifier{cfg: cfg, keys: kf, parser: jwt.NewParser(opts...)}, nil
}

// errNotAccessToken is a JWT that accountd did not issue as an access token.
var errNotAccessToken = errors.New("not an access token")

// Verify checks a token offline: signature (by its kid, from the JWKS),
// algorithm, issuer, audience, times and type. It cannot see a logout;
// Introspect can.
func (v *Verifier) Verify(token string) (Claims, error) {
	var c Claims
	t, err := v.parser.ParseWithClaims(token, &c, v.keys.Keyfunc)
	if err != nil {
		return Claims{}, err
	}
	if typ, _ := t.Header["typ"].(string); typ != "at+jwt" || c.Subject == "" || c.SessionID == "" {
		return Claims{}, errNotAccessToken
	}
	return c, nil
}

// Introspection is accountd's RFC 7662 answer.
type Introspection struct {
	Active    bool   `json:"active"`
	Subject   string `json:"sub"`
	SessionID string `json:"sid"`
	Username  string `json:"username"`
	ExpiresAt int64  `json:"exp"`
}

// errNoIntrospection means no introspection client is configured.
var errNoIntrospection = errors.New("introspection is not configured")

// Introspect asks accountd whether the token is active right now: a logout
// or a revoked key shows at once.
func (v *Verifier) Introspect(ctx context.Context, token string) (Introspection, error) {
	if v.cfg.ClientID == "" {
		return Introspection{}, errNoIntrospection
	}
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.cfg.AccountdURL+"/api/v1/accounts/introspect",
		strings.NewReader(form.Encode()))
	if err != nil {
		return Introspection{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(v.cfg.ClientID), url.QueryEscape(v.cfg.ClientSecret))
	client := v.cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Introspection{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Introspection{}, fmt.Errorf("introspection: %s", resp.Status)
	}
	var in Introspection
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil {
		return Introspection{}, fmt.Errorf("introspection: %w", err)
	}
	return in, nil
}
