package redis

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"

	"github.com/accountd/accountd/internal/account"
)

var _ account.Limiter = (*Limiter)(nil)

// Limiter keeps rate limits in Redis with redis_rate's GCRA script, so that
// every instance of accountd shares them. The script takes its clock from
// Redis (TIME), so instances with skewed clocks still agree.
type Limiter struct {
	rate   *redis_rate.Limiter
	prefix string
}

// NewLimiter returns a Limiter that stores its counts under prefix+"rate:".
func NewLimiter(client goredis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rate: redis_rate.NewLimiter(unprefixed{client}), prefix: prefix}
}

func (l *Limiter) key(key string) string { return l.prefix + "rate:" + key }

// gcra turns a domain limit into redis_rate's terms: one event per
// Interval, bursts of Burst.
func gcra(limit account.Limit) redis_rate.Limit {
	return redis_rate.Limit{Rate: 1, Period: limit.Interval, Burst: limit.Burst}
}

// Allow records one event under key when limit allows it. It returns a
// *account.RateLimitError when limit does not, and account.ErrUnavailable
// when Redis cannot be reached.
func (l *Limiter) Allow(ctx context.Context, key string, limit account.Limit) error {
	if limit.Off() {
		return nil
	}
	res, err := l.rate.Allow(ctx, l.key(key), gcra(limit))
	if err != nil {
		return wrapUnavailable("rate limit", err)
	}
	if res.Allowed == 0 {
		return refused(res.RetryAfter)
	}
	return nil
}

// Check returns what Allow would, without recording an event.
func (l *Limiter) Check(ctx context.Context, key string, limit account.Limit) error {
	if limit.Off() {
		return nil
	}
	// Asking for at most zero events records nothing; RetryAfter tells
	// whether even one more would be refused.
	res, err := l.rate.AllowAtMost(ctx, l.key(key), gcra(limit), 0)
	if err != nil {
		return wrapUnavailable("rate limit", err)
	}
	if res.RetryAfter > 0 {
		return refused(res.RetryAfter)
	}
	return nil
}

func refused(retryAfter time.Duration) error {
	return &account.RateLimitError{RetryAfterSeconds: max(1, int(math.Ceil(retryAfter.Seconds())))}
}

// libraryPrefix is what redis_rate puts before every key.
const libraryPrefix = "rate:"

// unprefixed hands redis_rate a client that drops the library's own key
// prefix, so that the keys start with accountd's configured prefix (which
// Redis ACL key patterns and operators rely on) rather than with "rate:".
type unprefixed struct {
	goredis.UniversalClient
}

func (u unprefixed) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, libraryPrefix)
	}
	return out
}

func (u unprefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return u.UniversalClient.Eval(ctx, script, u.keys(keys), args...)
}

func (u unprefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return u.UniversalClient.EvalSha(ctx, sha1, u.keys(keys), args...)
}

func (u unprefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return u.UniversalClient.EvalRO(ctx, script, u.keys(keys), args...)
}

func (u unprefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return u.UniversalClient.EvalShaRO(ctx, sha1, u.keys(keys), args...)
}

func (u unprefixed) Del(ctx context.Context, keys ...string) *goredis.IntCmd {
	return u.UniversalClient.Del(ctx, u.keys(keys)...)
}
