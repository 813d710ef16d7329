package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// maxRequestsPerWorker bounds every worker's loop by count as well as by
// time, and with it the memory the recorded latencies take.
const maxRequestsPerWorker = 2_000_000

// requestTimeout is the longest one benchmark request may take.
const requestTimeout = 15 * time.Second

// Outcome is what one request of a scenario came to.
type Outcome struct {
	Status  int  // HTTP status; 0 when the request failed before a response
	OK      bool // the status the scenario expects
	Invalid bool // OK by status, but wrong by content (a refresh that did not rotate)
}

// Job sends one request on client and says how it went. Each worker has its
// own Job value, so a Job may keep state between calls (a refresh token).
type Job func(ctx context.Context, client *http.Client) Outcome

// Load is one closed-loop run: Workers goroutines, each with its own
// keep-alive connection, send requests back to back for Warmup+Duration;
// requests started during Warmup are not recorded.
type Load struct {
	Workers  int
	Warmup   time.Duration
	Duration time.Duration
}

// Stats are the figures of one run, over the recorded requests.
type Stats struct {
	Requests int            `json:"requests"`
	RPS      float64        `json:"requests_per_s"`
	GoodRPS  float64        `json:"successful_per_s"` // requests with the expected status
	P50ms    float64        `json:"p50_ms"`
	P90ms    float64        `json:"p90_ms"`
	P99ms    float64        `json:"p99_ms"`
	Errors   map[string]int `json:"errors_by_status"` // "net" for requests that got no response
	Invalid  int            `json:"invalid,omitempty"`
}

// ErrorCount is the number of recorded requests that did not get the
// expected status.
func (s Stats) ErrorCount() int {
	n := 0
	for _, c := range s.Errors {
		n += c
	}
	return n
}

type workerResult struct {
	latencies []time.Duration
	errors    map[string]int
	invalid   int
	good      int
	first     time.Time // start of the first recorded request
	last      time.Time // end of the last recorded request
}

// newClient returns an HTTP client that keeps exactly one connection to the
// server open, so that a worker is one keep-alive connection.
func newClient() *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        1,
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			DisableCompression:  true,
			IdleConnTimeout:     time.Minute,
		},
		// Redirects would hide the status the scenario checks.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Run drives the jobs that newJob makes (one per worker) and returns the
// stats. It returns early, with what it has, when ctx ends.
func (l Load) Run(ctx context.Context, newJob func(worker int) Job) Stats {
	start := time.Now()
	measureFrom := start.Add(l.Warmup)
	deadline := measureFrom.Add(l.Duration)
	results := make([]workerResult, l.Workers)
	var wg sync.WaitGroup
	for i := range l.Workers {
		job := newJob(i)
		wg.Go(func() {
			client := newClient()
			defer client.CloseIdleConnections()
			results[i] = runWorker(ctx, client, job, measureFrom, deadline)
		})
	}
	wg.Wait()
	return summarize(results)
}

func runWorker(ctx context.Context, client *http.Client, job Job, measureFrom, deadline time.Time) workerResult {
	r := workerResult{latencies: make([]time.Duration, 0, 4096), errors: map[string]int{}}
	for n := 0; n < maxRequestsPerWorker && ctx.Err() == nil; n++ {
		t0 := time.Now()
		if !t0.Before(deadline) {
			break
		}
		out := job(ctx, client)
		t1 := time.Now()
		if t0.Before(measureFrom) {
			continue
		}
		if r.first.IsZero() {
			r.first = t0
		}
		r.last = t1
		r.latencies = append(r.latencies, t1.Sub(t0))
		switch {
		case !out.OK && out.Status == 0:
			r.errors["net"]++
		case !out.OK:
			r.errors[strconv.Itoa(out.Status)]++
		case out.Invalid:
			r.invalid++
		}
		if out.OK {
			r.good++
		}
	}
	return r
}

// summarize adds up the workers. The rate is the sum of each worker's own
// rate (its requests over the time from the start of its first recorded
// request to the end of its last): a closed-loop worker is busy all that
// time, so this has no quantization error even when requests are slow.
func summarize(results []workerResult) Stats {
	s := Stats{Errors: map[string]int{}}
	var all []time.Duration
	for _, r := range results {
		all = append(all, r.latencies...)
		for k, v := range r.errors {
			s.Errors[k] += v
		}
		s.Invalid += r.invalid
		if busy := r.last.Sub(r.first); len(r.latencies) > 0 && busy > 0 {
			s.RPS += float64(len(r.latencies)) / busy.Seconds()
			s.GoodRPS += float64(r.good) / busy.Seconds()
		}
	}
	s.Requests = len(all)
	slices.Sort(all)
	s.P50ms, s.P90ms, s.P99ms = percentileMS(all, 50), percentileMS(all, 90), percentileMS(all, 99)
	return s
}

// percentileMS is the nearest-rank percentile p of sorted, in milliseconds.
func percentileMS(sorted []time.Duration, p int) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	rank = max(rank, 1)
	return float64(sorted[rank-1].Microseconds()) / 1000
}

// drain reads what is left of a response body, so that the connection can
// be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 2<<20))
	_ = resp.Body.Close()
}

// do sends req and returns its status (0 when there was no response) and
// the response's header, after reading and closing the body.
func do(client *http.Client, req *http.Request) (int, http.Header) {
	resp, err := client.Do(req) //nolint:gosec // G704: the URL is the loopback server this tool started
	if err != nil {
		return 0, nil
	}
	drain(resp)
	return resp.StatusCode, resp.Header
}

// turnRounds is how many rounds a measure and its baseline take turns in
// (wrkRunner.Interleaved, refresh at 32 workers against pgbench): the
// machine's speed drifts over a minute, and rounds taken in turns put both
// sides of a ratio under the same drift.
const turnRounds = 4

// sumRounds adds up rounds of equal length: their requests and errors, the
// mean of their rates, and the mean of their latency percentiles (wrk
// prints no histogram to merge).
func sumRounds(rounds []Stats) Stats {
	s := Stats{Errors: map[string]int{}}
	for _, r := range rounds {
		s.Requests += r.Requests
		s.RPS += r.RPS / float64(len(rounds))
		s.GoodRPS += r.GoodRPS / float64(len(rounds))
		s.P50ms += r.P50ms / float64(len(rounds))
		s.P90ms += r.P90ms / float64(len(rounds))
		s.P99ms += r.P99ms / float64(len(rounds))
		s.Invalid += r.Invalid
		for k, n := range r.Errors {
			s.Errors[k] += n
		}
	}
	return s
}
