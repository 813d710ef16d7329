package enginetest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

// HAProxy is a private HAProxy balancing HTTP requests over backends,
// checking each with GET /health.
type HAProxy struct {
	Proc *Proc
	port int
}

// HAProxyCheckInterval is how often HAProxy checks each backend's /health.
// One failed check takes a backend out, one good check puts it back.
const HAProxyCheckInterval = 250 * time.Millisecond

// HAProxyOptions change the balancer's behaviour.
type HAProxyOptions struct {
	// Retry sends a request whose connection to a backend failed, or that
	// got no response at all, to another backend (retry-on conn-failure
	// empty-response, option redispatch). Without it, such a request fails
	// with 503, so that only the backends' draining protects requests.
	Retry bool
}

// StartHAProxy starts HAProxy in HTTP mode on a free port, balancing round
// robin over backends (host:port). A backend whose /health answers anything but
// 200 stops getting requests within two check intervals.
func StartHAProxy(t testing.TB, backends []string, opts HAProxyOptions) *HAProxy {
	t.Helper()
	dir := workDir(t, "haproxy")
	h := &HAProxy{port: FreePort(t)}
	inter := strconv.Itoa(int(HAProxyCheckInterval.Milliseconds())) + "ms"
	cfg := lines(
		"global",
		"  maxconn 4000",
		"defaults",
		"  mode http",
		"  timeout connect 2s",
		"  timeout client 30s",
		"  timeout server 30s",
		"  timeout http-keep-alive 10s",
		"frontend accountd",
		"  bind "+h.Addr(),
		"  default_backend accountd",
		"backend accountd",
		"  balance roundrobin",
		"  option httpchk GET /health",
		"  http-check expect status 200",
		// A check may take up to 2 s on a loaded machine before it counts
		// as failed, and two failures take a server out: a draining
		// instance answers 503 at once, so it is out within two
		// intervals, well inside SHUTDOWN_DELAY.
		"  timeout check 2s",
		"  default-server check inter "+inter+" fall 2 rise 1",
	)
	if opts.Retry {
		cfg += lines("  retries 3", "  option redispatch 1", "  retry-on conn-failure empty-response")
	} else {
		cfg += lines("  retries 0")
	}
	for i, b := range backends {
		cfg += fmt.Sprintf("  server accountd%d %s\n", i+1, b)
	}
	writeFile(t, path(dir, "haproxy.cfg"), cfg)
	need(t, "haproxy")
	h.Proc = start(t, "haproxy", dir, "haproxy", "-db", "-f", path(dir, "haproxy.cfg"))
	waitUntil(t, h.Proc, "haproxy on "+h.Addr(), 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", h.Addr())
		if err != nil {
			return err
		}
		return conn.Close()
	})
	return h
}

// Addr returns HAProxy's host:port.
func (h *HAProxy) Addr() string { return addr(h.port) }

// URL returns HAProxy's http:// URL.
func (h *HAProxy) URL() string { return "http://" + h.Addr() }
