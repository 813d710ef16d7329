// Package metrics exports accountd's Prometheus metrics: HTTP request
// durations, the outcomes of logins, refreshes and revocations, rate-limit
// refusals, the bcrypt queue, and the PostgreSQL and Redis connection pools.
// Metrics implements the observer interfaces that the domain declares
// (account.Observer, security.HashObserver) so that the domain never
// imports Prometheus. Everything registers on a registry the caller makes:
// there is no global state.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/security"
)

// namespace prefixes every accountd metric.
const namespace = "accountd"

var (
	_ account.Observer      = (*Metrics)(nil)
	_ security.HashObserver = (*Metrics)(nil)
)

// Metrics holds accountd's own collectors.
type Metrics struct {
	requests *prometheus.HistogramVec
	// requestSeries caches the series of requests by requestKey, since
	// looking one up by its label values costs a hash of them, a lock and
	// the formatting of the status, per request. Its keys are bounded:
	// routes come from the router, methods are mapped into knownMethods,
	// statuses are the handlers'.
	requestSeries sync.Map // requestKey -> prometheus.Observer
	rateLimited   *prometheus.CounterVec
	logins        *prometheus.CounterVec
	refreshes     *prometheus.CounterVec
	revoked       *prometheus.CounterVec
	mfaLogins     *prometheus.CounterVec
	hashWait      *prometheus.HistogramVec
	hashDuration  *prometheus.HistogramVec
	hashBusy      *prometheus.CounterVec
	*KeyMetrics
}

// bcryptBuckets span bcrypt at cost 4 (about a millisecond) to a queue
// that waits out a request timeout.
var bcryptBuckets = prometheus.ExponentialBuckets(0.001, 2, 15) // 1ms .. 16s

// New makes accountd's collectors and registers them on reg, together with
// the Go runtime, process and build-info collectors.
func New(reg prometheus.Registerer, version string) *Metrics {
	m := &Metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern, method and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limited_total",
			Help: "Requests refused by a rate limit (429), by route pattern.",
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "logins_total",
			Help: "Login attempts, by outcome.",
		}, []string{"outcome"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "token_refreshes_total",
			Help: "Refresh attempts, by outcome (rotated: re-issued within the reuse grace period; reused: a replay that revoked its session).",
		}, []string{"outcome"}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "sessions_revoked_total",
			Help: "Sessions revoked, by reason.",
		}, []string{"reason"}),
		mfaLogins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "mfa_logins_total",
			Help: "Attempts to finish a login with a second factor, by factor (totp, recovery_code) and outcome.",
		}, []string{"factor", "outcome"}),
		hashWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "bcrypt", Name: "queue_wait_seconds",
			Help:    "Time bcrypt operations waited for a slot, by operation (hash, compare).",
			Buckets: bcryptBuckets,
		}, []string{"op"}),
		hashDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "bcrypt", Name: "duration_seconds",
			Help:    "Time bcrypt computations took, by operation (hash, compare).",
			Buckets: bcryptBuckets,
		}, []string{"op"}),
		hashBusy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "bcrypt", Name: "queue_timeouts_total",
			Help: "bcrypt operations that gave up waiting for a slot, by operation.",
		}, []string{"op"}),
	}
	// Every known label value starts at zero, so that rates and alerts work
	// before the first event.
	for _, o := range account.LoginOutcomes {
		m.logins.WithLabelValues(string(o))
	}
	for _, o := range account.RefreshOutcomes {
		m.refreshes.WithLabelValues(string(o))
	}
	for _, r := range account.RevokeReasons {
		m.revoked.WithLabelValues(string(r))
	}
	for _, f := range account.AllFactors {
		for _, o := range account.MFAOutcomes {
			m.mfaLogins.WithLabelValues(string(f), string(o))
		}
	}
	for _, op := range []string{security.OpHash, security.OpCompare} {
		m.hashBusy.WithLabelValues(op)
	}
	m.KeyMetrics = newKeyMetrics(reg)
	reg.MustRegister(m.requests, m.rateLimited, m.logins, m.refreshes, m.revoked, m.mfaLogins,
		m.hashWait, m.hashDuration, m.hashBusy,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "build_info",
			Help:        "Always 1; the version label says which build runs.",
			ConstLabels: prometheus.Labels{"version": version},
		}, func() float64 { return 1 }),
	)
	return m
}

// Handler serves the metrics that g gathers in Prometheus' text format.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// knownMethods are the methods that get their own label value; any other
// is counted as OTHER, so that clients cannot create series at will.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// requestKey names one series of the request durations.
type requestKey struct {
	route, method string
	status        int
}

// ObserveRequest records one answered HTTP request. route is the router's
// pattern (never the raw path, which would let clients create series).
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if !knownMethods[method] {
		method = "OTHER"
	}
	key := requestKey{route, method, status}
	o, ok := m.requestSeries.Load(key)
	if !ok {
		o, _ = m.requestSeries.LoadOrStore(key, m.requests.WithLabelValues(route, method, strconv.Itoa(status)))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
	if status == http.StatusTooManyRequests {
		m.rateLimited.WithLabelValues(route).Inc()
	}
}

// Login counts a login attempt.
func (m *Metrics) Login(outcome account.LoginOutcome) {
	m.logins.WithLabelValues(string(outcome)).Inc()
}

// Refresh counts a refresh attempt.
func (m *Metrics) Refresh(outcome account.RefreshOutcome) {
	m.refreshes.WithLabelValues(string(outcome)).Inc()
}

// SessionsRevoked counts revoked sessions.
func (m *Metrics) SessionsRevoked(reason account.RevokeReason, n int) {
	m.revoked.WithLabelValues(string(reason)).Add(float64(n))
}

// MFALogin counts an attempt to finish a login with a second factor.
func (m *Metrics) MFALogin(factor account.Factor, outcome account.MFAOutcome) {
	m.mfaLogins.WithLabelValues(string(factor), string(outcome)).Inc()
}

// HashWaited records how long a bcrypt operation queued for a slot.
func (m *Metrics) HashWaited(op string, wait time.Duration, acquired bool) {
	m.hashWait.WithLabelValues(op).Observe(wait.Seconds())
	if !acquired {
		m.hashBusy.WithLabelValues(op).Inc()
	}
}

// HashRan records how long a bcrypt computation took.
func (m *Metrics) HashRan(op string, d time.Duration) {
	m.hashDuration.WithLabelValues(op).Observe(d.Seconds())
}
