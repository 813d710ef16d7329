// Package enginetest starts private copies of the programs production runs
// around accountd -- PgBouncer, redis-server replicas, redis-sentinel, a
// redis-server cluster and HAProxy -- for tests: each on free loopback ports,
// with its files in a directory of its own, stopped when the test ends. A
// missing program fails the test with the package that installs it; nothing
// is skipped, and the machine's shared PostgreSQL and Redis are never
// touched.
package enginetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// installHint says how to install a program the tests need.
const installHint = "install it with: bash .ci/services (or apt-get install pgbouncer redis-server redis-sentinel haproxy)"

// need returns the path of program, failing the test when it is missing.
func need(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		t.Fatalf("enginetest: %s is not installed (%v); %s", program, err, installHint)
	}
	return path
}

// handedOut holds the ports FreePort has returned in this test binary.
// The kernel may give a port just closed to the next listener on port 0,
// so two calls in a row (a server and its side listener, say) could get the
// same one; FreePort never returns a port twice.
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// FreePort returns a loopback TCP port that was free a moment ago and that
// no earlier call in this process returned.
func FreePort(t testing.TB) int {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports == nil {
		handedOut.ports = map[int]bool{}
	}
	for range 100 {
		ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("enginetest: find a free port: %v", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if !handedOut.ports[port] {
			handedOut.ports[port] = true
			return port
		}
	}
	t.Fatal("enginetest: 100 tries found no port that was not handed out before")
	return 0
}

// workDir returns a fresh directory for a program's files that other users
// may read (PgBouncer refuses to run as root and drops to another user),
// removed when the test ends.
func workDir(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "enginetest-"+name+"-")
	if err != nil {
		t.Fatalf("enginetest: %v", err)
	}
	//nolint:gosec // G302: the directory holds test configuration only
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("enginetest: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// writeFile writes a configuration file that other users may read.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	//nolint:gosec // G306: test configuration, read by a program that may run as another user
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("enginetest: %v", err)
	}
}

// Proc is a program started for a test, its output kept in memory.
type Proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start starts program with args in dir; it is killed when the test ends.
func start(t testing.TB, name, dir, program string, args ...string) *Proc {
	t.Helper()
	//nolint:gosec // G204: a fixed program with arguments the test chose
	cmd := exec.CommandContext(context.Background(), need(t, program), args...)
	cmd.Dir = dir
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that a signal to the test does not reach it
	// first and Kill takes every child with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("enginetest: start %s: %v", name, err)
	}
	p := &Proc{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill)
	return p
}

// Kill stops the program at once (SIGKILL), as a crash would, and waits for
// it to exit. Killing a stopped program does nothing.
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Exited reports whether the program has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Output returns the last 4 KiB of what the program wrote.
func (p *Proc) Output() string {
	s := p.out.String()
	if len(s) > 4096 {
		s = "..." + s[len(s)-4096:]
	}
	return s
}

// errExited is returned by a wait on a program that has exited.
var errExited = errors.New("program exited")

// waitUntil calls ready until it returns nil, failing the test with the
// last error and the program's output after timeout or when p exits.
func waitUntil(t testing.TB, p *Proc, what string, timeout time.Duration, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return
		}
		if p != nil && p.Exited() {
			err = errExited
		}
		if errors.Is(err, errExited) || time.Now().After(deadline) {
			out := ""
			if p != nil {
				out = "\n" + p.name + " output:\n" + p.Output()
			}
			t.Fatalf("enginetest: %s not ready within %s: %v%s", what, timeout, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addr returns 127.0.0.1:port.
func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// lines joins configuration lines.
func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// path joins dir and name.
func path(dir, name string) string { return filepath.Join(dir, name) }
