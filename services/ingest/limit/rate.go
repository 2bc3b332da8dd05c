package limit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/alexus-platform/alexus/internal/rediskey"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/autopipe"
)

// ErrUnavailable wraps every failure to ask Redis whether a tenant is within
// its rate. The limiter then fails closed: the plane answers UNAVAILABLE
// rather than letting the call through unmetered, which is also what the
// call would have come to, since recording a signal needs the same Redis.
var ErrUnavailable = errors.New("rate limiter unavailable")

// RateKey is the last part of a tenant's limiter key,
// <namespace>:{<tenant>}:ratelimit.
const RateKey = "ratelimit"

// Rate is how many payloads per second a tenant may send, on average, and
// how many it may send at once after a quiet spell.
type Rate struct {
	// PerSecond is the sustained rate; zero disables the limit.
	PerSecond int
	// Burst is the most payloads allowed at once, at least 1 when the limit
	// is enabled.
	Burst int
}

// RateLimiter meters each tenant's payloads with GCRA in Redis, so the rate
// holds however many ingest replicas share the tenant's traffic. Its methods
// are safe for concurrent use.
type RateLimiter struct {
	lim   *redis_rate.Limiter
	space rediskey.Space
	limit redis_rate.Limit

	// refusedUntil remembers, per tenant, until when a single payload is
	// sure to be refused: a GCRA state only moves later in time, so a
	// payload refused with RetryAfter d is refused for everyone until d
	// has passed. Within that time Allow(t, 1) answers without Redis,
	// which also spares a flooding tenant's payloads from being
	// normalised. An entry holds at most one emission interval.
	mu           sync.Mutex
	refusedUntil map[tenant.ID]time.Time
}

// maxRefusedTenants bounds refusedUntil; when full it starts over, which
// only costs a Redis check per tenant.
const maxRefusedTenants = 10_000

// NewRateLimiter returns a limiter keeping its state in Redis under space,
// sending its checks through pipe, so the checks of concurrent calls share
// pipelines. With r.PerSecond zero it allows everything and never calls
// Redis.
func NewRateLimiter(pipe *autopipe.Pipeliner, space rediskey.Space, r Rate) *RateLimiter {
	return &RateLimiter{
		lim:   redis_rate.NewLimiter(unprefixed{rdb: pipe.Client(), pipe: pipe}),
		space: space,
		limit: redis_rate.Limit{Rate: r.PerSecond, Burst: r.Burst, Period: time.Second},

		refusedUntil: make(map[tenant.ID]time.Time),
	}
}

// Limit returns the GCRA parameters: the burst, and the rate per period.
func (l *RateLimiter) Limit() (burst, rate int, period time.Duration) {
	return l.limit.Burst, l.limit.Rate, l.limit.Period
}

// Refused returns the refusal of a single payload of t when one made
// earlier is still sure to hold at now, without asking Redis.
func (l *RateLimiter) Refused(t tenant.ID, now time.Time) (*Refusal, bool) {
	l.mu.Lock()
	until, ok := l.refusedUntil[t]
	if ok && !now.Before(until) {
		delete(l.refusedUntil, t)
		ok = false
	}
	l.mu.Unlock()
	if !ok {
		return nil, false
	}
	return l.refusal(until.Sub(now)), true
}

// NoteRefused records that a single payload of t, checked in Redis no
// earlier than sent, was refused with retry: it stays refused until
// sent+retry, which is no later than Redis's own answer would change.
// It returns the refusal to give the caller.
func (l *RateLimiter) NoteRefused(t tenant.ID, sent time.Time, retry time.Duration) *Refusal {
	until := sent.Add(retry)
	l.mu.Lock()
	if len(l.refusedUntil) >= maxRefusedTenants {
		clear(l.refusedUntil)
	}
	if until.After(l.refusedUntil[t]) {
		l.refusedUntil[t] = until
	}
	l.mu.Unlock()
	return l.refusal(retry)
}

// Enabled reports whether the limiter meters anything.
func (l *RateLimiter) Enabled() bool { return l.limit.Rate > 0 }

// Key returns the Redis key holding t's limiter state.
func (l *RateLimiter) Key(t tenant.ID) string { return l.space.Tenant(t, RateKey) }

// Allow charges n payloads to t's rate when all n fit. When they do not,
// nothing is charged and it returns a *Refusal (ReasonRateLimited) whose
// RetryAfter is when n will fit; n above the burst never fits. A Redis
// failure returns an error wrapping ErrUnavailable, or the context's error
// when ctx ended.
func (l *RateLimiter) Allow(ctx context.Context, t tenant.ID, n int) error {
	if !l.Enabled() || n <= 0 {
		return nil
	}
	sent := time.Now()
	if n == 1 {
		if r, ok := l.Refused(t, sent); ok {
			return r
		}
	}
	res, err := l.lim.AllowN(ctx, l.Key(t), l.limit, n)
	if err != nil {
		return l.unavailable(ctx, t, err)
	}
	if res.Allowed < n {
		if n == 1 {
			return l.NoteRefused(t, sent, res.RetryAfter)
		}
		return l.refusal(res.RetryAfter)
	}
	return nil
}

// AllowAtMost charges as many of n payloads to t's rate as fit, and returns
// how many it charged. When that is fewer than n it also returns a *Refusal
// for the rest, whose RetryAfter is when one more will fit. Errors are as for
// Allow, with nothing charged.
func (l *RateLimiter) AllowAtMost(ctx context.Context, t tenant.ID, n int) (int, error) {
	if !l.Enabled() || n <= 0 {
		return n, nil
	}
	res, err := l.lim.AllowAtMost(ctx, l.Key(t), l.limit, n)
	if err != nil {
		return 0, l.unavailable(ctx, t, err)
	}
	if res.Allowed >= n {
		return n, nil
	}
	retry := res.RetryAfter
	if retry <= 0 {
		// Some were allowed, which redis_rate reports as no wait at all;
		// the next payload fits one emission interval from now.
		retry = l.limit.Period / time.Duration(l.limit.Rate)
	}
	return res.Allowed, l.refusal(retry)
}

func (l *RateLimiter) refusal(retry time.Duration) *Refusal {
	return &Refusal{
		Reason:     ReasonRateLimited,
		RetryAfter: max(retry, 0),
		Detail:     fmt.Sprintf("tenant is over its rate of %d payloads/s (burst %d)", l.limit.Rate, l.limit.Burst),
	}
}

func (l *RateLimiter) unavailable(ctx context.Context, t tenant.ID, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("check rate of tenant %s: %w", t, ctx.Err())
	}
	return fmt.Errorf("%w: check rate of tenant %s: %w", ErrUnavailable, t, err)
}

// ratePrefix is the prefix redis_rate v10 puts before every key it is given
// (its unexported redisPrefix); it cannot be configured.
const ratePrefix = "rate:"

// unprefixed hands redis_rate a client that takes its "rate:" prefix off
// again. With the prefix, a tenant's key would be
// "rate:<namespace>:{<tenant>}:ratelimit": still in the tenant's Cluster slot,
// since Redis hashes the first {...} of a key, but outside the namespace,
// where SCAN <namespace>:*, ACL key patterns (~<namespace>:*) and test
// cleanup never see it. Without it, the key is exactly
// rediskey.Space.Tenant(t, RateKey), like every other tenant key; a test
// checks that, so a redis_rate release that changed its prefix would be
// noticed.
//
// It also sends EVALSHA, the command of every check but a script's first
// run, through the Pipeliner. EVAL (the NOSCRIPT fallback) and the rest go
// to Redis directly.
type unprefixed struct {
	rdb  redis.UniversalClient
	pipe *autopipe.Pipeliner
}

func stripKeys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimPrefix(k, ratePrefix)
	}
	return out
}

func (u unprefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return u.rdb.Eval(ctx, script, stripKeys(keys), args...)
}

func (u unprefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	cmd := autopipe.NewEvalSha(ctx, sha1, stripKeys(keys), args...)
	u.pipe.Do(ctx, nil, cmd)
	return cmd
}

func (u unprefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return u.rdb.EvalRO(ctx, script, stripKeys(keys), args...)
}

func (u unprefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return u.rdb.EvalShaRO(ctx, sha1, stripKeys(keys), args...)
}

func (u unprefixed) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return u.rdb.ScriptExists(ctx, hashes...)
}

func (u unprefixed) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return u.rdb.ScriptLoad(ctx, script)
}

func (u unprefixed) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return u.rdb.Del(ctx, stripKeys(keys)...)
}
