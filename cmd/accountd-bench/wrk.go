package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkConns is the connection count of the wrk rows (issue 10), on wrk's one
// thread (-t1), so that the load generator takes at most one CPU.
const wrkConns = 32

// wrkRunner drives one URL with wrk (Debian's wrk 4.1), with a Lua script
// that sends the bearer tokens of the me rows, one per request in turn.
// The bare baseline gets the very same requests (its handler ignores path
// and headers), so that both sides parse requests of the same size.
type wrkRunner struct {
	bin    string
	script string // the Lua script, in a directory of its own
	dir    string
}

// wrkScript is the Lua script: every request is formatted once, at start,
// so that each one costs wrk a table lookup (measured: no more CPU per
// request than a fixed -H header).
const wrkScript = `-- Written by accountd-bench; removed after the run.
local tokens = { %s }
local requests, n, i = {}, 0, 0
function init(args)
  for k, t in ipairs(tokens) do
    requests[k] = wrk.format(nil, nil, { Authorization = "Bearer " .. t })
  end
  n = #requests
end
function request()
  i = i %% n + 1
  return requests[i]
end
`

// newWrkRunner writes the script for accounts' access tokens into a private
// temporary directory; close removes it.
func newWrkRunner(bin string, accounts []account) (*wrkRunner, error) {
	quoted := make([]string, len(accounts))
	for i, a := range accounts {
		if strings.ContainsAny(a.access, "\"\\\n") {
			return nil, fmt.Errorf("wrk script: access token %d is not a plain JWT", i)
		}
		quoted[i] = `"` + a.access + `"`
	}
	dir, err := os.MkdirTemp("", "accountd-bench-wrk-")
	if err != nil {
		return nil, err
	}
	w := &wrkRunner{bin: bin, dir: dir, script: filepath.Join(dir, "me.lua")}
	if err := os.WriteFile(w.script, fmt.Appendf(nil, wrkScript, strings.Join(quoted, ", ")), 0o600); err != nil {
		w.close()
		return nil, fmt.Errorf("wrk script: %w", err)
	}
	return w, nil
}

// close removes the script.
func (w *wrkRunner) close() { _ = os.RemoveAll(w.dir) }

// wrkSeconds is d in whole seconds, at least one: wrk's -d takes no
// fractions.
func wrkSeconds(d time.Duration) int { return max(1, int((d+time.Second/2)/time.Second)) }

// args are wrk's arguments for one run of d against url.
func (w *wrkRunner) args(url string, d time.Duration) []string {
	return []string{"-t1", "-c" + strconv.Itoa(wrkConns), "-d" + strconv.Itoa(wrkSeconds(d)) + "s", "--latency",
		"-s", w.script, url}
}

// Command is the measured run's command line, for the report.
func (w *wrkRunner) Command(d time.Duration) string {
	a := w.args("<url>", d)
	a[len(a)-2] = "<tokens.lua>"
	return w.bin + " " + strings.Join(a, " ")
}

// Interleaved warms both URLs up, then measures them in turnRounds
// alternating rounds (base, then url, each for d/turnRounds, at least a
// second) and sums each one's rounds. The machine's speed drifts by more
// than the targets' margins over a minute (a shared virtual machine), and
// a ratio of two runs made seconds apart in turns cancels that drift,
// where two back-to-back runs of d each do not. during is called as the
// first round starts and may run beside the rounds (a profile of url's
// server: it idles during base's rounds).
func (w *wrkRunner) Interleaved(ctx context.Context, base, url string, warmup, d time.Duration,
	during func() error) (baseStats, urlStats Stats, err error) {
	if warmup > 0 {
		for _, u := range []string{base, url} {
			if _, err := w.run(ctx, u, warmup); err != nil {
				return Stats{}, Stats{}, err
			}
		}
	}
	errc := make(chan error, 1)
	go func() {
		if during == nil {
			errc <- nil
			return
		}
		errc <- during()
	}()
	round := max(time.Second, d/turnRounds)
	var outs [2][]Stats
	for range turnRounds {
		for i, u := range []string{base, url} {
			out, rerr := w.run(ctx, u, round)
			if rerr != nil {
				err = rerr
				break
			}
			st, perr := parseWrk(out)
			if perr != nil {
				err = perr
				break
			}
			outs[i] = append(outs[i], st)
		}
		if err != nil {
			break
		}
	}
	if derr := <-errc; err == nil {
		err = derr
	}
	if err != nil {
		return Stats{}, Stats{}, err
	}
	return sumRounds(outs[0]), sumRounds(outs[1]), nil
}

func (w *wrkRunner) run(ctx context.Context, url string, d time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(wrkSeconds(d))*time.Second+time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, w.bin, w.args(url, d)...).CombinedOutput() //nolint:gosec // G204: the -wrk flag names it
	if err != nil {
		return nil, fmt.Errorf("wrk: %w; its output:\n%s", err, out)
	}
	return out, nil
}

var (
	wrkRequests   = regexp.MustCompile(`(?m)^\s*([0-9]+) requests in [0-9.]+[a-z]+, `)
	wrkRate       = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)\s*$`)
	wrkPercentile = regexp.MustCompile(`(?m)^\s+(50|90|99)(?:\.0+)?%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkSocket     = regexp.MustCompile(`(?m)^\s*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)`)
	wrkNon2xx     = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: ([0-9]+)`)
)

// wrkUnitMS converts wrk's latency units to milliseconds.
var wrkUnitMS = map[string]float64{"us": 0.001, "ms": 1, "s": 1000}

// parseWrk reads the summary that wrk --latency prints into Stats: the
// request rate, p50/p90/p99 of the latency distribution, and as errors
// the socket errors (connect, read, write, timeout: wrk prints the line
// only when one is not zero) and the answers whose status is not 2xx or
// 3xx (non-2xx). The successful rate is the rate less that share.
func parseWrk(out []byte) (Stats, error) {
	s := Stats{Errors: map[string]int{}}
	m := wrkRate.FindSubmatch(out)
	r := wrkRequests.FindSubmatch(out)
	if m == nil || r == nil {
		return s, fmt.Errorf("wrk printed no Requests/sec; its output:\n%s", out)
	}
	s.RPS, _ = strconv.ParseFloat(string(m[1]), 64)
	s.Requests, _ = strconv.Atoi(string(r[1]))
	found := 0
	for _, p := range wrkPercentile.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(p[2]), 64)
		v *= wrkUnitMS[string(p[3])]
		switch string(p[1]) {
		case "50":
			s.P50ms = v
		case "90":
			s.P90ms = v
		case "99":
			s.P99ms = v
		}
		found++
	}
	if found != 3 {
		return s, fmt.Errorf("wrk printed no latency distribution (run it with --latency); its output:\n%s", out)
	}
	if m := wrkSocket.FindSubmatch(out); m != nil {
		for i, kind := range []string{"connect", "read", "write", "timeout"} {
			if n, _ := strconv.Atoi(string(m[i+1])); n > 0 {
				s.Errors[kind] = n
			}
		}
	}
	bad := 0
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		bad, _ = strconv.Atoi(string(m[1]))
		if bad > 0 {
			s.Errors["non-2xx"] = bad
		}
	}
	s.GoodRPS = s.RPS
	if s.Requests > 0 {
		s.GoodRPS = s.RPS * float64(s.Requests-min(bad, s.Requests)) / float64(s.Requests)
	}
	return s, nil
}
