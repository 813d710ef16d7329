package main

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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
