package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/accountd/accountd/internal/config"
)

// TestInsecureCookieWarning shows that start-up warns once when
// COOKIE_SECURE=auto can never mark a cookie Secure (no trusted proxy to
// say the client used https), and stays quiet otherwise.
func TestInsecureCookieWarning(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := []struct {
		env  []string
		want int
	}{
		{nil, 1}, // COOKIE_SECURE defaults to auto
		{[]string{"COOKIE_SECURE=auto", "TRUSTED_PROXIES=10.0.0.0/8"}, 0},
		{[]string{"COOKIE_SECURE=true"}, 0},
		{[]string{"COOKIE_SECURE=false"}, 0},
	}
	for _, tc := range cases {
		cfg, err := config.Load(tc.env)
		if err != nil {
			t.Fatalf("Load(%v): %v", tc.env, err)
		}
		var out bytes.Buffer
		proxies, _ := cfg.TrustedProxyPrefixes()
		warnInsecureCookies(cfg, proxies, newLogger(cfg, &out))
		lines := 0
		for line := range strings.Lines(out.String()) {
			if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, "will not be marked Secure") &&
				strings.Contains(line, "TRUSTED_PROXIES") {
				lines++
			}
		}
		if lines != tc.want {
			t.Errorf("env %v: %d warnings about insecure cookies, want %d; log:\n%s", tc.env, lines, tc.want, out.String())
		}
	}
}

// TestServeWarnsOfInsecureCookies shows that serve logs the warning once
// when it starts with the defaults.
func TestServeWarnsOfInsecureCookies(t *testing.T) {
	t.Parallel()
	in := start(t, baseEnv(t))
	if n := strings.Count(in.Logs.String(), "will not be marked Secure"); n != 1 {
		t.Fatalf("serve logged %d warnings about insecure cookies, want 1; log:\n%s", n, in.Logs)
	}
}
