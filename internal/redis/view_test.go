package redis_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/redis/redistest"
)

// record is a durable record of revocations kept in memory, standing in for
// PostgreSQL's sessions.revoked_at in these tests of the view alone. It can
// be made to fail, as PostgreSQL does when it is down.
type record struct {
	mu      sync.Mutex
	list    []account.Revocation
	failing bool
	failed  int // reads that failed
}

// errRecordDown is what a failing record returns.
var errRecordDown = errors.New("record down")

func (r *record) add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, account.Revocation{SessionID: id, RevokedAt: time.Now()})
}

// setFailing makes every read fail, or work again.
func (r *record) setFailing(failing bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing = failing
}

// failures returns how many reads have failed.
func (r *record) failures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *record) RevokedSince(_ context.Context, since time.Time) ([]account.Revocation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		r.failed++
		return nil, errRecordDown
	}
	var out []account.Revocation
	for _, x := range r.list {
		if !x.RevokedAt.Before(since) {
			out = append(out, x)
		}
	}
	return out, nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startView runs a view on client until the test ends and waits for it.
func startView(t *testing.T, client goredis.UniversalClient, prefix string, rec *record) *redis.RevocationView {
	t.Helper()
	return startViewOn(t, client, prefix, rec, time.Now, quiet)
}

// startViewOn is startView with the view's clock and logger.
func startViewOn(t *testing.T, client goredis.UniversalClient, prefix string, rec *record,
	now func() time.Time, log *slog.Logger) *redis.RevocationView {
	t.Helper()
	v := redis.NewRevocationViewOnClock(client, prefix, rec, time.Hour, log, now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer rcancel()
	if err := v.Ready(rctx); err != nil {
		t.Fatalf("view not ready: %v", err)
	}
	return v
}

// eventually polls cond for up to d. The tests give it a generous d: it
// returns as soon as cond holds, and a busy machine may be slow.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}

func revoked(v *redis.RevocationView, id string) (bool, error) {
	return v.SessionRevoked(context.Background(), id)
}

// clock is a clock that moves only when the test moves it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// logRecorder is a slog.Handler that keeps each record as a line of text.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	return nil
}

// count returns how many records at level contain text.
func (l *logRecorder) count(level slog.Level, text string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.HasPrefix(line, level.String()+" ") && strings.Contains(line, text) {
			n++
		}
	}
	return n
}

func TestViewPropagatesAcrossInstances(t *testing.T) {
	c, prefix := redistest.New(t)
	rec := &record{}
	rec.add("old") // revoked before either instance started
	a, b := startView(t, c, prefix, rec), startView(t, c, prefix, rec)

	for _, v := range []*redis.RevocationView{a, b} {
		if r, err := revoked(v, "old"); err != nil || !r {
			t.Fatalf("session revoked before start: revoked = %v, %v; want true", r, err)
		}
	}
	rec.add("s1")
	start := time.Now()
	if err := a.RevokeSessions(context.Background(), []string{"s1"}, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("RevokeSessions: %v", err)
	}
	if r, _ := revoked(a, "s1"); !r {
		t.Fatal("the revoking instance does not see its own revocation at once")
	}
	if !eventually(10*time.Second, func() bool { r, _ := revoked(b, "s1"); return r }) {
		t.Fatal("the other instance did not see the revocation within 10s")
	}
	t.Logf("propagation took %v", time.Since(start))
	// An idle feed stays fresh: its pings prove it alive.
	time.Sleep(1500 * time.Millisecond)
	if r, err := revoked(b, "never"); err != nil || r {
		t.Fatalf("a session never revoked: %v, %v; want false, nil", r, err)
	}
}

func TestViewExpiresRevocations(t *testing.T) {
	c, prefix := redistest.New(t)
	v := startView(t, c, prefix, &record{})
	// Long enough to be seen at once on a loaded machine, short enough to
	// watch it run out.
	if err := v.RevokeSessions(context.Background(), []string{"brief"}, time.Now().Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if r, _ := revoked(v, "brief"); !r {
		t.Fatal("revocation not seen")
	}
	if !eventually(10*time.Second, func() bool { r, _ := revoked(v, "brief"); return !r && v.Len() == 0 }) {
		t.Fatalf("revocation still held after its end (len %d); every token it covered has expired", v.Len())
	}
}

func TestViewFailsClosedAndResyncs(t *testing.T) {
	srv := redistest.StartServer(t)
	opts, _ := goredis.ParseURL(srv.URL())
	opts.DialTimeout, opts.MaxRetries = 200*time.Millisecond, -1
	c := goredis.NewClient(opts)
	defer c.Close()
	rec := &record{}
	v := startView(t, c, "t:", rec)

	srv.Stop()
	// Within about a second of losing the feed, the view refuses to decide.
	if !eventually(10*time.Second, func() bool {
		_, err := revoked(v, "x")
		return errors.Is(err, account.ErrUnavailable)
	}) {
		t.Fatal("view still answers with its feed down; want ErrUnavailable (fail closed)")
	}
	// A revocation made while Redis is down lands in the durable record
	// (the service writes PostgreSQL first); its announcement waits.
	rec.add("during-outage")
	if err := v.RevokeSessions(context.Background(), []string{"during-outage"}, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("RevokeSessions with Redis down = %v, want nil (announcement deferred)", err)
	}

	// Redis comes back empty; a second instance that never heard of the
	// revocation starts; both rebuild from the record.
	srv.Start()
	if !eventually(10*time.Second, func() bool { _, err := revoked(v, "x"); return err == nil }) {
		t.Fatal("view did not recover within 10s of Redis coming back")
	}
	fresh := startView(t, c, "t:", rec)
	for name, view := range map[string]*redis.RevocationView{"recovered": v, "new": fresh} {
		if r, err := revoked(view, "during-outage"); err != nil || !r {
			t.Fatalf("%s view: revocation made during the outage = %v, %v; want revoked", name, r, err)
		}
	}
	if err := fresh.RevokeSessions(context.Background(), []string{"after"}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool { r, _ := revoked(v, "after"); return r }) {
		t.Fatal("recovered view does not hear new revocations")
	}
}

// TestViewPollsTheRecord covers a revocation whose announcement never
// reached Redis (its instance was cut off from Redis alone): the record
// still carries it to every view (within about a second; the test allows
// 10s).
func TestViewPollsTheRecord(t *testing.T) {
	c, prefix := redistest.New(t)
	rec := &record{}
	v := startView(t, c, prefix, rec)
	rec.add("never-announced")
	if !eventually(10*time.Second, func() bool { r, _ := revoked(v, "never-announced"); return r }) {
		t.Fatal("a revocation only in the durable record did not reach the view within 10s")
	}
}
