package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/accountd/accountd/internal/keys"
	"github.com/accountd/accountd/internal/security"
)

var _ security.TokenObserver = (*KeyMetrics)(nil)

// KeyMetrics are the metrics of the signing keys: how many keys are in
// each state, JWKS requests, and access tokens refused, by reason.
type KeyMetrics struct {
	refused *prometheus.CounterVec
	jwks    *prometheus.CounterVec
}

var keyStates = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "signing_keys"),
	"Signing keys, by state (next, current, retired, revoked; gone until deleted).", []string{"state"}, nil)

// keyCollector reports the key states at each scrape.
type keyCollector struct {
	counts func() map[keys.State]int
}

func (c keyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- keyStates }

func (c keyCollector) Collect(ch chan<- prometheus.Metric) {
	for state, n := range c.counts() {
		ch <- prometheus.MustNewConstMetric(keyStates, prometheus.GaugeValue, float64(n), string(state))
	}
}

// NewKeyMetrics makes the key metrics and registers them on reg; counts
// says how many keys are in each state (keys.Set.Counts), or is nil under
// HS* where there are none.
func NewKeyMetrics(reg prometheus.Registerer, counts func() map[keys.State]int) *KeyMetrics {
	m := &KeyMetrics{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "access_tokens_refused_total",
			Help: "Access tokens whose verification failed, by reason (unknown_kid, bad_signature, expired, revoked_key, ...).",
		}, []string{"reason"}),
		jwks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "jwks_requests_total",
			Help: "Requests of /.well-known/jwks.json, by status (200, or 304 for a matching If-None-Match).",
		}, []string{"status"}),
	}
	for _, r := range security.RefusalReasons {
		m.refused.WithLabelValues(r)
	}
	for _, s := range []string{"200", "304"} {
		m.jwks.WithLabelValues(s)
	}
	reg.MustRegister(m.refused, m.jwks)
	if counts != nil {
		reg.MustRegister(keyCollector{counts: counts})
	}
	return m
}

// TokenRefused counts an access token refused for reason.
func (m *KeyMetrics) TokenRefused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// JWKSServed counts a JWKS request.
func (m *KeyMetrics) JWKSServed(notModified bool) {
	status := "200"
	if notModified {
		status = "304"
	}
	m.jwks.WithLabelValues(status).Inc()
}
