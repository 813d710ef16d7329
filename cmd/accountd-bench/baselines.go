package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// bareBody is what the bare baseline handler answers.
var bareBody = []byte(`{"status":"ok"}`)

// serveBare is the hidden -bare-server mode: a bare net/http server that
// answers every request with a small JSON body. It runs until killed.
func serveBare(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-bare-server: %w", err)
	}
	if err := requireLoopbackHost(host); err != nil {
		return fmt.Errorf("-bare-server: %w", err)
	}
	srv := &http.Server{
		Addr: addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(bareBody)
		}),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
	}
	return srv.ListenAndServe()
}

// bareServer is the bare baseline running as a subprocess (this binary,
// re-executed with -bare-server), with GOMAXPROCS as this process has it.
type bareServer struct {
	proc *process
	url  string
}

// startBare starts the bare server on a free loopback port.
func startBare(ctx context.Context) (*bareServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	p, err := startProcess(ctx, "bare server", self, []string{"-bare-server", addr}, os.Environ(), "")
	if err != nil {
		return nil, err
	}
	b := &bareServer{proc: p, url: "http://" + addr + "/"}
	if err := p.waitReady(ctx, b.url, 10*time.Second); err != nil {
		p.Stop(time.Second)
		return nil, err
	}
	return b, nil
}

// Run drives the bare server with workers connections.
func (b *bareServer) Run(ctx context.Context, l Load) Stats {
	return l.Run(ctx, func(int) Job {
		return func(ctx context.Context, client *http.Client) Outcome {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.url, nil)
			status, _ := do(client, req)
			return Outcome{Status: status, OK: status == http.StatusOK}
		}
	})
}

// bcryptRates measures raw bcrypt at cost on GOMAXPROCS goroutines, each
// for d: comparisons of a good password per second, then hashes per second.
func bcryptRates(ctx context.Context, cost int, d time.Duration) (compares, hashes float64, err error) {
	password := []byte("bench-password-" + randomHex(4))
	hash, err := bcrypt.GenerateFromPassword(password, cost)
	if err != nil {
		return 0, 0, fmt.Errorf("bcrypt: %w", err)
	}
	compares = parallelRate(ctx, d, func() { _ = bcrypt.CompareHashAndPassword(hash, password) })
	hashes = parallelRate(ctx, d, func() { _, _ = bcrypt.GenerateFromPassword(password, cost) })
	return compares, hashes, nil
}

// parallelRate runs op in a loop on GOMAXPROCS goroutines for about d and
// returns the sum of their rates (each: its ops over its own busy time).
func parallelRate(ctx context.Context, d time.Duration, op func()) float64 {
	n := runtime.GOMAXPROCS(0)
	rates := make([]float64, n)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			count := 0
			for ; count < 1_000_000 && time.Now().Before(deadline) && ctx.Err() == nil; count++ {
				op()
			}
			rates[i] = float64(count) / time.Since(start).Seconds()
		})
	}
	wg.Wait()
	total := 0.0
	for _, r := range rates {
		total += r
	}
	return total
}

// PgbenchResult is what a pgbench run reports.
type PgbenchResult struct {
	Clients      int     `json:"clients"`
	TPS          float64 `json:"tps"` // without initial connection time
	Processed    int64   `json:"transactions"`
	Failed       int64   `json:"failed"`
	LatencyAvgMS float64 `json:"latency_avg_ms"`
	Rotations    int64   `json:"rotations_in_db"` // tokens marked used, counted afterwards
	Command      string  `json:"command"`
}

var (
	pgbenchTPS       = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)
	pgbenchProcessed = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
	pgbenchFailed    = regexp.MustCompile(`(?m)^number of failed transactions: ([0-9]+)`)
	pgbenchLatency   = regexp.MustCompile(`(?m)^latency average = ([0-9.]+) ms`)
)

// runPgbench replays script (bench/rotation.sql) with pgbench: clients
// connections for seconds, prepared statements as pgx uses them, each
// client starting its chain at n=0.
func runPgbench(ctx context.Context, pgbench, script, dbURL string, clients, seconds int) (PgbenchResult, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return PgbenchResult{}, fmt.Errorf("parse %q: %w", dbURL, err)
	}
	user := "postgres"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(2, clients)),
		"-T", strconv.Itoa(seconds), "-f", script, "-D", "n=0",
		"-h", u.Hostname(), "-p", port, "-U", user, u.Path[1:]}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second+time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, pgbench, args...).CombinedOutput() //nolint:gosec // G204: the -pgbench flag names it
	res := PgbenchResult{Clients: clients, Command: pgbench + " " + strings.Join(args[:len(args)-7], " ") + " <db>"}
	if err != nil {
		return res, fmt.Errorf("pgbench: %w; its output:\n%s", err, out)
	}
	if err := res.parse(out); err != nil {
		return res, err
	}
	return res, nil
}

// parse reads pgbench's summary into res.
func (res *PgbenchResult) parse(out []byte) error {
	m := pgbenchTPS.FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("pgbench printed no tps; its output:\n%s", out)
	}
	res.TPS, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := pgbenchProcessed.FindSubmatch(out); m != nil {
		res.Processed, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := pgbenchFailed.FindSubmatch(out); m != nil {
		res.Failed, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := pgbenchLatency.FindSubmatch(out); m != nil {
		res.LatencyAvgMS, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	return nil
}
