package faultproxy

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

// Freezer is a TCP proxy that can freeze the connections it carries. A
// frozen connection stays open at both ends but passes nothing either way,
// as a half-open connection whose peer vanished without a word does; unlike
// Proxy's toxics, which hit every connection, Freeze hits only the
// connections open at the time, so that a client that dials again gets
// through.
type Freezer struct {
	upstream string
	ln       net.Listener
	done     chan struct{} // closed when the test ends
	wg       sync.WaitGroup

	mu        sync.Mutex
	links     map[*link]struct{}
	freezeNew bool
	stopped   bool
}

// link is one proxied connection: the client's and ours to the upstream.
type link struct {
	client, server net.Conn
	frozen         chan struct{} // closed when frozen
	once           sync.Once
}

func (l *link) freeze() { l.once.Do(func() { close(l.frozen) }) }

func (l *link) isFrozen() bool {
	select {
	case <-l.frozen:
		return true
	default:
		return false
	}
}

// StartFreezer runs a Freezer on a free 127.0.0.1 port that forwards to
// upstream (host:port) until the test ends.
func StartFreezer(t testing.TB, upstream string) *Freezer {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: listen: %v", err)
	}
	f := &Freezer{upstream: upstream, ln: ln, done: make(chan struct{}), links: make(map[*link]struct{})}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.stop)
	return f
}

// Addr returns the address the Freezer listens on.
func (f *Freezer) Addr() string { return f.ln.Addr().String() }

// Freeze freezes every connection open now, until the test ends, and
// returns how many it froze. Connections opened later pass.
func (f *Freezer) Freeze() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for l := range f.links {
		l.freeze()
	}
	return len(f.links)
}

// FreezeNew freezes every connection accepted from now on as soon as it is
// accepted: a server whose host stopped answering behind a listener that
// still accepts.
func (f *Freezer) FreezeNew() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.freezeNew = true
}

// Sever resets every connection open now, frozen or not, at both ends, as
// when the server process is killed, and returns how many it reset.
func (f *Freezer) Sever() int {
	f.mu.Lock()
	links := make([]*link, 0, len(f.links))
	for l := range f.links {
		links = append(links, l)
	}
	f.mu.Unlock()
	for _, l := range links {
		if tc, ok := l.client.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // a reset, not an orderly close
		}
		f.drop(l)
	}
	return len(links)
}

func (f *Freezer) accept() {
	defer f.wg.Done()
	for {
		client, err := f.ln.Accept()
		if err != nil {
			return
		}
		server, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(context.Background(), "tcp", f.upstream)
		if err != nil {
			_ = client.Close()
			continue
		}
		l := &link{client: client, server: server, frozen: make(chan struct{})}
		f.mu.Lock()
		if f.stopped {
			f.mu.Unlock()
			_ = client.Close()
			_ = server.Close()
			return
		}
		f.links[l] = struct{}{}
		if f.freezeNew {
			l.freeze()
		}
		f.wg.Add(2)
		f.mu.Unlock()
		go f.pipe(l, server, client)
		go f.pipe(l, client, server)
	}
}

// pipe copies src to dst until either end closes or the link freezes; a
// frozen link then stays open until the test ends, whatever its ends do.
func (f *Freezer) pipe(l *link, dst, src net.Conn) {
	defer f.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if l.isFrozen() {
			break // what was read is lost, as on a dead path
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	if l.isFrozen() {
		<-f.done
	}
	f.drop(l)
}

// drop closes both ends of the link and forgets it.
func (f *Freezer) drop(l *link) {
	_ = l.client.Close()
	_ = l.server.Close()
	f.mu.Lock()
	delete(f.links, l)
	f.mu.Unlock()
}

func (f *Freezer) stop() {
	f.mu.Lock()
	f.stopped = true
	links := make([]*link, 0, len(f.links))
	for l := range f.links {
		links = append(links, l)
	}
	f.mu.Unlock()
	close(f.done)
	_ = f.ln.Close()
	for _, l := range links {
		f.drop(l)
	}
	f.wg.Wait()
}
