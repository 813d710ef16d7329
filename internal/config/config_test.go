package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load(nil)
	if err != nil {
		t.Fatalf("Load(nil): %v", err)
	}
	if c.HTTPAddr != ":8000" || c.Algorithm != "ES256" || c.BcryptCost != 12 || c.JWTIssuer != "accountd" {
		t.Fatalf("defaults = %+v", c)
	}
	if c.AccessTTL() != 30*time.Minute || c.RefreshTTL() != 7*24*time.Hour || c.RefreshReuseGrace != 10*time.Second {
		t.Fatalf("lifetimes = %v, %v, %v; want 30m, 168h, 10s", c.AccessTTL(), c.RefreshTTL(), c.RefreshReuseGrace)
	}
	if c.JWKSMaxAge != 10*time.Minute || c.SigningKeyRotation != 720*time.Hour || c.PublicURL != "" || len(c.IntrospectionClients) != 0 {
		t.Fatalf("key defaults = %v, %v, %q, %v", c.JWKSMaxAge, c.SigningKeyRotation, c.PublicURL, c.IntrospectionClients)
	}
	if !strings.HasPrefix(string(c.DatabaseURL), "postgres://postgres@localhost:5432/accountd") || c.RedisURL != "" {
		t.Fatalf("storage defaults = %q, %q", c.DatabaseURL, c.RedisURL)
	}
}

func TestLoadDotenvUnderEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	dotenv := "BCRYPT_COST=10\nJWT_ISSUER=from-file\n# a comment\nCORS_ALLOWED_ORIGINS=https://a.example,http://localhost:3000\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"JWT_ISSUER=from-env"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.BcryptCost != 10 || c.JWTIssuer != "from-env" {
		t.Fatalf("BCRYPT_COST %d, JWT_ISSUER %q; want 10 from .env and from-env from the environment", c.BcryptCost, c.JWTIssuer)
	}
	if len(c.CORSAllowedOrigins) != 2 || c.CORSAllowedOrigins[1] != "http://localhost:3000" {
		t.Fatalf("CORS_ALLOWED_ORIGINS = %v", c.CORSAllowedOrigins)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := map[string]string{
		"BCRYPT_COST=twelve":                  "BCRYPT_COST",
		"BCRYPT_COST=3":                       "BCRYPT_COST",
		"SECRET_KEY=too-short":                "SECRET_KEY",
		"ALGORITHM=none":                      "ALGORITHM",
		"ACCESS_TOKEN_EXPIRE_MINUTES=0":       "ACCESS_TOKEN_EXPIRE_MINUTES",
		"REFRESH_TOKEN_EXPIRE_DAYS=-1":        "REFRESH_TOKEN_EXPIRE_DAYS",
		"REFRESH_REUSE_GRACE=soon":            "REFRESH_REUSE_GRACE",
		"REQUEST_TIMEOUT=0s":                  "REQUEST_TIMEOUT",
		"COOKIE_SECURE=maybe":                 "COOKIE_SECURE",
		"COOKIE_SAMESITE=none":                "COOKIE_SAMESITE",
		"LOG_FORMAT=xml":                      "LOG_FORMAT",
		"TRUSTED_PROXIES=10.0.0.0/8,nonsense": "TRUSTED_PROXIES",
		"CLIENT_IP_HEADER=X-Client-IP":        "CLIENT_IP_HEADER",
		"CORS_ALLOWED_ORIGINS=*":              "CORS_ALLOWED_ORIGINS",
		"MIGRATE_ON_START=perhaps":            "MIGRATE_ON_START",
		"CLEANUP_RETENTION=1m":                "CLEANUP_RETENTION",
		"JWKS_MAX_AGE=500ms":                  "JWKS_MAX_AGE",
		"SIGNING_KEY_ROTATION=15m":            "SIGNING_KEY_ROTATION",
		"PUBLIC_URL=auth.example.com":         "PUBLIC_URL",
		"INTROSPECTION_CLIENTS=a:x,a:y":       "INTROSPECTION_CLIENTS",
		"INTROSPECTION_CLIENTS=nosecret":      "INTROSPECTION_CLIENTS",
		"PPROF_ADDR=:6060":                    "PPROF_ADDR", // every interface
		"PPROF_ADDR=0.0.0.0:6060":             "PPROF_ADDR",
		"PPROF_ADDR=10.0.0.5:6060":            "PPROF_ADDR",
		"PPROF_ADDR=127.0.0.1":                "PPROF_ADDR", // no port
	}
	for setting, name := range cases {
		_, err := Load([]string{setting})
		if err == nil || !strings.HasPrefix(err.Error(), name+":") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Load(%s) error = %v, want one line starting with %s:", setting, err, name)
		}
	}
}

func TestPprofAddr(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load(nil)
	if err != nil || c.PprofAddr != "" {
		t.Fatalf("Load(nil): PPROF_ADDR = %q, %v; want empty (profiling off)", c.PprofAddr, err)
	}
	for _, addr := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060", "127.0.0.1:0"} {
		c, err := Load([]string{"PPROF_ADDR=" + addr})
		if err != nil || c.PprofAddr != addr {
			t.Errorf("Load(PPROF_ADDR=%s): PPROF_ADDR = %q, %v; want it accepted", addr, c.PprofAddr, err)
		}
	}
}

func TestTrustedProxyPrefixes(t *testing.T) {
	c := Config{TrustedProxies: []string{"10.0.0.0/8", " 192.0.2.7 ", "::1"}}
	got, err := c.TrustedProxyPrefixes()
	if err != nil || len(got) != 3 || got[1].String() != "192.0.2.7/32" || got[2].String() != "::1/128" {
		t.Fatalf("TrustedProxyPrefixes = %v, %v", got, err)
	}
}

func TestClientIPHeader(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := map[string]string{
		"":                                 "X-Forwarded-For", // unset
		"CLIENT_IP_HEADER=X-Forwarded-For": "X-Forwarded-For",
		"CLIENT_IP_HEADER=x-real-ip":       "X-Real-IP",
		"CLIENT_IP_HEADER=None":            "none",
		"CLIENT_IP_HEADER=":                "X-Forwarded-For", // empty is the default, as for every variable
	}
	for setting, want := range cases {
		var environ []string
		if setting != "" {
			environ = []string{setting}
		}
		c, err := Load(environ)
		if err != nil || c.ClientIPHeader != want {
			t.Errorf("Load(%q): CLIENT_IP_HEADER = %q, %v; want %q", setting, c.ClientIPHeader, err, want)
		}
	}
}

func TestSecretsAreRedacted(t *testing.T) {
	c := Config{SecretKey: "super-secret-signing-key-value-123", DatabaseURL: "postgres://u:pw@h/db"}
	for _, out := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(c.SecretKey)} {
		if strings.Contains(out, "super-secret") || strings.Contains(out, "pw@") {
			t.Fatalf("formatted config shows a secret: %s", out)
		}
	}
}
