package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// runningService is the accountd subprocess under benchmark.
type runningService struct {
	service
	proc     *process
	rss      *rssSampler
	stopRSS  context.CancelFunc
	rssDone  chan struct{} // closed when the sampling has stopped
	dir      string
	settings []string  // the settings worth printing with the results
	prefix   string    // REDIS_KEY_PREFIX
	prof     *profiler // nil unless -profile: then its PPROF_ADDR is set
}

// startAccountd starts `accountd serve` on a free loopback port with
// production settings (see serviceEnv.environ), waits for /livez, and starts
// sampling its RSS. It runs in an empty temporary directory so that no .env
// file changes its settings. extra are settings of one scenario.
func startAccountd(ctx context.Context, o options, dbURL, redisPrefix string, extra ...string) (*runningService, error) {
	bin, err := filepath.Abs(o.accountd)
	if err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	se := serviceEnv{DatabaseURL: dbURL, RedisURL: o.redisURL, RedisPrefix: redisPrefix,
		BcryptCost: o.bcryptCost, HTTPAddr: addr, Extra: extra}
	env, limitersOff, err := se.environ()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "accountd-bench-")
	if err != nil {
		return nil, err
	}
	p, err := startProcess(ctx, "accountd", bin, []string{"serve"}, env, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	rs := &runningService{
		service: service{base: "http://" + addr, password: "bench-password-" + randomHex(4),
			prefix: "b" + randomHex(4)},
		proc: p, rss: &rssSampler{}, dir: dir, prefix: redisPrefix,
		settings: append(append([]string{"BCRYPT_COST=" + strconv.Itoa(o.bcryptCost), "LOG_LEVEL=warn",
			"REDIS_URL=" + o.redisURL, "REDIS_KEY_PREFIX=" + redisPrefix}, limitersOff...), extra...),
	}
	if err := p.waitReady(ctx, rs.base+"/livez", time.Minute); err != nil {
		rs.stop()
		return nil, err
	}
	var rssCtx context.Context
	rssCtx, rs.stopRSS = context.WithCancel(context.Background())
	rs.rssDone = make(chan struct{})
	go func() { defer close(rs.rssDone); rs.rss.run(rssCtx, p.PID()) }()
	return rs, nil
}

// memory stops the RSS sampling, then reads the peak RSS (VmHWM), and
// returns both.
func (rs *runningService) memory() (Memory, error) {
	rs.stopRSS()
	<-rs.rssDone
	hwm, err := statusKiB(rs.proc.PID(), "VmHWM")
	if err != nil {
		return Memory{}, fmt.Errorf("read accountd's peak RSS: %w", err)
	}
	m := Memory{HWMKiB: hwm, MaxRSSKiB: rs.rss.MaxKiB()}
	m.PeakMiB = float64(max(m.HWMKiB, m.MaxRSSKiB)) / 1024
	return m, nil
}

// stop ends the RSS sampling and the process (SIGTERM, then SIGKILL after
// its shutdown delay and drain time), and removes its directory.
func (rs *runningService) stop() {
	if rs.stopRSS != nil {
		rs.stopRSS()
	}
	rs.proc.Stop(15 * time.Second)
	_ = os.RemoveAll(rs.dir) //nolint:gosec // G703: the directory os.MkdirTemp made
}
