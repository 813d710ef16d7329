package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
)

// PoolCollector reports the connection pools of PostgreSQL (pgxpool) and
// Redis (go-redis) at each scrape, from their own statistics.
type PoolCollector struct {
	pg    *pgxpool.Pool
	redis interface{ PoolStats() *goredis.PoolStats }
}

var _ prometheus.Collector = (*PoolCollector)(nil)

// NewPoolCollector returns a collector of pg's and rdb's pool statistics;
// either may be nil.
func NewPoolCollector(pg *pgxpool.Pool, rdb goredis.UniversalClient) *PoolCollector {
	c := &PoolCollector{pg: pg}
	if rdb != nil {
		c.redis = rdb
	}
	return c
}

func desc(subsystem, name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help, nil, nil)
}

var (
	pgAcquired      = desc("pgx_pool", "acquired_conns", "Connections in use.")
	pgIdle          = desc("pgx_pool", "idle_conns", "Idle connections.")
	pgConstructing  = desc("pgx_pool", "constructing_conns", "Connections being opened.")
	pgTotal         = desc("pgx_pool", "total_conns", "Connections open or being opened.")
	pgMax           = desc("pgx_pool", "max_conns", "Most connections the pool opens.")
	pgAcquires      = desc("pgx_pool", "acquires_total", "Connections acquired from the pool.")
	pgAcquireWait   = desc("pgx_pool", "acquire_duration_seconds_total", "Time spent acquiring connections.")
	pgEmptyAcquires = desc("pgx_pool", "empty_acquires_total", "Acquires that had to wait for a connection.")
	pgEmptyWait     = desc("pgx_pool", "empty_acquire_wait_seconds_total", "Time spent waiting for a connection when none was idle.")
	pgCanceled      = desc("pgx_pool", "canceled_acquires_total", "Acquires canceled by their context.")
	pgNewConns      = desc("pgx_pool", "new_conns_total", "Connections opened.")

	redisTotal    = desc("redis_pool", "total_conns", "Connections in the pool.")
	redisIdle     = desc("redis_pool", "idle_conns", "Idle connections.")
	redisPending  = desc("redis_pool", "pending_requests", "Requests waiting for a connection.")
	redisHits     = desc("redis_pool", "hits_total", "Times an idle connection was found in the pool.")
	redisMisses   = desc("redis_pool", "misses_total", "Times no idle connection was found in the pool.")
	redisTimeouts = desc("redis_pool", "timeouts_total", "Times waiting for a connection timed out.")
	redisWaits    = desc("redis_pool", "waits_total", "Times a request waited for a connection.")
	redisWaitTime = desc("redis_pool", "wait_duration_seconds_total", "Time spent waiting for a connection.")
	redisStale    = desc("redis_pool", "stale_conns_total", "Stale connections removed from the pool.")
)

// Describe sends the descriptions of every pool metric.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		pgAcquired, pgIdle, pgConstructing, pgTotal, pgMax, pgAcquires, pgAcquireWait,
		pgEmptyAcquires, pgEmptyWait, pgCanceled, pgNewConns,
		redisTotal, redisIdle, redisPending, redisHits, redisMisses, redisTimeouts, redisWaits,
		redisWaitTime, redisStale,
	} {
		ch <- d
	}
}

// Collect reads the pools' statistics.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	if c.pg != nil {
		s := c.pg.Stat()
		gauge(pgAcquired, float64(s.AcquiredConns()))
		gauge(pgIdle, float64(s.IdleConns()))
		gauge(pgConstructing, float64(s.ConstructingConns()))
		gauge(pgTotal, float64(s.TotalConns()))
		gauge(pgMax, float64(s.MaxConns()))
		counter(pgAcquires, float64(s.AcquireCount()))
		counter(pgAcquireWait, s.AcquireDuration().Seconds())
		counter(pgEmptyAcquires, float64(s.EmptyAcquireCount()))
		counter(pgEmptyWait, s.EmptyAcquireWaitTime().Seconds())
		counter(pgCanceled, float64(s.CanceledAcquireCount()))
		counter(pgNewConns, float64(s.NewConnsCount()))
	}
	if c.redis != nil {
		s := c.redis.PoolStats()
		gauge(redisTotal, float64(s.TotalConns))
		gauge(redisIdle, float64(s.IdleConns))
		gauge(redisPending, float64(s.PendingRequests))
		counter(redisHits, float64(s.Hits))
		counter(redisMisses, float64(s.Misses))
		counter(redisTimeouts, float64(s.Timeouts))
		counter(redisWaits, float64(s.WaitCount))
		counter(redisWaitTime, float64(s.WaitDurationNs)/1e9)
		counter(redisStale, float64(s.StaleConns))
	}
}
