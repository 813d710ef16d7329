// Command accountd-bench is the benchmark harness behind make bench. It
// starts a built accountd as a subprocess with production settings against a
// fresh PostgreSQL database and the local Redis, drives it with a closed-loop
// HTTP load generator (N workers, one keep-alive connection each), measures
// baselines in the same run (a bare net/http handler in a subprocess, raw
// bcrypt, pgbench replaying one refresh rotation and a minimal one), drives
// me and the bare handler with wrk too, times accountd's start-up, prints one
// table and writes the same figures as JSON.
//
// Usage:
//
//	accountd-bench -accountd bin/accountd [-duration 8s] [-out bench/results.json] [-quick] [-profile DIR]
//
// It exits non-zero only when the harness fails; a missed target is a FAIL
// row. All load stays on 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	accountd   string
	duration   time.Duration
	warmup     time.Duration
	bcryptFor  time.Duration
	out        string
	quietWait  time.Duration
	retries    int
	quick      bool
	bcryptCost int
	pgURL      string
	redisURL   string
	pgbench    string
	script     string
	// minimalScript is the fixed minimal rotation (issue 10).
	minimalScript string
	wrk           string
	// profileDir, when set, receives CPU profiles of me (wrk) and refresh@32.
	profileDir string
	// scale runs the big-table benchmark (make bench-scale) instead.
	scale      bool
	scaleSizes scaleSizes
}

func main() {
	// The bare baseline server is this binary re-executed; the flag is
	// hidden from -help.
	if len(os.Args) == 3 && os.Args[1] == "-bare-server" {
		if err := serveBare(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "accountd-bench:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "accountd-bench:", err)
		os.Exit(1)
	}
}

// parseFlags reads args into options and checks them.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("accountd-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.accountd, "accountd", "bin/accountd", "path of the accountd binary to benchmark")
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "measured time per scenario (after a warm-up)")
	fs.StringVar(&o.out, "out", "bench/results.json", "where to write the results as JSON")
	fs.DurationVar(&o.quietWait, "quiet-wait", time.Minute,
		"before each step, wait (at most this long over the whole run) until other processes leave the CPUs idle")
	fs.IntVar(&o.retries, "retries", 3, "how many steps may run again because other processes took the CPUs meanwhile")
	fs.BoolVar(&o.quick, "quick", false, "a short smoke run (1.5s per scenario unless -duration is given)")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", 12, "BCRYPT_COST of the service and of the bcrypt baseline")
	fs.StringVar(&o.pgURL, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL server (loopback) on which a fresh database is created and dropped")
	fs.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6379/0", "Redis (loopback) for the service")
	fs.StringVar(&o.pgbench, "pgbench", "pgbench", "pgbench binary")
	fs.StringVar(&o.script, "script", "bench/rotation.sql", "pgbench script replaying one rotation")
	fs.StringVar(&o.minimalScript, "minimal-script", "bench/rotation_minimal.sql",
		"pgbench script of the minimal rotation (mark one token used, insert its child)")
	fs.StringVar(&o.wrk, "wrk", "wrk", "wrk binary (make bench installs Debian's wrk)")
	fs.StringVar(&o.profileDir, "profile", "",
		"directory that receives CPU profiles of accountd during me (wrk) and refresh@32 (me.pprof, refresh.pprof)")
	fs.BoolVar(&o.scale, "scale", false, "run the big-table benchmark (make bench-scale) instead")
	fs.IntVar(&o.scaleSizes.Accounts, "scale-accounts", 1_000_000, "accounts seeded for -scale")
	fs.IntVar(&o.scaleSizes.Sessions, "scale-sessions", 5_000_000, "sessions seeded for -scale (each with 2 refresh tokens)")
	fs.IntVar(&o.scaleSizes.Expired, "scale-expired", 1_000_000, "of those, sessions expired long ago, for cleanup")
	fs.IntVar(&o.scaleSizes.Revoked, "scale-revoked", 100_000, "of those, sessions revoked in the last 30 minutes")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.warmup, o.bcryptFor = time.Second, o.duration/2
	if o.quick {
		if !set["duration"] {
			o.duration = 1500 * time.Millisecond
		}
		if !set["quiet-wait"] {
			o.quietWait = 10 * time.Second
		}
		if !set["retries"] {
			o.retries = 1
		}
		o.warmup, o.bcryptFor = 250*time.Millisecond, time.Second
	}
	switch {
	case o.duration < time.Second || o.duration > 10*time.Minute:
		return o, errors.New("-duration: want 1s to 10m")
	case o.quietWait < 0 || o.quietWait > 2*time.Minute:
		return o, errors.New("-quiet-wait: want 0s to 2m")
	case o.retries < 0 || o.retries > 10:
		return o, errors.New("-retries: want 0 to 10")
	case o.bcryptCost < 4 || o.bcryptCost > 31:
		return o, errors.New("-bcrypt-cost: want 4 to 31")
	case o.scale && (o.scaleSizes.Accounts < 1 || o.scaleSizes.Expired+o.scaleSizes.Revoked > o.scaleSizes.Sessions):
		return o, errors.New("-scale-*: want at least one account, and expired plus revoked sessions within the sessions")
	}
	if err := requireLoopback(o.pgURL); err != nil {
		return o, fmt.Errorf("-pg: %w", err)
	}
	if err := requireLoopback(o.redisURL); err != nil {
		return o, fmt.Errorf("-redis: %w", err)
	}
	for _, f := range []string{o.accountd, o.script, o.minimalScript} {
		if _, err := os.Stat(f); err != nil {
			return o, fmt.Errorf("%w (run from the repository root after building: see make bench)", err)
		}
	}
	if _, err := exec.LookPath(o.pgbench); err != nil {
		return o, fmt.Errorf("-pgbench: %w (apt-get install postgresql-client)", err)
	}
	if _, err := exec.LookPath(o.wrk); err != nil && !o.scale {
		return o, fmt.Errorf("-wrk: %w (make bench installs it: apt-get install wrk)", err)
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o750); err != nil {
			return o, fmt.Errorf("-profile: %w", err)
		}
	}
	return o, nil
}

// run is the whole harness. Whatever happens, it stops the processes it
// started, drops the database and deletes the service's Redis keys.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", err)
		}
	}()
	if o.scale {
		return runScale(ctx, o, stdout, logf)
	}
	started := time.Now()
	if err := checkRedis(ctx, o.redisURL); err != nil {
		return err
	}
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
	logf("created database %s", dbName)
	prefix := "accountd-bench:" + randomHex(6) + ":"
	defer func() {
		n, rerr := deleteRedisKeys(o.redisURL, prefix)
		if rerr != nil {
			err = errors.Join(err, rerr)
		} else {
			logf("deleted %d redis keys under %s", n, prefix)
		}
	}()
	var extra []string
	var prof *profiler
	if o.profileDir != "" {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return err
		}
		prof = &profiler{addr: addr, dir: o.profileDir}
		extra = append(extra, "PPROF_ADDR="+addr)
	}
	svc, err := startAccountd(ctx, o, dbURL, prefix, extra...)
	if err != nil {
		return err
	}
	defer svc.stop()
	svc.prof = prof
	logf("accountd pid %d listening on %s", svc.proc.PID(), svc.base)

	rep, err := measure(ctx, o, svc, dbURL, logf)
	if err != nil {
		return err
	}
	rep.Started, rep.Elapsed = started, time.Since(started).Round(100*time.Millisecond).String()
	rep.Print(stdout)
	return rep.WriteJSON(o.out)
}
