//go:build soak

package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
)

// The soak is not part of `make test`: `make soak` runs it, for
// SOAK_DURATION (default 10m).

// soakSample is what the soak reads from /metrics every soakEvery.
type soakSample struct {
	at         time.Duration // since the load started
	goroutines float64
	heapInuse  float64 // bytes
	rss        float64 // bytes
	requests   int
}

const soakEvery = 10 * time.Second

// TestSoak runs accountd in-process, configured as in production but for a
// cheaper bcrypt cost (10, so that the machine stays responsive) and a
// per-IP rate limit that a load from one address does not hit, under a
// mixed load for SOAK_DURATION: logins, refreshes that feed each new refresh
// token forward, /me, logouts and logins again. Every 10s it reads the
// server's goroutines, heap and resident memory from /metrics. It fails on
// any answer but a 2xx (a 5xx above all), on goroutines that grow, and on a
// heap that grows steadily; it prints requests by endpoint and status with
// their p50 and p99, and the samples over time.
func TestSoak(t *testing.T) {
	duration := 10 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 30*time.Second {
			t.Fatalf("SOAK_DURATION=%q: want a duration of 30s or more", v)
		}
		duration = d
	}
	logs := &logTail{}
	env := append(baseEnv(t), "BCRYPT_COST=10", "LOG_LEVEL=info", "LOG_FORMAT=json",
		"RATE_LIMIT_IP_REQUESTS=1000000", "SHUTDOWN_DELAY=0s")
	in := startWithLogs(t, env, logs)
	users := newLoadUsers(t, in.URL, 6)
	tl := newTally()
	ld := startLoad(in.URL, loadOptions{users: users, think: 50 * time.Millisecond,
		maxRequests: 1 << 30, maxDuration: duration + time.Minute,
		refreshPct: 25, logoutPct: 5, loginPct: 3, record: tl.add})
	t.Cleanup(ld.Stop)
	t.Logf("soak: %v, %d users, GOMAXPROCS %d, BCRYPT_COST=10 (production default 12), sampling every %v",
		duration, len(users), runtime.GOMAXPROCS(0), soakEvery)

	all := func(int) bool { return true }
	// The samples start once the load runs: pools filled, connections open.
	if _, ok := pollUntil(30*time.Second, func() bool { return tl.count(all) >= 200 }); !ok {
		t.Fatal("the load did not make 200 requests within 30s")
	}
	start := time.Now()
	var samples []soakSample
	tick := time.NewTicker(soakEvery)
	defer tick.Stop()
	for {
		fams := scrape(t, in.URL+"/metrics")
		s := soakSample{at: time.Since(start).Round(time.Second), requests: tl.count(all)}
		s.goroutines, _ = sample(fams, "go_goroutines")
		s.heapInuse, _ = sample(fams, "go_memstats_heap_inuse_bytes")
		s.rss, _ = sample(fams, "process_resident_memory_bytes")
		samples = append(samples, s)
		if time.Since(start) >= duration {
			break
		}
		<-tick.C
	}
	ld.Stop()

	t.Logf("requests by endpoint and status:\n%s", tl.table())
	t.Logf("samples:\n%s", samplesTable(samples))
	t.Logf("log: %d lines, %d warnings, %d errors%s", logs.lines, logs.warns, logs.errors, logs.recent())

	if n := tl.count(func(st int) bool { return st >= 500 }); n > 0 {
		t.Errorf("%d responses were 5xx, want none", n)
	}
	if n := tl.count(func(st int) bool { return st < 200 || st > 299 }); n > 0 {
		t.Errorf("%d requests got no response or a status other than 2xx, want none", n)
	}
	if logs.errors > 0 {
		t.Errorf("the log has %d errors, want none", logs.errors)
	}
	// Goroutines: the last minute against the first (thirds of shorter
	// soaks), medians, within 10 or 10%.
	window := min(time.Minute, duration/3)
	first := median(samples, func(s soakSample) bool { return s.at <= window }, func(s soakSample) float64 { return s.goroutines })
	last := median(samples, func(s soakSample) bool { return s.at >= duration-window }, func(s soakSample) float64 { return s.goroutines })
	if last > first+max(10, first/10) {
		t.Errorf("goroutines grew: median %.0f in the first %v, %.0f in the last", first, window, last)
	}
	// Heap: the last third against the first, medians, under 1.5x.
	firstHeap := median(samples, func(s soakSample) bool { return s.at <= duration/3 }, func(s soakSample) float64 { return s.heapInuse })
	lastHeap := median(samples, func(s soakSample) bool { return s.at >= duration-duration/3 }, func(s soakSample) float64 { return s.heapInuse })
	if lastHeap >= 1.5*firstHeap {
		t.Errorf("heap grew: median %.1f MiB in the first third, %.1f MiB in the last", firstHeap/(1<<20), lastHeap/(1<<20))
	}
	t.Logf("goroutines: median %.0f first %v, %.0f last %v; heap in use: median %.1f MiB first third, %.1f MiB last third",
		first, window, last, window, firstHeap/(1<<20), lastHeap/(1<<20))
}

// median returns the median of value over the samples that in selects.
func median(samples []soakSample, in func(soakSample) bool, value func(soakSample) float64) float64 {
	var vs []float64
	for _, s := range samples {
		if in(s) {
			vs = append(vs, value(s))
		}
	}
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

func samplesTable(samples []soakSample) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "t\trequests\treq/s\tgoroutines\theap in use MiB\tRSS MiB\t")
	for i, s := range samples {
		rate := 0.0
		if i > 0 {
			rate = float64(s.requests-samples[i-1].requests) / (s.at - samples[i-1].at).Seconds()
		}
		fmt.Fprintf(w, "%v\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t\n", s.at, s.requests, rate, s.goroutines,
			s.heapInuse/(1<<20), s.rss/(1<<20))
	}
	_ = w.Flush()
	return b.String()
}

// logTail is the soak's log: it counts lines by level and keeps the last
// warnings and errors, in bounded memory, so that the log of a long soak
// does not show up as heap growth.
type logTail struct {
	mu                   sync.Mutex
	lines, warns, errors int
	last                 []string
}

func (l *logTail) Write(p []byte) (int, error) {
	line := string(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines++
	switch {
	case strings.Contains(line, `"level":"ERROR"`):
		l.errors++
	case strings.Contains(line, `"level":"WARN"`):
		l.warns++
	default:
		return len(p), nil
	}
	if len(l.last) == 10 {
		l.last = l.last[1:]
	}
	l.last = append(l.last, strings.TrimSpace(line))
	return len(p), nil
}

// recent returns the last warnings and errors, one per line.
func (l *logTail) recent() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.last) == 0 {
		return ""
	}
	return "; the last warnings and errors:\n" + strings.Join(l.last, "\n")
}

// startWithLogs is start with the log going to w.
func startWithLogs(t *testing.T, env []string, w *logTail) *instance {
	t.Helper()
	in := launch(append(env, "HTTP_ADDR=127.0.0.1:0"), w)
	t.Cleanup(func() {
		in.stop()
		if err, ok := in.wait(30 * time.Second); !ok {
			t.Errorf("accountd did not stop within 30s")
		} else if err != nil {
			t.Errorf("run returned %v at the end of the soak, want nil", err)
		}
	})
	in.awaitListening(t, 20*time.Second, w.recent)
	if _, ok := pollUntil(20*time.Second, func() bool {
		o, _ := probeRequest("livez", http.MethodGet, in.URL+"/livez")
		return o.status == http.StatusOK
	}); !ok {
		t.Fatalf("accountd did not answer /livez within 20s%s", w.recent())
	}
	return in
}
