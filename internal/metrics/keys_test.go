package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/accountd/accountd/internal/keys"
	"github.com/accountd/accountd/internal/metrics"
)

func TestKeyMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m := metrics.New(reg, "v-test")
	m.WatchKeys(func() map[keys.State]int {
		return map[keys.State]int{keys.StateNext: 1, keys.StateCurrent: 1, keys.StateRetired: 2, keys.StateRevoked: 0, keys.StateGone: 0}
	})
	m.TokenRefused("unknown_kid")
	m.TokenRefused("unknown_kid")
	m.TokenRefused("expired")
	m.JWKSServed(false)
	m.JWKSServed(true)
	m.JWKSServed(true)
	want := `
# HELP accountd_signing_keys Signing keys, by state (next, current, retired, revoked; gone until deleted).
# TYPE accountd_signing_keys gauge
accountd_signing_keys{state="current"} 1
accountd_signing_keys{state="gone"} 0
accountd_signing_keys{state="next"} 1
accountd_signing_keys{state="retired"} 2
accountd_signing_keys{state="revoked"} 0
# HELP accountd_jwks_requests_total Requests of /.well-known/jwks.json, by status (200, or 304 for a matching If-None-Match).
# TYPE accountd_jwks_requests_total counter
accountd_jwks_requests_total{status="200"} 1
accountd_jwks_requests_total{status="304"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"accountd_signing_keys", "accountd_jwks_requests_total"); err != nil {
		t.Error(err)
	}
	refused := `
# HELP accountd_access_tokens_refused_total Access tokens whose verification failed, by reason (unknown_kid, bad_signature, expired, revoked_key, ...).
# TYPE accountd_access_tokens_refused_total counter
accountd_access_tokens_refused_total{reason="bad_algorithm"} 0
accountd_access_tokens_refused_total{reason="bad_signature"} 0
accountd_access_tokens_refused_total{reason="expired"} 1
accountd_access_tokens_refused_total{reason="invalid_claims"} 0
accountd_access_tokens_refused_total{reason="keys_unavailable"} 0
accountd_access_tokens_refused_total{reason="malformed"} 0
accountd_access_tokens_refused_total{reason="revoked_key"} 0
accountd_access_tokens_refused_total{reason="unknown_kid"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(refused), "accountd_access_tokens_refused_total"); err != nil {
		t.Error(err)
	}
}
