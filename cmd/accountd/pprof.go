package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/accountd/accountd/internal/config"
)

// startPprofServer serves Go's profiles (net/http/pprof) on PPROF_ADDR, a
// loopback address that config.Load checked, when it is set, until the
// returned func is called. The listener is its own, so the profiles never
// reach the public port, and it has no write timeout: a CPU profile
// (/debug/pprof/profile?seconds=N) answers only after N seconds.
func startPprofServer(ctx context.Context, cfg config.Config, log *slog.Logger) (stop func(), err error) {
	if cfg.PprofAddr == "" {
		return func() {}, nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also the named profiles: heap, goroutine, allocs...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	addr, done, err := serveAside(ctx, "PPROF_ADDR", cfg.PprofAddr, srv, log)
	if err != nil {
		return nil, err
	}
	log.Warn("profiling listening: keep this address private", slog.String("addr", addr))
	return func() {
		// A profile in progress is cut short: it is a debugging aid.
		_ = srv.Close()
		<-done
	}, nil
}
