// Package faultproxy puts a fault-injecting TCP proxy between a test and a
// server, so that the test can cut the connections or slow them down without
// touching the server itself. It runs Shopify's toxiproxy in-process, as a
// library: no toxiproxy-server, no HTTP API, nothing but a loopback listener.
// Freezer, a small proxy of its own, freezes the connections open at a given
// time while it lets new ones through, which toxiproxy cannot do.
package faultproxy

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Proxy is a running proxy from a free loopback port to one upstream.
type Proxy struct {
	t     testing.TB
	proxy *toxiproxy.Proxy
}

// Start runs a proxy on a free 127.0.0.1 port that forwards to upstream
// (host:port) until the test ends.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "upstream", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("faultproxy: start proxy to %s: %v", upstream, err)
	}
	t.Cleanup(p.Stop)
	return &Proxy{t: t, proxy: p}
}

// Addr returns the address the proxy listens on. It stays the same across
// Cut and Restore.
func (p *Proxy) Addr() string {
	p.proxy.Lock()
	defer p.proxy.Unlock()
	return p.proxy.Listen
}

// Cut closes every proxied connection and stops listening, so that new
// connections are refused: what a client sees when its server goes away.
func (p *Proxy) Cut() { p.proxy.Stop() }

// Restore listens again on the same address.
func (p *Proxy) Restore() {
	p.t.Helper()
	if err := p.proxy.Start(); err != nil {
		p.t.Fatalf("faultproxy: restore proxy on %s: %v", p.Addr(), err)
	}
}

// AddLatency delays every chunk that the upstream sends back by d, on the
// connections open now and on those opened later, until RemoveToxic(name).
func (p *Proxy) AddLatency(name string, d time.Duration) {
	p.t.Helper()
	toxic := fmt.Sprintf(`{"name": %q, "type": "latency", "stream": "downstream", "toxicity": 1,
		"attributes": {"latency": %d}}`, name, d.Milliseconds())
	if _, err := p.proxy.Toxics.AddToxicJson(strings.NewReader(toxic)); err != nil {
		p.t.Fatalf("faultproxy: add latency toxic %s: %v", name, err)
	}
}

// RemoveToxic removes the toxic that AddLatency added under name; the data
// it was holding back goes through at once.
func (p *Proxy) RemoveToxic(name string) {
	p.t.Helper()
	if err := p.proxy.Toxics.RemoveToxic(context.Background(), name); err != nil {
		p.t.Fatalf("faultproxy: remove toxic %s: %v", name, err)
	}
}
