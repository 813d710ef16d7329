package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// profiler fetches CPU profiles of the benchmarked accountd from its
// PPROF_ADDR (the -profile flag) during the measured part of a scenario.
// A nil profiler fetches nothing.
type profiler struct {
	addr string // PPROF_ADDR of the service
	dir  string // where the profiles go
}

// fetch takes a CPU profile of d (whole seconds, at least one) and writes
// it to dir/name.pprof, for go tool pprof.
func (p *profiler) fetch(ctx context.Context, name string, d time.Duration) error {
	if p == nil {
		return nil
	}
	seconds := wrkSeconds(d)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second+time.Minute)
	defer cancel()
	url := "http://" + p.addr + "/debug/pprof/profile?seconds=" + strconv.Itoa(seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil) //nolint:gosec // G704: the loopback PPROF_ADDR this tool chose
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req) //nolint:gosec // G704: as above
	if err != nil {
		return fmt.Errorf("profile %s: %w", name, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("profile %s: status %d: %s", name, resp.StatusCode, b)
	}
	path := filepath.Join(p.dir, name+".pprof")
	f, err := os.Create(path) //nolint:gosec // G304: the -profile directory
	if err != nil {
		return fmt.Errorf("profile %s: %w", name, err)
	}
	if _, err := io.Copy(f, io.LimitReader(resp.Body, 256<<20)); err != nil {
		_ = f.Close()
		return fmt.Errorf("profile %s: %w", name, err)
	}
	return f.Close()
}

// during returns a func that fetches a profile of d after waiting for
// warmup (the measured part of a Load.Run), for running beside the load.
func (p *profiler) during(ctx context.Context, name string, warmup, d time.Duration) func() error {
	if p == nil {
		return nil
	}
	return func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(warmup):
		}
		return p.fetch(ctx, name, d)
	}
}
