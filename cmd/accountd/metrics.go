package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/config"
	accounthttp "github.com/accountd/accountd/internal/http"
	"github.com/accountd/accountd/internal/metrics"
)

// newMetrics makes this process's metrics registry, with accountd's
// collectors and the pools' statistics, and returns the collectors and the
// /metrics handler.
func newMetrics(pool *pgxpool.Pool, rdb goredis.UniversalClient) (*metrics.Metrics, http.Handler) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, version)
	reg.MustRegister(metrics.NewPoolCollector(pool, rdb))
	return m, metrics.Handler(reg)
}

// mainRouterMetrics returns h when /metrics belongs on the main router,
// that is when METRICS_ADDR is unset.
func mainRouterMetrics(cfg config.Config, h http.Handler) http.Handler {
	if cfg.MetricsAddr != "" {
		return nil
	}
	return h
}

// metricsStopTimeout bounds the shutdown of the metrics listener.
const metricsStopTimeout = 5 * time.Second

// startMetricsServer serves GET /metrics on METRICS_ADDR, when it is set,
// until the returned func is called. The main server's shutdown comes
// first, so that the drain can be watched.
func startMetricsServer(ctx context.Context, cfg config.Config, h http.Handler, log *slog.Logger) (stop func(), err error) {
	if cfg.MetricsAddr == "" {
		return func() {}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := accounthttp.NewServer(cfg.MetricsAddr, mux, cfg.RequestTimeout, log)
	addr, done, err := serveAside(ctx, "METRICS_ADDR", cfg.MetricsAddr, srv, log)
	if err != nil {
		return nil, err
	}
	log.Info("metrics listening", slog.String("addr", addr))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsStopTimeout)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// serveAside serves srv on a listener of its own at addr (the setting
// named setting), beside the API's, and returns the address it listens on
// and a channel closed when srv has stopped serving; a failure to serve is
// logged.
func serveAside(ctx context.Context, setting, addr string, srv *http.Server, log *slog.Logger) (string, <-chan struct{}, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", setting, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", slog.String("setting", setting), slog.String("error", err.Error()))
		}
	}()
	return ln.Addr().String(), done, nil
}
