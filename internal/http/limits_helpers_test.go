package http_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// wantTooMany fails unless r is a 429 too_many_attempts in the contract's
// shape whose Retry-After is a whole number of seconds from lo to hi.
func wantTooMany(t *testing.T, what string, r response, lo, hi int) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("%s: status = %d, want 429 (body %s)", what, r.Status, r.Body)
	}
	wantErrorBody(t, r, "too_many_attempts")
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < lo || ra > hi {
		t.Fatalf("%s: Retry-After = %q, want %d to %d seconds", what, r.Header.Get("Retry-After"), lo, hi)
	}
}

// wantUnavailable fails unless r is a 503 service_unavailable with a
// Retry-After.
func wantUnavailable(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("%s: status = %d, want 503 (body %s)", what, r.Status, r.Body)
	}
	wantErrorBody(t, r, "service_unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Fatalf("%s: 503 without Retry-After", what)
	}
}

// redisKeys lists the keys under the instance's prefix that start with
// prefix+pattern (a SCAN pattern).
func (a *testAPI) redisKeys(t *testing.T, pattern string) []string {
	t.Helper()
	keys, err := a.rdb.Keys(context.Background(), a.prefix+pattern).Result()
	if err != nil {
		t.Fatalf("KEYS %s: %v", a.prefix+pattern, err)
	}
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, a.prefix)
	}
	return keys
}
