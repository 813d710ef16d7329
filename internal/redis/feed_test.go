package redis_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/faultproxy"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/redis/redistest"
)

// rig is a private redis-server with a Freezer in front of it, a client of
// the server through the Freezer, configured as accountd configures its own
// (redis.Open), and a direct client.
type rig struct {
	srv             *redistest.Server
	px              *faultproxy.Freezer
	proxied, direct goredis.UniversalClient
}

// newRig starts a rig; query is added to the URL of the proxied client.
func newRig(t *testing.T, query string) rig {
	t.Helper()
	srv := redistest.StartServer(t)
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatalf("parse %s: %v", srv.URL(), err)
	}
	px := faultproxy.StartFreezer(t, u.Host)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	proxied, err := redis.Open(ctx, "redis://"+px.Addr()+"/0"+query)
	if err != nil {
		t.Fatalf("open redis through the freezer: %v", err)
	}
	t.Cleanup(func() { _ = proxied.Close() })
	direct, err := redis.Open(ctx, srv.URL())
	if err != nil {
		t.Fatalf("open redis: %v", err)
	}
	t.Cleanup(func() { _ = direct.Close() })
	return rig{srv: srv, px: px, proxied: proxied, direct: direct}
}

// TestViewResubscribesWhenTheFeedFallsSilent freezes the feed's connection:
// it stays open, Redis still holds its subscription, but nothing passes,
// as when a peer vanishes without closing the socket. The view must not
// wait for the kernel to give up on it (minutes): after feedStaleAfter of
// silence it drops the connection, says so, subscribes again on a new one
// and rebuilds itself, and then hears revocations again.
func TestViewResubscribesWhenTheFeedFallsSilent(t *testing.T) {
	r := newRig(t, "")
	px, direct := r.px, r.direct
	logs := &logRecorder{}
	v := startViewOn(t, r.proxied, "t:", &record{}, time.Now, slog.New(logs))

	frozen := time.Now()
	if n := px.Freeze(); n == 0 {
		t.Fatal("no connection to freeze")
	}
	if !eventually(10*time.Second, func() bool { return logs.count(slog.LevelWarn, "silent") > 0 }) {
		t.Fatal("the view did not report its silent feed within 10s")
	}
	if !eventually(10*time.Second, func() bool { _, err := revoked(v, "x"); return err == nil }) {
		t.Fatal("the view did not resubscribe within 10s of its feed falling silent; want fresh again")
	}
	t.Logf("fresh again %v after the feed's connection froze", time.Since(frozen).Round(time.Millisecond))
	// The frozen connection is still open: Redis still counts its
	// subscription besides the new one.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if subs, err := direct.PubSubNumSub(ctx, "t:revocations").Result(); err != nil || subs["t:revocations"] < 2 {
		t.Fatalf("subscriptions = %v, %v; want the frozen one and the new one", subs, err)
	}
	// Announced through Redis alone (the view's record is empty): only the
	// new subscription can carry it.
	other := redis.NewRevocationView(direct, "t:", &record{}, time.Hour, quiet)
	if err := other.RevokeSessions(ctx, []string{"after"}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !eventually(5*time.Second, func() bool { r, _ := revoked(v, "after"); return r }) {
		t.Fatal("the resubscribed view does not hear new revocations")
	}
}

// TestViewRefusesAtOnceWhenTheFeedBreaks breaks the feed's connection
// outright. The view's clock stands still, so the feed can never look
// silent: the view refuses only because its receive loop saw the connection
// break, and it must do so at once. When the host stops answering new
// connections, that is before the end of the redial that go-redis makes
// inside the receive, which may last the client's read timeout (here 30s).
func TestViewRefusesAtOnceWhenTheFeedBreaks(t *testing.T) {
	for name, brk := range map[string]func(rig) int{
		"redis-server killed": func(r rig) int { r.srv.Stop(); return 1 },
		"connection reset, host silent": func(r rig) int {
			r.px.FreezeNew()
			return r.px.Sever()
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, "?dial_timeout=30s&read_timeout=30s")
			v := startViewOn(t, r.proxied, "t:", &record{}, newClock().Now, quiet)
			broke := time.Now()
			if n := brk(r); n == 0 {
				t.Fatal("no connection to break")
			}
			if !eventually(10*time.Second, func() bool {
				_, err := revoked(v, "x")
				return errors.Is(err, account.ErrUnavailable)
			}) {
				t.Fatal("the view still answers 10s after its feed's connection broke; want ErrUnavailable at once")
			}
			t.Logf("refused %v after the feed's connection broke", time.Since(broke).Round(time.Millisecond))
		})
	}
}
