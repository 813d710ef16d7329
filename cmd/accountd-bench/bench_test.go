package main

import (
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
