package metrics

import (
	"sync/atomic"

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
	counts  atomic.Pointer[func() map[keys.State]int]
}

var keyStates = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "signing_keys"),
	"Signing keys, by state (next, current, retired, revoked; gone until deleted).", []string{"state"}, nil)

// keyCollector reports the key states at each scrape.
type keyCollector struct{ m *KeyMetrics }

func (c keyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- keyStates }

func (c keyCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.m.counts.Load()
	if counts == nil {
		return // HS*: no keys
	}
	for state, n := range (*counts)() {
		ch <- prometheus.MustNewConstMetric(keyStates, prometheus.GaugeValue, float64(n), string(state))
	}
}

// newKeyMetrics makes the key metrics and registers them on reg.
func newKeyMetrics(reg prometheus.Registerer) *KeyMetrics {
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
	reg.MustRegister(m.refused, m.jwks, keyCollector{m: m})
	return m
}

// WatchKeys makes the metrics report how many keys are in each state, from
// counts (keys.Set.Counts).
func (m *KeyMetrics) WatchKeys(counts func() map[keys.State]int) { m.counts.Store(&counts) }

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
