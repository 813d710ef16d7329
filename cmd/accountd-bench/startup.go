package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Start-up measurement (issue 10).
const (
	startupRuns = 5
	// startupPoll is the pause between two /livez polls.
	startupPoll = time.Millisecond
	// startupLimit is the longest one start may take before the step fails.
	startupLimit = 30 * time.Second
)

// Startup is how long `accountd serve` took from exec to its first 200
// from /livez, on the already-migrated benchmark database.
type Startup struct {
	RunsMS     []float64 `json:"runs_ms"`
	MedianMS   float64   `json:"median_ms"`
	MaxMS      float64   `json:"max_ms"`
	CleanStops int       `json:"clean_stops"` // runs whose SIGTERM ended the process with status 0
}

// measureStartup execs startupRuns more accountd serve, one at a time, with
// the benchmarked service's settings on other free ports, times each from
// exec to the first 200 from /livez (polled every millisecond on a fresh
// connection), and stops each with SIGTERM. SHUTDOWN_DELAY=0s only makes
// the stops quicker; it plays no part in starting.
func measureStartup(ctx context.Context, o options, dbURL, redisPrefix string) (Startup, error) {
	var res Startup
	bin, err := filepath.Abs(o.accountd)
	if err != nil {
		return res, err
	}
	dir, err := os.MkdirTemp("", "accountd-bench-startup-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir) //nolint:errcheck // a temporary directory
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range startupRuns {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return res, err
		}
		se := serviceEnv{DatabaseURL: dbURL, RedisURL: o.redisURL, RedisPrefix: redisPrefix,
			BcryptCost: o.bcryptCost, HTTPAddr: addr, Extra: []string{"SHUTDOWN_DELAY=0s"}}
		env, _, err := se.environ()
		if err != nil {
			return res, err
		}
		took, clean, err := timeStart(ctx, client, bin, env, dir, "http://"+addr+"/livez")
		if err != nil {
			return res, err
		}
		res.RunsMS = append(res.RunsMS, float64(took.Microseconds())/1000)
		if clean {
			res.CleanStops++
		}
	}
	sorted := slices.Sorted(slices.Values(res.RunsMS))
	res.MedianMS, res.MaxMS = sorted[len(sorted)/2], sorted[len(sorted)-1]
	return res, nil
}

// timeStart execs bin serve and returns the time until livez answered 200,
// and whether SIGTERM then stopped it with exit status 0.
func timeStart(ctx context.Context, client *http.Client, bin string, env []string, dir, livez string) (time.Duration, bool, error) {
	start := time.Now()
	p, err := startProcess(ctx, "accountd (start-up)", bin, []string{"serve"}, env, dir)
	if err != nil {
		return 0, false, err
	}
	defer p.Stop(15 * time.Second)
	var took time.Duration
	for {
		if err := p.Exited(); err != nil {
			return 0, false, err
		}
		if time.Since(start) > startupLimit || ctx.Err() != nil {
			return 0, false, fmt.Errorf("accountd (start-up) did not answer 200 at %s within %s; its last output:\n%s",
				livez, startupLimit, p.out.String())
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, livez, nil)
		if err != nil {
			return 0, false, err
		}
		if resp, err := client.Do(req); err == nil { //nolint:gosec // G704: the loopback server this tool started
			drain(resp)
			if resp.StatusCode == http.StatusOK {
				took = time.Since(start)
				break
			}
		}
		time.Sleep(startupPoll)
	}
	p.Stop(15 * time.Second)
	return took, p.err == nil, nil
}
