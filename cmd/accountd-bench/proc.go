package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a subprocess whose output is kept (its tail) for error reports.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, valid once done is closed
}

// startProcess starts path with args, env and working directory dir. When
// ctx ends the process gets SIGTERM (SIGKILL 15s later), and SIGKILL if this
// one dies without stopping it.
func startProcess(ctx context.Context, name, path string, args, env []string, dir string) (*process, error) {
	cmd := exec.CommandContext(ctx, path, args...) //nolint:gosec // G204: accountd (-accountd) or this binary, by design
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	cmd.Env, cmd.Dir = env, dir
	out := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// PID is the process id.
func (p *process) PID() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits at most grace for the exit, then kills.
func (p *process) Stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Exited returns an error when the process has already exited.
func (p *process) Exited() error {
	select {
	case <-p.done:
		status := p.err
		if status == nil {
			status = errors.New("exit status 0")
		}
		return fmt.Errorf("%s exited (%w); its last output:\n%s", p.name, status, p.out.String())
	default:
		return nil
	}
}

// waitReady polls url until it answers 200, the process exits, or timeout
// passes.
func (p *process) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if err := p.Exited(); err != nil {
			return err
		}
		if req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil); err == nil {
			if resp, err := client.Do(req); err == nil {
				drain(resp)
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 at %s within %s; its last output:\n%s", p.name, url, timeout, p.out.String())
}

// tailBuffer is an io.Writer that keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// String returns what the buffer holds.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// freeLoopbackAddr returns a 127.0.0.1 address with a port that was free a
// moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// statusKiB reads a "kB" field such as VmRSS or VmHWM from
// /proc/<pid>/status.
func statusKiB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid)) //nolint:gosec // G304/G703: a /proc path built from a pid
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// rssSampler records the largest VmRSS of a process, sampled every 100ms.
type rssSampler struct {
	mu     sync.Mutex
	maxKiB int64
}

// run samples pid until ctx ends (at most one hour of samples).
func (s *rssSampler) run(ctx context.Context, pid int) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for range 36_000 {
		if kib, err := statusKiB(pid, "VmRSS"); err == nil {
			s.mu.Lock()
			s.maxKiB = max(s.maxKiB, kib)
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MaxKiB returns the largest sample so far.
func (s *rssSampler) MaxKiB() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxKiB
}
