package main

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/accountd/accountd/internal/postgres"
)

// The big-table benchmark's measurements of the revocation view and of
// cleanup.

// ViewFigures are the revocation view's costs on the big database.
type ViewFigures struct {
	Sessions int           `json:"revoked_sessions"`
	Query    time.Duration `json:"query_ns"`    // reading them from PostgreSQL, in this process
	HeapMiB  float64       `json:"heap_mib"`    // the Go heap that a view of them takes, in this process
	Rebuild  time.Duration `json:"rebuild_ns"`  // from a Redis restart until accountd accepts tokens again
	RSSKiB   int64         `json:"rss_kib_end"` // accountd's RSS after the rebuild
}

// measureView reads the revocations a view loads, as the view does, and
// measures the time and the heap that a map of them takes.
func measureView(ctx context.Context, dbURL string) (ViewFigures, error) {
	pool, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return ViewFigures{}, err
	}
	defer pool.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	list, err := postgres.NewSessionStore(pool).RevokedSince(ctx, time.Now().Add(-accessTTL-time.Minute))
	if err != nil {
		return ViewFigures{}, err
	}
	view := make(map[string]time.Time, len(list))
	for _, r := range list {
		view[r.SessionID] = r.RevokedAt.Add(accessTTL + time.Minute)
	}
	took := time.Since(start)
	clear(list)
	runtime.GC()
	runtime.ReadMemStats(&after)
	f := ViewFigures{Sessions: len(view), Query: took,
		HeapMiB: (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / (1 << 20)}
	runtime.KeepAlive(view)
	return f, nil
}

// restartRedis restarts the private Redis empty and returns how long
// accountd took to accept a token again: its revocation feed resubscribes
// and the view is rebuilt from PostgreSQL first.
func restartRedis(ctx context.Context, rs *privateRedis, svc *runningService, access string) (time.Duration, error) {
	rs.proc.Stop(5 * time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	me := func() int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, svc.base+pathMe, nil) //nolint:gosec // G704: loopback
		req.Header.Set("Authorization", "Bearer "+access)
		st, _ := do(client, req)
		return st
	}
	for deadline := time.Now().Add(10 * time.Second); me() == http.StatusOK; {
		if time.Now().After(deadline) {
			return 0, errors.New("accountd still accepts tokens 10s after Redis stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := rs.start(ctx); err != nil {
		return 0, err
	}
	start := time.Now()
	for me() != http.StatusOK {
		if time.Since(start) > time.Minute {
			return 0, errors.New("accountd did not accept tokens within a minute of Redis coming back")
		}
		if err := svc.proc.Exited(); err != nil {
			return 0, err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start), nil
}

// CleanupFigures are what the batched cleanup of the big database did.
type CleanupFigures struct {
	Sessions      int64         `json:"sessions_deleted"`
	RefreshTokens int64         `json:"refresh_tokens_deleted"`
	Batches       int           `json:"batches"`
	Took          time.Duration `json:"took_ns"`
	Longest       time.Duration `json:"longest_statement_ns"`
	LongestSQL    string        `json:"longest_statement"`
	OverTarget    int           `json:"statements_over_1s"`
	Refresh       Stats         `json:"refresh_during_cleanup"`
}

// measureCleanup runs one cleanup pass, as an instance does, while 16
// workers refresh, and records the longest statement it ran.
func measureCleanup(ctx context.Context, o options, svc *runningService, dbURL string, accounts []account) (CleanupFigures, error) {
	cfg, err := postgres.ParseConfig(dbURL)
	if err != nil {
		return CleanupFigures{}, err
	}
	tracer := &longestQuery{}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return CleanupFigures{}, err
	}
	defer pool.Close()
	sessions, err := svc.loginAll(ctx, accounts[:refreshWorkers], 2*runtime.GOMAXPROCS(0))
	if err != nil {
		return CleanupFigures{}, err
	}
	var f CleanupFigures
	var wg sync.WaitGroup
	wg.Go(func() {
		f.Refresh = Load{Workers: refreshWorkers, Warmup: 0, Duration: o.duration}.Run(ctx, svc.refreshJobs(sessions))
	})
	start := time.Now()
	res, err := postgres.Cleanup(ctx, pool, time.Now(), 24*time.Hour, 90*24*time.Hour)
	f.Took = time.Since(start)
	wg.Wait()
	if err != nil {
		return f, err
	}
	f.Sessions, f.RefreshTokens, f.Batches = res.Sessions, res.RefreshTokens, res.Batches
	tracer.mu.Lock()
	f.Longest, f.LongestSQL, f.OverTarget = tracer.longest, tracer.sql, tracer.over
	tracer.mu.Unlock()
	return f, nil
}

// longestQuery is a pgx tracer that keeps the longest query's duration
// and text, and counts the queries over targetLongestDelete.
type longestQuery struct {
	mu      sync.Mutex
	longest time.Duration
	sql     string
	over    int
}

type queryStartKey struct{}

type queryStart struct {
	at  time.Time
	sql string
}

func (l *longestQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, queryStartKey{}, queryStart{at: time.Now(), sql: d.SQL})
}

func (l *longestQuery) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	start, ok := ctx.Value(queryStartKey{}).(queryStart)
	if !ok {
		return
	}
	took := time.Since(start.at)
	l.mu.Lock()
	defer l.mu.Unlock()
	if took > l.longest {
		l.longest, l.sql = took, strings.Join(strings.Fields(start.sql), " ")
	}
	if took > targetLongestDelete {
		l.over++
	}
}
