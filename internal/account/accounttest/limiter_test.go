package accounttest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/accountd/accountd/internal/account"
	"github.com/accountd/accountd/internal/account/accounttest"
)

// The fake limiter keeps the GCRA's promises that the service relies on:
// Burst events at once, then one per Interval; Check records nothing; a
// refusal says how long to wait.
func TestLimiter(t *testing.T) {
	t.Parallel()
	clock := accounttest.NewClock(accounttest.Epoch)
	l := accounttest.NewLimiter(clock.Now)
	ctx := t.Context()
	limit := account.Limit{Burst: 3, Interval: time.Minute}

	for i := range 3 {
		if err := l.Check(ctx, "k", limit); err != nil {
			t.Fatalf("Check before event %d = %v, want nil", i+1, err)
		}
		if err := l.Allow(ctx, "k", limit); err != nil {
			t.Fatalf("Allow(event %d of a burst of 3) = %v, want nil", i+1, err)
		}
	}
	wantRetry := func(what string, err error, seconds int) {
		t.Helper()
		var rl *account.RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfterSeconds != seconds {
			t.Fatalf("%s = %v, want a *RateLimitError to retry after %d s", what, err, seconds)
		}
	}
	wantRetry("Check after the burst", l.Check(ctx, "k", limit), 60)
	wantRetry("Allow after the burst", l.Allow(ctx, "k", limit), 60)
	clock.Advance(59*time.Second + time.Millisecond)
	wantRetry("Allow a moment before the interval", l.Allow(ctx, "k", limit), 1)
	if err := l.Allow(ctx, "other", limit); err != nil {
		t.Fatalf("Allow(another key) = %v, want nil", err)
	}

	clock.Advance(time.Second)
	if err := l.Allow(ctx, "k", limit); err != nil {
		t.Fatalf("Allow after one interval = %v, want nil", err)
	}
	wantRetry("Allow right after", l.Allow(ctx, "k", limit), 60)

	// Three intervals of quiet refill the whole burst.
	clock.Advance(3 * time.Minute)
	for i := range 3 {
		if err := l.Allow(ctx, "k", limit); err != nil {
			t.Fatalf("Allow(event %d after a refill) = %v, want nil", i+1, err)
		}
	}

	if err := l.Allow(ctx, "k", account.Limit{}); err != nil {
		t.Fatalf("Allow(limit off) = %v, want nil", err)
	}
	l.SetUnavailable(true)
	if err := l.Check(ctx, "x", limit); !errors.Is(err, account.ErrUnavailable) {
		t.Fatalf("Check while unavailable = %v, want ErrUnavailable", err)
	}
}
