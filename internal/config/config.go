// Package config loads accountd's configuration from the environment and an
// optional .env file, and checks it.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"

	"github.com/accountd/accountd/internal/security"
)

// Secret is a string that never shows itself in logs or formatted output.
type Secret string

// String returns a placeholder, never the secret.
func (Secret) String() string { return "[redacted]" }

// GoString returns a placeholder, never the secret.
func (Secret) GoString() string { return `"[redacted]"` }

// Config is every setting of accountd. The env tags name the variables.
type Config struct {
	DatabaseURL    Secret `env:"DATABASE_URL" envDefault:"postgres://postgres@localhost:5432/accountd?sslmode=disable"`
	MigrateOnStart bool   `env:"MIGRATE_ON_START" envDefault:"true"`
	// DatabaseDirectURL, when set, reaches PostgreSQL directly (not through
	// a pooler such as PgBouncer) to create the database and migrate it.
	DatabaseDirectURL Secret `env:"DATABASE_DIRECT_URL"`
	// DatabaseQueryMode is pgx's query execution mode; empty keeps the
	// URL's default_query_exec_mode, else cache_statement.
	DatabaseQueryMode string `env:"DATABASE_QUERY_MODE"`
	// RedisURL is empty for the in-process Redis-compatible server.
	RedisURL       Secret `env:"REDIS_URL"`
	RedisKeyPrefix string `env:"REDIS_KEY_PREFIX" envDefault:"accountd:"`

	// SecretKey is empty when none was set; main then makes a random one.
	SecretKey              Secret        `env:"SECRET_KEY"`
	Algorithm              string        `env:"ALGORITHM" envDefault:"HS256"`
	AccessTokenExpire      int           `env:"ACCESS_TOKEN_EXPIRE_MINUTES" envDefault:"30"`
	RefreshTokenExpireDays int           `env:"REFRESH_TOKEN_EXPIRE_DAYS" envDefault:"7"`
	RefreshReuseGrace      time.Duration `env:"REFRESH_REUSE_GRACE" envDefault:"10s"`
	JWTIssuer              string        `env:"JWT_ISSUER" envDefault:"accountd"`
	JWTAudience            string        `env:"JWT_AUDIENCE"`
	BcryptCost             int           `env:"BCRYPT_COST" envDefault:"12"`

	HTTPAddr        string        `env:"HTTP_ADDR" envDefault:":8000"`
	MetricsAddr     string        `env:"METRICS_ADDR"` // when set, /metrics is served there instead of on HTTP_ADDR
	RequestTimeout  time.Duration `env:"REQUEST_TIMEOUT" envDefault:"10s"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`
	// ShutdownDelay is how long /health answers 503 before the listener
	// closes, so that load balancers stop sending traffic first.
	ShutdownDelay time.Duration `env:"SHUTDOWN_DELAY" envDefault:"2s"`

	CleanupInterval  time.Duration `env:"CLEANUP_INTERVAL" envDefault:"1h"`
	CleanupRetention time.Duration `env:"CLEANUP_RETENTION" envDefault:"24h"`

	CookieSecure   string `env:"COOKIE_SECURE" envDefault:"auto"`
	CookieSameSite string `env:"COOKIE_SAMESITE" envDefault:"lax"`
	CookieDomain   string `env:"COOKIE_DOMAIN"`

	CORSAllowedOrigins []string `env:"CORS_ALLOWED_ORIGINS" envSeparator:","`
	TrustedProxies     []string `env:"TRUSTED_PROXIES" envSeparator:","`
	// ClientIPHeader is the header a trusted proxy names the client in:
	// X-Forwarded-For, X-Real-IP, or none for the peer address. Set empty,
	// it is the default, as every variable is; Load spells it as listed.
	ClientIPHeader string `env:"CLIENT_IP_HEADER" envDefault:"X-Forwarded-For"`

	// Rate limits, kept in Redis so that they hold across instances; a
	// count of 0 turns a limit off.
	RateLimitIPRequests int           `env:"RATE_LIMIT_IP_REQUESTS" envDefault:"60"`
	RateLimitIPWindow   time.Duration `env:"RATE_LIMIT_IP_WINDOW" envDefault:"1m"`
	LoginMaxFailures    int           `env:"LOGIN_MAX_FAILURES" envDefault:"5"`
	LoginFailureWindow  time.Duration `env:"LOGIN_FAILURE_WINDOW" envDefault:"15m"`
	// BcryptQueueTimeout bounds the wait for a bcrypt slot; 0 waits until
	// the request times out.
	BcryptQueueTimeout time.Duration `env:"BCRYPT_QUEUE_TIMEOUT" envDefault:"3s"`

	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
	LogLevel  string `env:"LOG_LEVEL" envDefault:"info"`
}

// AccessTTL is the lifetime of access tokens.
func (c Config) AccessTTL() time.Duration { return time.Duration(c.AccessTokenExpire) * time.Minute }

// RefreshTTL is the lifetime of refresh tokens.
func (c Config) RefreshTTL() time.Duration {
	return time.Duration(c.RefreshTokenExpireDays) * 24 * time.Hour
}

// Load reads the configuration from environ (os.Environ's form), over the
// values of a .env file in the working directory when there is one. Its
// error names the variable that is wrong.
func Load(environ []string) (Config, error) {
	vars, err := readDotenv(".env")
	if err != nil {
		return Config{}, err
	}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Environment: vars}); err != nil {
		return Config{}, explain(err)
	}
	c.ClientIPHeader = canonicalClientIPHeader(c.ClientIPHeader)
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func readDotenv(path string) (map[string]string, error) {
	vars, err := godotenv.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return vars, nil
}

// explain turns env's errors, which name struct fields, into ones that name
// the variable.
func explain(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) || len(agg.Errors) == 0 {
		return err
	}
	var pe env.ParseError
	if errors.As(agg.Errors[0], &pe) {
		if f, ok := reflect.TypeFor[Config]().FieldByName(pe.Name); ok {
			return fmt.Errorf("%s: not a valid %s", f.Tag.Get("env"), pe.Type)
		}
	}
	return agg.Errors[0]
}

func (c Config) validate() error {
	checks := []struct {
		name string
		ok   bool
		want string
	}{
		{"DATABASE_QUERY_MODE", oneOf(c.DatabaseQueryMode, "", "cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"), "cache_statement, cache_describe, describe_exec, exec or simple_protocol (exec behind PgBouncer's transaction pooling)"},
		{"SECRET_KEY", c.SecretKey == "" || len(c.SecretKey) >= security.MinKeyBytes(c.Algorithm),
			fmt.Sprintf("at least %d bytes with ALGORITHM=%s (or unset for a random per-process key)", security.MinKeyBytes(c.Algorithm), c.Algorithm)},
		{"ALGORITHM", c.Algorithm == "HS256" || c.Algorithm == "HS384" || c.Algorithm == "HS512", "HS256, HS384 or HS512"},
		{"ACCESS_TOKEN_EXPIRE_MINUTES", c.AccessTokenExpire > 0, "a positive number of minutes"},
		{"REFRESH_TOKEN_EXPIRE_DAYS", c.RefreshTokenExpireDays > 0, "a positive number of days"},
		{"REFRESH_REUSE_GRACE", c.RefreshReuseGrace >= 0 && c.RefreshReuseGrace <= time.Hour, "a duration from 0s to 1h"},
		{"JWT_ISSUER", c.JWTIssuer != "", "a non-empty issuer"},
		{"BCRYPT_COST", c.BcryptCost >= 4 && c.BcryptCost <= 31, "a bcrypt cost from 4 to 31"},
		{"HTTP_ADDR", c.HTTPAddr != "", "a listen address such as :8000"},
		{"REQUEST_TIMEOUT", c.RequestTimeout > 0, "a positive duration"},
		{"SHUTDOWN_TIMEOUT", c.ShutdownTimeout > 0, "a positive duration"},
		{"SHUTDOWN_DELAY", c.ShutdownDelay >= 0, "a duration of 0s or more"},
		{"CLEANUP_INTERVAL", c.CleanupInterval >= 0, "a duration (0s turns the in-process cleanup off)"},
		{"CLEANUP_RETENTION", c.CleanupRetention >= c.AccessTTL(), "a duration no shorter than ACCESS_TOKEN_EXPIRE_MINUTES"},
		{"COOKIE_SECURE", oneOf(c.CookieSecure, "auto", "true", "false"), "auto, true or false"},
		{"COOKIE_SAMESITE", oneOf(strings.ToLower(c.CookieSameSite), "lax", "strict", "none"), "lax, strict or none"},
		{"COOKIE_SAMESITE", !strings.EqualFold(c.CookieSameSite, "none") || c.CookieSecure == "true", "not none unless COOKIE_SECURE=true (browsers drop SameSite=None cookies that are not Secure)"},
		{"RATE_LIMIT_IP_REQUESTS", c.RateLimitIPRequests >= 0, "a count of 0 or more (0 turns the limit off)"},
		{"RATE_LIMIT_IP_WINDOW", c.RateLimitIPWindow > 0, "a positive duration"},
		{"LOGIN_MAX_FAILURES", c.LoginMaxFailures >= 0, "a count of 0 or more (0 turns the limit off)"},
		{"LOGIN_FAILURE_WINDOW", c.LoginFailureWindow > 0, "a positive duration"},
		{"BCRYPT_QUEUE_TIMEOUT", c.BcryptQueueTimeout >= 0, "a duration of 0s or more (0s waits until REQUEST_TIMEOUT)"},
		{"CLIENT_IP_HEADER", oneOf(c.ClientIPHeader, "X-Forwarded-For", "X-Real-IP", "none"), "X-Forwarded-For, X-Real-IP or none"},
		{"LOG_FORMAT", oneOf(c.LogFormat, "json", "text"), "json or text"},
		{"LOG_LEVEL", oneOf(strings.ToLower(c.LogLevel), "debug", "info", "warn", "error"), "debug, info, warn or error"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Errorf("%s: want %s", ch.name, ch.want)
		}
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		return err
	}
	for _, o := range c.CORSAllowedOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Contains(o, "*") {
			return fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an origin such as https://app.example.com (no wildcards)", o)
		}
	}
	return nil
}

// TrustedProxyPrefixes parses TRUSTED_PROXIES: CIDRs or single addresses.
func (c Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR or an IP address", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// canonicalClientIPHeader spells a CLIENT_IP_HEADER as validate expects
// it, whatever its case.
func canonicalClientIPHeader(s string) string {
	switch s = strings.TrimSpace(s); {
	case strings.EqualFold(s, "none"):
		return "none"
	case strings.EqualFold(s, "X-Forwarded-For"):
		return "X-Forwarded-For"
	case strings.EqualFold(s, "X-Real-IP"):
		return "X-Real-IP"
	default:
		return s
	}
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}
