package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/postgres"
)

// This file is make bench-scale: the hot paths on a small database, then on
// one seeded (with COPY) to 1,000,000 accounts, 5,000,000 sessions and
// 10,000,000 refresh tokens, 100,000 of the sessions revoked in the last 30
// minutes; the revocation view's rebuild after a Redis restart; and the
// batched cleanup of 1,000,000 expired sessions under a refresh load.

// Targets of the big-table benchmark (issue 14).
const (
	targetBigRatio      = 0.90            // big-database rate over small-database rate
	targetRebuild       = 2 * time.Second // Redis restart to tokens accepted again
	targetLongestDelete = time.Second     // longest statement of the cleanup
	// accessTTL is the benchmarked service's access token lifetime (the
	// default): the view holds the revocations of the last accessTTL+1m.
	accessTTL = 30 * time.Minute
)

// hotStats are the hot paths' figures on one database, with the share of
// the CPUs that other processes took during each.
type hotStats struct {
	Me, Refresh, Login Stats
	OtherCPU           [3]float64
}

// runScale is the big-table benchmark. Whatever happens, it stops the
// processes it started and drops the database.
func runScale(ctx context.Context, o options, stdout io.Writer, logf func(string, ...any)) (err error) {
	started := time.Now()
	rs, err := startPrivateRedis(ctx)
	if err != nil {
		return err
	}
	defer rs.stop()
	o.redisURL = rs.url
	dbName, dbURL, dropDB, err := createDatabase(ctx, o.pgURL)
	if err != nil {
		return err
	}
	defer func() {
		if derr := dropDB(); derr != nil {
			err = errors.Join(err, derr)
		} else {
			logf("dropped database %s", dbName)
		}
	}()
	svc, err := startAccountd(ctx, o, dbURL, "accountd-bench:")
	if err != nil {
		return err
	}
	defer svc.stop()
	logf("accountd pid %d on %s; database %s; private redis-server %s", svc.proc.PID(), svc.base, dbName, rs.url)

	procs := runtime.GOMAXPROCS(0)
	accounts, err := svc.setupAccounts(ctx, meAccounts, 2*procs)
	if err != nil {
		return err
	}
	rep := &ScaleReport{Sizes: o.scaleSizes, GoVersion: runtime.Version(), GOMAXPROCS: procs,
		BcryptCost: o.bcryptCost, Duration: o.duration.String()}
	logf("small database: me, refresh, login for %s each", o.duration)
	budget := o.quietWait
	if rep.Small, err = hotPaths(ctx, o, svc, accounts, &budget); err != nil {
		return err
	}

	hash, err := passwordHash(ctx, dbURL, accounts[0].id)
	if err != nil {
		return err
	}
	logf("seeding %d accounts, %d sessions, %d refresh tokens with COPY", o.scaleSizes.Accounts,
		o.scaleSizes.Sessions, o.scaleSizes.Tokens())
	if rep.Seed, err = seedBig(ctx, dbURL, o.scaleSizes, hash, time.Now(), logf); err != nil {
		return err
	}
	if rep.View, err = measureView(ctx, dbURL); err != nil {
		return err
	}
	logf("revocation view: %d sessions loaded in %s, %.1f MiB", rep.View.Sessions, rep.View.Query, rep.View.HeapMiB)
	if rep.View.Rebuild, err = restartRedis(ctx, rs, svc, accounts[0].access); err != nil {
		return err
	}
	logf("redis restarted: tokens accepted again after %s", rep.View.Rebuild)

	logf("big database: me, refresh, login for %s each", o.duration)
	if rep.Big, err = hotPaths(ctx, o, svc, accounts, &budget); err != nil {
		return err
	}
	logf("cleanup of %d expired sessions under a refresh load", o.scaleSizes.Expired)
	if rep.Cleanup, err = measureCleanup(ctx, o, svc, dbURL, accounts); err != nil {
		return err
	}
	if rep.Memory, err = svc.memory(); err != nil {
		return err
	}
	rep.Elapsed = time.Since(started).Round(time.Second).String()
	rep.Print(stdout)
	return rep.WriteJSON(strings.TrimSuffix(o.out, ".json") + "-scale.json")
}

// hotPaths measures /me (32 connections), refresh (16 workers, each
// rotating its own session) and login (2 x GOMAXPROCS connections), each
// once other processes leave the CPUs idle (within the run's budget).
func hotPaths(ctx context.Context, o options, svc *runningService, accounts []account, budget *time.Duration) (hotStats, error) {
	load := func(workers int) Load { return Load{Workers: workers, Warmup: o.warmup, Duration: o.duration} }
	watch := cpuWatch{ours: func() []int { return []int{os.Getpid(), svc.proc.PID()} }}
	var h hotStats
	sessions, err := svc.loginAll(ctx, accounts[:refreshWorkers], 2*runtime.GOMAXPROCS(0))
	if err != nil {
		return h, err
	}
	for i, run := range []func(){
		func() { h.Me = load(meConnsLow).Run(ctx, svc.meJobs(accounts)) },
		func() { h.Refresh = load(refreshWorkers).Run(ctx, svc.refreshJobs(sessions)) },
		func() { h.Login = load(2*runtime.GOMAXPROCS(0)).Run(ctx, svc.loginJobs(accounts[:loginAccounts])) },
	} {
		watch.waitQuiet(ctx, budget)
		snap := watch.snapshot()
		run()
		h.OtherCPU[i] = watch.otherPercent(snap)
	}
	return h, svc.proc.Exited()
}

// passwordHash returns the stored hash of a benchmark account, so that the
// seeded accounts have the benchmark password too.
func passwordHash(ctx context.Context, dbURL, accountID string) (string, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var h string
	err = conn.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE account_id = $1`, accountID).Scan(&h)
	return h, err
}

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
	res, err := postgres.Cleanup(ctx, pool, time.Now(), 24*time.Hour)
	f.Took = time.Since(start)
	wg.Wait()
	if err != nil {
		return f, err
	}
	f.Sessions, f.RefreshTokens, f.Batches, f.Longest = res.Sessions, res.RefreshTokens, res.Batches, tracer.max()
	return f, nil
}

// longestQuery is a pgx tracer that keeps the longest query's duration.
type longestQuery struct {
	mu      sync.Mutex
	longest time.Duration
}

type queryStartKey struct{}

func (l *longestQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, queryStartKey{}, time.Now())
}

func (l *longestQuery) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if start, ok := ctx.Value(queryStartKey{}).(time.Time); ok {
		l.mu.Lock()
		l.longest = max(l.longest, time.Since(start))
		l.mu.Unlock()
	}
}

func (l *longestQuery) max() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.longest
}

// privateRedis is a redis-server of the benchmark's own, which it restarts.
type privateRedis struct {
	url, addr, port string
	proc            *process
}

func startPrivateRedis(ctx context.Context) (*privateRedis, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	r := &privateRedis{url: "redis://" + addr + "/0", addr: addr, port: addr[strings.LastIndex(addr, ":")+1:]}
	return r, r.start(ctx)
}

// start starts the server, empty, and waits until it answers.
func (r *privateRedis) start(ctx context.Context) error {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("redis-server is not installed (run make services): %w", err)
	}
	r.proc, err = startProcess(ctx, "redis-server", path, []string{"--port", r.port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning"}, nil, "")
	if err != nil {
		return err
	}
	c := goredis.NewClient(&goredis.Options{Addr: r.addr})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(ctx).Err() != nil; {
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer within 10s", r.addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

func (r *privateRedis) stop() { r.proc.Stop(5 * time.Second) }
