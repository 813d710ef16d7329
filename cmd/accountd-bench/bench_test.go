package main

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPercentileMS(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct{ p, want int }{{50, 50}, {90, 90}, {99, 99}, {100, 100}} {
		if got := percentileMS(d, tc.p); got != float64(tc.want) {
			t.Errorf("p%d = %v, want %d", tc.p, got, tc.want)
		}
	}
	if got := percentileMS(d[:1], 99); got != 1 {
		t.Errorf("p99 of one sample = %v, want 1", got)
	}
	if got := percentileMS(nil, 50); got != 0 {
		t.Errorf("p50 of none = %v, want 0", got)
	}
}

func TestSummarizeAddsWorkerRates(t *testing.T) {
	t0 := time.Now()
	worker := func(n, good int, busy time.Duration) workerResult {
		return workerResult{latencies: make([]time.Duration, n), good: good, errors: map[string]int{"503": n - good},
			first: t0, last: t0.Add(busy)}
	}
	s := summarize([]workerResult{worker(10, 10, 2*time.Second), worker(30, 20, 3*time.Second)})
	if s.RPS != 15 || s.GoodRPS < 11.66 || s.GoodRPS > 11.67 {
		t.Fatalf("rps = %v, good = %v; want 15 and 11.67 (5 + 10, 5 + 6.67)", s.RPS, s.GoodRPS)
	}
	if s.Requests != 40 || s.ErrorCount() != 10 {
		t.Fatalf("requests = %d, errors = %d; want 40 and 10", s.Requests, s.ErrorCount())
	}
}

func TestParsePgbench(t *testing.T) {
	out := `transaction type: bench/rotation.sql
query mode: prepared
number of clients: 16
number of transactions actually processed: 11968
number of failed transactions: 0 (0.000%)
latency average = 3.779 ms
initial connection time = 21.505 ms
tps = 4002.979490 (without initial connection time)
`
	var res PgbenchResult
	if err := res.parse([]byte(out)); err != nil {
		t.Fatal(err)
	}
	if res.TPS != 4002.979490 || res.Processed != 11968 || res.Failed != 0 || res.LatencyAvgMS != 3.779 {
		t.Fatalf("parsed %+v", res)
	}
	if err := res.parse([]byte("pgbench: error: Run was aborted")); err == nil {
		t.Fatal("parse of output without tps: no error")
	}
}

// wrkSample is wrk 4.1's output for the bare server (-t1 -c32 -d2s --latency).
const wrkSample = `Running 2s test @ http://127.0.0.1:18741/api/v1/accounts/me
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.05ms    1.15ms  14.83ms   90.68%
    Req/Sec    32.85k     4.99k   44.75k    80.00%
  Latency Distribution
     50%  737.00us
     75%    1.04ms
     90%    2.06ms
     99%    5.97ms
  65442 requests in 2.01s, 7.68MB read
Requests/sec:  32562.11
Transfer/sec:      3.82MB
`

// wrkSampleErrors is wrk's output for a server that answered 404 to every
// request, with the socket errors line that wrk prints when one is not 0
// (its format from wrk's source; the figures are made up).
const wrkSampleErrors = `Running 1s test @ http://127.0.0.1:18742/nope
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.05ms    3.74ms  37.10ms   91.36%
    Req/Sec     1.10k   285.70     1.70k    70.00%
  Latency Distribution
     50%    3.00ms
     75%    4.54ms
     90%    7.45ms
     99%    1.20s
  1000 requests in 1.00s, 558.09KB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 250
Requests/sec:   1098.08
Transfer/sec:    557.62KB
`

func TestParseWrk(t *testing.T) {
	s, err := parseWrk([]byte(wrkSample))
	if err != nil {
		t.Fatal(err)
	}
	if s.RPS != 32562.11 || s.GoodRPS != s.RPS || s.Requests != 65442 || s.ErrorCount() != 0 {
		t.Fatalf("parsed %+v; want 32562.11/s, 65442 requests, no errors", s)
	}
	if s.P50ms != 0.737 || s.P90ms != 2.06 || s.P99ms != 5.97 {
		t.Fatalf("p50/p90/p99 = %v/%v/%v ms; want 0.737/2.06/5.97", s.P50ms, s.P90ms, s.P99ms)
	}

	s, err = parseWrk([]byte(wrkSampleErrors))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"read": 3, "timeout": 2, "non-2xx": 250}
	if !maps.Equal(s.Errors, want) || s.ErrorCount() != 255 {
		t.Fatalf("errors = %v; want %v", s.Errors, want)
	}
	if s.GoodRPS != 1098.08*0.75 || s.P99ms != 1200 {
		t.Fatalf("good rate = %v, p99 = %v ms; want 3/4 of 1098.08 and 1200", s.GoodRPS, s.P99ms)
	}

	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Fatal("parse of output without a rate: no error")
	}
	noLatency := strings.Replace(wrkSample, "     90%    2.06ms\n", "", 1)
	if _, err := parseWrk([]byte(noLatency)); err == nil {
		t.Fatal("parse of output without p90: no error")
	}
}

func TestWrkSecondsAndCommand(t *testing.T) {
	for d, want := range map[time.Duration]int{250 * time.Millisecond: 1, 1500 * time.Millisecond: 2, 8 * time.Second: 8} {
		if got := wrkSeconds(d); got != want {
			t.Errorf("wrkSeconds(%s) = %d, want %d", d, got, want)
		}
	}
	w, err := newWrkRunner("wrk", []account{{access: "a.b.c"}, {access: "d.e.f"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	if got, want := w.Command(8*time.Second), "wrk -t1 -c32 -d8s --latency -s <tokens.lua> <url>"; got != want {
		t.Errorf("command = %q, want %q", got, want)
	}
	script, err := os.ReadFile(w.script)
	if err != nil || !strings.Contains(string(script), `local tokens = { "a.b.c", "d.e.f" }`) ||
		!strings.Contains(string(script), "i = i % n + 1") {
		t.Fatalf("script = %s, %v", script, err)
	}
	if _, err := newWrkRunner("wrk", []account{{access: "a\"b"}}); err == nil {
		t.Error("a token with a quote went into the Lua script")
	}
}

// TestServiceEnvTurnsLimitersOff checks, against today's config.Config, that
// every limiter setting is either turned off or known to be harmless.
func TestServiceEnvTurnsLimitersOff(t *testing.T) {
	t.Setenv("RATE_LIMIT_IP_REQUESTS", "5") // a developer's shell setting must not leak in
	env, off, err := serviceEnv{DatabaseURL: "postgres://127.0.0.1/x", BcryptCost: 12, HTTPAddr: "127.0.0.1:1"}.environ()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range configVars() {
		if want, ok := limiterOff[name]; ok && !slices.Contains(env, name+"="+want) {
			t.Errorf("%s is not set to its off value %q", name, want)
		}
	}
	if slices.Contains(env, "RATE_LIMIT_IP_REQUESTS=5") {
		t.Errorf("the shell's RATE_LIMIT_IP_REQUESTS leaked into the service's environment")
	}
	if len(off) == 0 {
		t.Errorf("no limiter turned off; config.Config has %v", configVars())
	}
	if !slices.Contains(env, "LOG_LEVEL=warn") || !slices.Contains(env, "SECRET_KEY="+benchSecretKey) || len(benchSecretKey) != 48 {
		t.Errorf("env lacks LOG_LEVEL=warn or the 48-byte SECRET_KEY: %v", env)
	}
}

func TestRequireLoopback(t *testing.T) {
	for url, ok := range map[string]bool{
		"postgres://postgres@127.0.0.1:5432/postgres": true,
		"redis://[::1]:6379/0":                        true,
		"postgres://postgres@10.0.0.5:5432/postgres":  false,
		"redis://localhost:6379/0":                    false, // a name could resolve anywhere
	} {
		if err := requireLoopback(url); (err == nil) != ok {
			t.Errorf("requireLoopback(%q) = %v, want ok=%v", url, err, ok)
		}
	}
}

func TestProcTicksReadsThisProcess(t *testing.T) {
	comm, _, ok := procTicks("/proc/self")
	exe, _ := os.Executable()
	if !ok || !strings.HasPrefix(exe[strings.LastIndexByte(exe, '/')+1:], comm) {
		t.Fatalf("procTicks(/proc/self) = %q, %v; want this test binary's name", comm, ok)
	}
}
