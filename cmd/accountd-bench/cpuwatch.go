package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// noisyOtherCPU is the share of the machine's CPU time that other processes
// may take during a step before the report warns that its figures are
// unreliable (the ratios assume the machine is otherwise idle).
const noisyOtherCPU = 10.0

// serverComms are the processes that serve the benchmark (and may serve
// others too): their CPU time counts as the benchmark's.
var serverComms = map[string]bool{"postgres": true, "redis-server": true, "pgbench": true}

// cpuWatch tells how much CPU time processes outside the benchmark used
// during a step: the machine's busy time from /proc/stat minus that of this
// process, the processes it started and the servers it uses.
type cpuWatch struct {
	ours func() []int // pids of the benchmark's own processes, this one included
}

type cpuSnapshot struct {
	at         time.Time
	busy, ours int64 // clock ticks
}

// snapshot reads the machine's busy ticks and the benchmark's.
func (w cpuWatch) snapshot() cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), busy: machineBusyTicks()}
	pids := map[int]bool{}
	for _, p := range w.ours() {
		pids[p] = true
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		comm, ticks, ok := procTicks(d)
		if ok && (pids[pid] || serverComms[comm]) {
			s.ours += ticks
		}
	}
	return s
}

// otherPercent is the share (0-100) of all CPUs' time between since and now
// that went to processes outside the benchmark.
func (w cpuWatch) otherPercent(since cpuSnapshot) float64 {
	now := w.snapshot()
	wall := now.at.Sub(since.at).Seconds() * float64(runtime.NumCPU()) * clockTicks
	if wall <= 0 {
		return 0
	}
	other := float64((now.busy - since.busy) - (now.ours - since.ours))
	return max(0, min(100, 100*other/wall))
}

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTicks = 100

// machineBusyTicks sums the non-idle fields of /proc/stat's "cpu" line.
func machineBusyTicks() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest times are in user already
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return busy
}

// procTicks returns a process's command name and its user+system ticks,
// those of its children that it has waited for included: so the work of a
// PostgreSQL backend or of pgbench still counts after it has exited (into
// the postmaster's or this process's children's time).
func procTicks(dir string) (string, int64, bool) {
	b, err := os.ReadFile(dir + "/stat") //nolint:gosec // G304: a /proc/<pid> directory
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", 0, false
	}
	f := strings.Fields(s[closing+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return "", 0, false
	}
	var ticks int64
	for _, v := range f[11:15] { // utime, stime, cutime, cstime
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return s[open+1 : closing], ticks, true
}

// waitQuiet returns once processes outside the benchmark used less than
// noisyOtherCPU of the machine over half a second, or when the run's budget
// for waiting is spent. It returns how long it waited.
func (w cpuWatch) waitQuiet(ctx context.Context, budget *time.Duration) time.Duration {
	const probe = 500 * time.Millisecond
	var waited time.Duration
	for *budget >= probe && ctx.Err() == nil {
		snap := w.snapshot()
		time.Sleep(probe)
		*budget -= probe
		waited += probe
		if w.otherPercent(snap) < noisyOtherCPU {
			break
		}
	}
	return waited
}
