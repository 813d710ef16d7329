package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// Connection counts of the scenarios (issues 5 and 10).
const (
	meAccounts     = 16 // accounts whose bearer tokens the me scenarios use
	meConnsLow     = 32
	meConnsHigh    = 64
	refreshWorkers = 16 // also the clients of pgbench replaying bench/rotation.sql
	minimalClients = 32 // pgbench clients of bench/rotation_minimal.sql, and the refresh workers beside it
	loginAccounts  = 4
	mixedMeConns   = 16
)

// measure runs the baselines and the scenarios against rs and returns the
// report. A scenario that misses its target is a FAIL row, not an error.
func measure(ctx context.Context, o options, rs *runningService, dbURL string, logf func(string, ...any)) (*Report, error) {
	procs := runtime.GOMAXPROCS(0)
	prof := rs.prof
	load := func(workers int) Load { return Load{Workers: workers, Warmup: o.warmup, Duration: o.duration} }
	alive := func(step string) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
		if err := rs.proc.Exited(); err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
		logf("%s done", step)
		return nil
	}
	rep := &Report{GoVersion: runtime.Version(), GOMAXPROCS: procs, BcryptCost: o.bcryptCost,
		Duration: o.duration.String(), Warmup: o.warmup.String(), Quick: o.quick, Settings: rs.settings}
	var barePID int
	var others []int // other accountd instances of the run (argon2id)
	watch := cpuWatch{ours: func() []int { return append([]int{os.Getpid(), rs.proc.PID(), barePID}, others...) }}
	other := map[string]float64{}
	var err error
	budget, retries := o.quietWait, o.retries
	// step runs f once the CPUs are idle (see -quiet-wait), again when other
	// processes took more than noisyOtherCPU meanwhile (see -retries), notes
	// how busy they kept the machine, and checks that accountd is still up.
	step := func(name string, f func() error) error {
		for attempt := 1; ; attempt++ {
			if w := watch.waitQuiet(ctx, &budget); w > time.Second {
				logf("%s: waited %s for other processes to leave the CPUs idle", name, w)
			}
			snap := watch.snapshot()
			if err := f(); err != nil {
				return err
			}
			other[name] = watch.otherPercent(snap)
			if other[name] <= noisyOtherCPU || retries == 0 || ctx.Err() != nil {
				break
			}
			retries--
			logf("%s: other processes used %.0f%% of the CPUs meanwhile; running it again", name, other[name])
		}
		return alive(name)
	}

	// Baselines (raw bcrypt comes right before login and register, which it
	// is the baseline of, so that the machine's drift does not come between).
	bare, err := startBare(ctx)
	if err != nil {
		return nil, err
	}
	defer bare.proc.Stop(5 * time.Second)
	barePID = bare.proc.PID()
	var bare32, bare64, bareWrk, meWrk Stats
	if err := step("bare@32", func() error { bare32 = bare.Run(ctx, load(meConnsLow)); return nil }); err != nil {
		return nil, err
	}
	if err := step("bare@64", func() error { bare64 = bare.Run(ctx, load(meConnsHigh)); return nil }); err != nil {
		return nil, err
	}
	var pg, pgMinimal PgbenchResult
	if err := step("pgbench", func() (err error) {
		pg, err = pgbenchBaseline(ctx, o, dbURL, o.script, refreshWorkers)
		return err
	}); err != nil {
		return nil, err
	}
	rep.Pgbench = &pg
	rep.PgbenchMinimal = &pgMinimal // measured in turns with refresh@32 below

	// Setup, outside the timed parts: register and log in.
	accounts, err := rs.setupAccounts(ctx, meAccounts, 2*procs)
	if err != nil {
		return nil, err
	}
	if err := alive("setup"); err != nil {
		return nil, err
	}
	// wrk sends the bare server the requests it sends accountd's me.
	wrk, err := newWrkRunner(o.wrk, accounts)
	if err != nil {
		return nil, err
	}
	defer wrk.close()
	rep.WrkCommand = wrk.Command(max(time.Second, o.duration/turnRounds))
	// me under wrk, in rounds that alternate with the bare server's.
	if err := step("me(wrk)", func() (err error) {
		bareWrk, meWrk, err = wrk.Interleaved(ctx, bare.url+pathMe[1:], rs.base+pathMe, o.warmup, o.duration,
			prof.during(ctx, "me", 0, 2*o.duration))
		return err
	}); err != nil {
		return nil, err
	}
	bare.proc.Stop(5 * time.Second)

	// Scenarios.
	var me32, me64, refresh, refresh32, login, register, mixedMe, mixedLogin, introspect, jwks Stats
	scenarios := []struct {
		name string
		run  func() error
	}{
		{"me@32", func() error { me32 = load(meConnsLow).Run(ctx, rs.meJobs(accounts)); return nil }},
		{"me@64", func() error { me64 = load(meConnsHigh).Run(ctx, rs.meJobs(accounts)); return nil }},
		{"introspect@32", func() error { introspect = load(meConnsLow).Run(ctx, rs.introspectJobs(accounts)); return nil }},
		{"jwks@32", func() error { jwks = load(meConnsLow).Run(ctx, rs.jwksJobs()); return nil }},
		{"refresh", func() error {
			// Fresh sessions for each attempt: a retry must not replay
			// the tokens the last one rotated.
			sessions, err := rs.loginAll(ctx, accounts[:refreshWorkers], 2*procs)
			if err == nil {
				refresh = load(refreshWorkers).Run(ctx, rs.refreshJobs(sessions))
			}
			return err
		}},
		{"refresh@32", func() error {
			// Two sessions of each account, each rotated by one worker.
			sessions, err := rs.loginAll(ctx, cycle(accounts, minimalClients), 2*procs)
			if err != nil {
				return err
			}
			// In rounds that alternate with pgbench's minimal rotation, as
			// wrk's rows do, so that the machine's drift cancels out.
			round := max(time.Second, o.duration/turnRounds)
			var wg sync.WaitGroup
			var perr error
			if during := prof.during(ctx, "refresh", 0, 2*o.duration); during != nil {
				wg.Go(func() { perr = during() })
			}
			var pgRounds []PgbenchResult
			var rounds []Stats
			for i := range turnRounds {
				r := Load{Workers: minimalClients, Duration: round}
				if i == 0 {
					r.Warmup = o.warmup
				}
				res, err := pgbenchRun(ctx, o, dbURL, o.minimalScript, minimalClients, round)
				if err != nil {
					wg.Wait()
					return err
				}
				pgRounds = append(pgRounds, res)
				rounds = append(rounds, r.Run(ctx, rs.refreshJobs(sessions)))
			}
			wg.Wait()
			pgMinimal, refresh32 = sumPgbench(pgRounds), sumRounds(rounds)
			return perr
		}},
		{"bcrypt", func() (err error) {
			logf("baseline: raw bcrypt at cost %d on %d goroutines, %s each for compare and hash", o.bcryptCost, procs, o.bcryptFor)
			rep.BcryptCompare, rep.BcryptHash, err = bcryptRates(ctx, o.bcryptCost, o.bcryptFor)
			return err
		}},
		{"login", func() error { login = load(2*procs).Run(ctx, rs.loginJobs(accounts[:loginAccounts])); return nil }},
		{"register", func() error { register = load(2*procs).Run(ctx, rs.registerJobs(randomHex(3))); return nil }},
		{"mixed", func() error {
			var wg sync.WaitGroup
			wg.Go(func() { mixedMe = load(mixedMeConns).Run(ctx, rs.meJobs(accounts)) })
			wg.Go(func() { mixedLogin = load(4*procs).Run(ctx, rs.loginJobs(accounts[:loginAccounts])) })
			wg.Wait()
			return nil
		}},
	}
	for _, sc := range scenarios {
		if err := step(sc.name, sc.run); err != nil {
			return nil, err
		}
	}
	if rep.Memory, err = rs.memory(); err != nil {
		return nil, err
	}
	var startup Startup
	if err := step("start-up", func() (err error) {
		startup, err = measureStartup(ctx, o, dbURL, rs.prefix)
		return err
	}); err != nil {
		return nil, err
	}
	rep.Startup = &startup
	ar, err := measureArgon2(ctx, o, rs, dbURL, load, step, func(pid int) { others = append(others, pid) })
	if err != nil {
		return nil, err
	}
	rep.Argon2Compare, rep.Argon2Memory = ar.compare, ar.memory

	rep.QuietWaited, rep.Retried = (o.quietWait - budget).String(), o.retries-retries
	rep.addRows(results{bare32: bare32, bare64: bare64, bareWrk: bareWrk, pg: pg, pgMinimal: pgMinimal,
		me32: me32, me64: me64, meWrk: meWrk, refresh: refresh, refresh32: refresh32,
		login: login, register: register, mixedMe: mixedMe, mixedLogin: mixedLogin, other: other,
		introspect: introspect, jwks: jwks, argon2Login: ar.login}, procs)
	return rep, nil
}

// pgbenchBaseline seeds one token chain per client, replays script with
// pgbench on clients connections, and checks in the database that every
// transaction pgbench counted rotated exactly one token of a chain.
func pgbenchBaseline(ctx context.Context, o options, dbURL, script string, clients int) (PgbenchResult, error) {
	return pgbenchRun(ctx, o, dbURL, script, clients, o.duration)
}

// sumPgbench adds up pgbench runs of equal length: the mean of their rates
// and latencies, the sums of their counts.
func sumPgbench(runs []PgbenchResult) PgbenchResult {
	var s PgbenchResult
	for _, r := range runs {
		s.Clients, s.Command = r.Clients, r.Command
		s.TPS += r.TPS / float64(len(runs))
		s.LatencyAvgMS += r.LatencyAvgMS / float64(len(runs))
		s.Processed += r.Processed
		s.Failed += r.Failed
		s.Rotations += r.Rotations
	}
	return s
}

// pgbenchRun seeds the pgbench clients' chains afresh, replays script for
// d, and checks in the database that every transaction rotated a token.
func pgbenchRun(ctx context.Context, o options, dbURL, script string, clients int, d time.Duration) (PgbenchResult, error) {
	if err := seedPgbench(ctx, dbURL, clients); err != nil {
		return PgbenchResult{}, err
	}
	seconds := max(1, int((d+time.Second-1)/time.Second))
	res, err := runPgbench(ctx, o.pgbench, script, dbURL, clients, seconds)
	if err != nil {
		return res, err
	}
	if res.Rotations, err = pgbenchRotations(ctx, dbURL); err != nil {
		return res, err
	}
	if res.Failed != 0 || res.Processed == 0 || res.Rotations != res.Processed {
		return res, fmt.Errorf("pgbench: %d transactions, %d failed, but %d tokens rotated in the database: %s does not walk its chains",
			res.Processed, res.Failed, res.Rotations, script)
	}
	return res, nil
}

// cycle returns n accounts, going round accounts as often as it takes.
func cycle(accounts []account, n int) []account {
	out := make([]account, n)
	for i := range out {
		out[i] = accounts[i%len(accounts)]
	}
	return out
}
