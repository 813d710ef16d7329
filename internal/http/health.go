package http

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// healthTimeout bounds each dependency check of /health.
const healthTimeout = 2 * time.Second

// Check reports whether one dependency works.
type Check func(ctx context.Context) error

type healthBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// handleHealth runs every check at once and answers 200 when all pass, else
// 503 naming what is down.
func handleHealth(checks map[string]Check, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		body := healthBody{Status: "ok", Checks: make(map[string]string, len(checks))}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for name, check := range checks {
			wg.Go(func() {
				status := "ok"
				if err := check(ctx); err != nil {
					status = "unavailable"
					log.LogAttrs(ctx, slog.LevelWarn, "health check failed",
						slog.String("dependency", name), slog.String("error", err.Error()))
				}
				mu.Lock()
				defer mu.Unlock()
				body.Checks[name] = status
				if status != "ok" {
					body.Status = "unavailable"
				}
			})
		}
		wg.Wait()
		code := http.StatusOK
		if body.Status != "ok" {
			code = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", retryAfterSeconds)
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, code, body)
	})
}

func handleLivez() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

type rootBody struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Docs    string `json:"docs"`
}

func handleRoot(version string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, rootBody{Name: "accountd", Version: version, Docs: "/docs"})
	})
}
