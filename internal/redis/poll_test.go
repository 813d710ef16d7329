package redis_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/redis"
	"github.com/accountd/accountd/internal/redis/redistest"
)

// advance moves the view's clock forward by d, in steps short enough that
// its feed never looks silent: after each step it waits until the feed has
// been heard at the new time (pongs come every feedPing).
func advance(t *testing.T, v *redis.RevocationView, clk *clock, d time.Duration) {
	t.Helper()
	const step = 300 * time.Millisecond
	for d > 0 {
		now := clk.Add(min(d, step))
		d -= min(d, step)
		if !eventually(5*time.Second, func() bool { return !redis.LastHeard(v).Before(now) }) {
			t.Fatal("the feed was not heard within 5s")
		}
	}
}

// TestViewRefusesWhileThePollFails makes the durable record fail while the
// feed stays up. An announcement lost on its way to Redis would now reach
// no view, so once PollStaleAfter has passed without a good poll the view
// refuses to decide; it answers again as soon as a poll succeeds. The
// failure is logged once at WARN, the recovery once at INFO.
func TestViewRefusesWhileThePollFails(t *testing.T) {
	c, prefix := redistest.New(t)
	rec := &record{}
	clk := newClock()
	logs := &logRecorder{}
	v := startViewOn(t, c, prefix, rec, clk.Now, slog.New(logs))

	rec.setFailing(true)
	if !eventually(10*time.Second, func() bool { return rec.failures() >= 3 }) {
		t.Fatal("the view did not poll its record")
	}
	// A poll or two may fail (the clock has not moved since the last good
	// one): the view still answers, up to the bound.
	advance(t, v, clk, redis.PollStaleAfter)
	if _, err := revoked(v, "x"); err != nil {
		t.Fatalf("SessionRevoked %v after the last good poll = %v; want an answer", redis.PollStaleAfter, err)
	}
	advance(t, v, clk, time.Millisecond)
	if _, err := revoked(v, "x"); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("SessionRevoked past %v without a good poll = %v; want ErrUnavailable", redis.PollStaleAfter, err)
	}

	rec.setFailing(false)
	if !eventually(10*time.Second, func() bool { _, err := revoked(v, "x"); return err == nil }) {
		t.Fatal("the view did not answer again within 10s of its record coming back")
	}
	if n := logs.count(slog.LevelWarn, "poll"); n != 1 {
		t.Errorf("%d warnings about the failing poll (after %d failures), want 1", n, rec.failures())
	}
	if !eventually(5*time.Second, func() bool { return logs.count(slog.LevelInfo, "poll") == 1 }) {
		t.Errorf("%d notices of the poll's recovery, want 1", logs.count(slog.LevelInfo, "poll"))
	}
}
