// Package config loads accountd's configuration from the environment and an
// optional .env file, and checks it.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
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
	Algorithm              string        `env:"ALGORITHM" envDefault:"ES256"`
	AccessTokenExpire      int           `env:"ACCESS_TOKEN_EXPIRE_MINUTES" envDefault:"30"`
	RefreshTokenExpireDays int           `env:"REFRESH_TOKEN_EXPIRE_DAYS" envDefault:"7"`
	RefreshReuseGrace      time.Duration `env:"REFRESH_REUSE_GRACE" envDefault:"10s"`
	SessionMaxLifetime     time.Duration `env:"SESSION_MAX_LIFETIME" envDefault:"720h"`
	JWTIssuer              string        `env:"JWT_ISSUER"` // unset: PUBLIC_URL, else "accountd"
	JWTAudience            string        `env:"JWT_AUDIENCE"`
	BcryptCost             int           `env:"BCRYPT_COST" envDefault:"12"`
	// PasswordHash is the algorithm of new password hashes: bcrypt or
	// argon2id. Hashes of the other kind still work and are re-hashed at
	// the next good login.
	PasswordHash    string `env:"PASSWORD_HASH" envDefault:"bcrypt"`
	Argon2Memory    KiB    `env:"ARGON2_MEMORY" envDefault:"19MiB"`
	Argon2Time      int    `env:"ARGON2_TIME" envDefault:"2"`
	Argon2Threads   int    `env:"ARGON2_THREADS" envDefault:"1"`
	Argon2MaxMemory KiB    `env:"ARGON2_MAX_MEMORY" envDefault:"256MiB"`
	// BreachedPasswordsFile is a sorted Have I Been Pwned SHA1HEX:COUNT
	// file whose passwords new passwords must not be; empty turns the check
	// off.
	BreachedPasswordsFile string `env:"BREACHED_PASSWORDS_FILE"`

	// Signing keys and verification by other services.
	JWKSMaxAge           time.Duration `env:"JWKS_MAX_AGE" envDefault:"10m"`
	SigningKeyRotation   time.Duration `env:"SIGNING_KEY_ROTATION" envDefault:"720h"`
	PublicURL            string        `env:"PUBLIC_URL"`
	IntrospectionClients Clients       `env:"INTROSPECTION_CLIENTS"`

	// Passkeys (WebAuthn). WEBAUTHN_RP_ID unset: the host of PUBLIC_URL;
	// neither set: passkeys are off. WEBAUTHN_ORIGINS unset: PUBLIC_URL's
	// origin, else https://<WEBAUTHN_RP_ID>.
	WebAuthnRPID    string   `env:"WEBAUTHN_RP_ID"`
	WebAuthnRPName  string   `env:"WEBAUTHN_RP_NAME" envDefault:"accountd"`
	WebAuthnOrigins []string `env:"WEBAUTHN_ORIGINS" envSeparator:","`

	HTTPAddr        string        `env:"HTTP_ADDR" envDefault:":8000"`
	MetricsAddr     string        `env:"METRICS_ADDR"` // when set, /metrics is served there instead of on HTTP_ADDR
	RequestTimeout  time.Duration `env:"REQUEST_TIMEOUT" envDefault:"10s"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`
	// ShutdownDelay is how long /health answers 503 before the listener
	// closes, so that load balancers stop sending traffic first.
	ShutdownDelay time.Duration `env:"SHUTDOWN_DELAY" envDefault:"2s"`
	// PprofAddr, when set, serves net/http/pprof on a listener of its own
	// at this loopback address; empty turns profiling off.
	PprofAddr string `env:"PPROF_ADDR"`

	CleanupInterval  time.Duration `env:"CLEANUP_INTERVAL" envDefault:"1h"`
	CleanupRetention time.Duration `env:"CLEANUP_RETENTION" envDefault:"24h"`
	// AuditRetention is how long security events are kept.
	AuditRetention time.Duration `env:"AUDIT_RETENTION" envDefault:"2160h"`

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

// Argon2Params are the argon2id settings of ARGON2_*.
func (c Config) Argon2Params() security.Argon2Params {
	return security.Argon2Params{
		Memory: uint32(c.Argon2Memory), Time: uint32(c.Argon2Time), //nolint:gosec // G115: validated ranges
		Threads: uint8(c.Argon2Threads), MaxMemory: uint64(c.Argon2MaxMemory), //nolint:gosec // G115: validated ranges
	}
}

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
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.JWTIssuer == "" {
		c.JWTIssuer = defaultIssuer
		if c.PublicURL != "" {
			c.JWTIssuer = c.PublicURL
		}
	}
	c.defaultWebAuthn()
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// defaultIssuer is JWT_ISSUER when neither it nor PUBLIC_URL is set.
const defaultIssuer = "accountd"

// HMAC reports whether ALGORITHM is one of the HS* algorithms, which sign
// with SECRET_KEY instead of the published keys.
func (c Config) HMAC() bool { return strings.HasPrefix(c.Algorithm, "HS") }

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
			if f.Type == reflect.TypeFor[KiB]() {
				return fmt.Errorf("%s: %w", f.Tag.Get("env"), pe.Err) // says what a size looks like
			}
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
			fmt.Sprintf("at least %d bytes with ALGORITHM=%s (or unset)", security.MinKeyBytes(c.Algorithm), c.Algorithm)},
		{"ALGORITHM", oneOf(c.Algorithm, "ES256", "EdDSA", "RS256", "HS256", "HS384", "HS512"), "ES256, EdDSA, RS256, HS256, HS384 or HS512"},
		{"JWKS_MAX_AGE", c.JWKSMaxAge >= time.Second && c.JWKSMaxAge%time.Second == 0, "a whole number of seconds, at least 1s"},
		{"SIGNING_KEY_ROTATION", c.SigningKeyRotation == 0 || c.SigningKeyRotation >= 2*c.JWKSMaxAge, "0 (rotate by hand) or at least 2 x JWKS_MAX_AGE"},
		{"PUBLIC_URL", c.PublicURL == "" || absoluteURL(c.PublicURL), "an absolute http(s) URL such as https://auth.example.com, without query or fragment"},
		{"ACCESS_TOKEN_EXPIRE_MINUTES", c.AccessTokenExpire > 0, "a positive number of minutes"},
		{"REFRESH_TOKEN_EXPIRE_DAYS", c.RefreshTokenExpireDays > 0, "a positive number of days"},
		{"REFRESH_REUSE_GRACE", c.RefreshReuseGrace >= 0 && c.RefreshReuseGrace <= time.Hour, "a duration from 0s to 1h"},
		{"SESSION_MAX_LIFETIME", c.SessionMaxLifetime >= 0, "a duration, 0 for no limit"},
		{"JWT_ISSUER", c.JWTIssuer != "", "a non-empty issuer"},
		{"BCRYPT_COST", c.BcryptCost >= 4 && c.BcryptCost <= 31, "a bcrypt cost from 4 to 31"},
		{"PASSWORD_HASH", oneOf(c.PasswordHash, security.Bcrypt, security.Argon2id), "bcrypt or argon2id"},
		{"ARGON2_THREADS", c.Argon2Threads >= 1 && c.Argon2Threads <= 255, "a count of lanes from 1 to 255"},
		{"ARGON2_TIME", c.Argon2Time >= 1 && c.Argon2Time <= 1000, "a number of passes from 1 to 1000"},
		{"ARGON2_MEMORY", c.Argon2Memory >= KiB(8*max(c.Argon2Threads, 1)) && c.Argon2Memory <= 4<<20,
			fmt.Sprintf("a size from %dKiB (8KiB per lane) to 4GiB, such as 19MiB", 8*max(c.Argon2Threads, 1))},
		{"ARGON2_MAX_MEMORY", c.Argon2MaxMemory >= c.Argon2Memory, "a size no smaller than ARGON2_MEMORY, such as 256MiB"},
		{"HTTP_ADDR", c.HTTPAddr != "", "a listen address such as :8000"},
		{"PPROF_ADDR", c.PprofAddr == "" || loopbackAddr(c.PprofAddr),
			"empty (off) or a loopback listen address such as 127.0.0.1:6060 (profiles show the process's internals)"},
		{"REQUEST_TIMEOUT", c.RequestTimeout > 0, "a positive duration"},
		{"SHUTDOWN_TIMEOUT", c.ShutdownTimeout > 0, "a positive duration"},
		{"SHUTDOWN_DELAY", c.ShutdownDelay >= 0, "a duration of 0s or more"},
		{"CLEANUP_INTERVAL", c.CleanupInterval >= 0, "a duration (0s turns the in-process cleanup off)"},
		{"CLEANUP_RETENTION", c.CleanupRetention >= c.AccessTTL(), "a duration no shorter than ACCESS_TOKEN_EXPIRE_MINUTES"},
		{"AUDIT_RETENTION", c.AuditRetention > 0, "a positive duration"},
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
	if err := c.validateWebAuthn(); err != nil {
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

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil &&
		u.RawQuery == "" && u.Fragment == "" && !strings.Contains(s, "?") && !strings.Contains(s, "#")
}

// loopbackAddr reports whether addr is host:port with a loopback host
// (localhost or a loopback IP), so never all interfaces.
func loopbackAddr(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func oneOf(s string, options ...string) bool {
	for _, o := range options {
		if s == o {
			return true
		}
	}
	return false
}
