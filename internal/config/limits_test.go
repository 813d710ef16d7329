package config

import (
	"strings"
	"testing"
	"time"
)

func TestAbuseDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load(nil)
	if err != nil {
		t.Fatalf("Load(nil): %v", err)
	}
	if c.RateLimitIPRequests != 60 || c.RateLimitIPWindow != time.Minute {
		t.Fatalf("per-IP limit = %d per %v, want 60 per 1m", c.RateLimitIPRequests, c.RateLimitIPWindow)
	}
	if c.LoginMaxFailures != 5 || c.LoginFailureWindow != 15*time.Minute {
		t.Fatalf("login failures = %d per %v, want 5 per 15m", c.LoginMaxFailures, c.LoginFailureWindow)
	}
	if c.BcryptQueueTimeout != 3*time.Second || c.BcryptQueueTimeout >= c.RequestTimeout {
		t.Fatalf("BCRYPT_QUEUE_TIMEOUT = %v, want 3s, under REQUEST_TIMEOUT %v", c.BcryptQueueTimeout, c.RequestTimeout)
	}
	off, err := Load([]string{"RATE_LIMIT_IP_REQUESTS=0", "LOGIN_MAX_FAILURES=0", "BCRYPT_QUEUE_TIMEOUT=0s"})
	if err != nil || off.RateLimitIPRequests != 0 || off.LoginMaxFailures != 0 || off.BcryptQueueTimeout != 0 {
		t.Fatalf("Load with the limits off = %+v, %v", off, err)
	}
}

func TestAbuseSettingsErrorsNameTheVariable(t *testing.T) {
	t.Chdir(t.TempDir())
	for setting, name := range map[string]string{
		"RATE_LIMIT_IP_REQUESTS=-1":                      "RATE_LIMIT_IP_REQUESTS",
		"RATE_LIMIT_IP_REQUESTS=many":                    "RATE_LIMIT_IP_REQUESTS",
		"RATE_LIMIT_IP_WINDOW=0s":                        "RATE_LIMIT_IP_WINDOW",
		"LOGIN_MAX_FAILURES=-3":                          "LOGIN_MAX_FAILURES",
		"LOGIN_FAILURE_WINDOW=forever":                   "LOGIN_FAILURE_WINDOW",
		"LOGIN_FAILURE_WINDOW=-1m":                       "LOGIN_FAILURE_WINDOW",
		"BCRYPT_QUEUE_TIMEOUT=-1s":                       "BCRYPT_QUEUE_TIMEOUT",
		"CORS_ALLOWED_ORIGINS=*":                         "CORS_ALLOWED_ORIGINS",
		"CORS_ALLOWED_ORIGINS=https://*.example.com":     "CORS_ALLOWED_ORIGINS",
		"CORS_ALLOWED_ORIGINS=https://app.example.com/":  "CORS_ALLOWED_ORIGINS",
		"CORS_ALLOWED_ORIGINS=https://app.example.com?x": "CORS_ALLOWED_ORIGINS",
	} {
		_, err := Load([]string{setting})
		if err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("Load(%s) = %v, want an error naming %s", setting, err, name)
		}
	}
}
