package limit_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/redistest"
	"github.com/alexus-platform/alexus/services/ingest/autopipe"
	"github.com/alexus-platform/alexus/services/ingest/limit"
)

func requireRefusal(t *testing.T, err error, reason string) *limit.Refusal {
	t.Helper()
	var r *limit.Refusal
	require.ErrorAs(t, err, &r)
	require.Equal(t, reason, r.Reason)
	require.Positive(t, r.RetryAfter)
	require.NotEmpty(t, r.Detail)
	return r
}

func TestRateLimiterBurstThenRefuses(t *testing.T) {
	t.Parallel()
	rdb, space := redistest.New(t)
	ctx := context.Background()
	// One payload a second: nothing refills between the calls below.
	rl := limit.NewRateLimiter(autopipe.New(rdb), space, limit.Rate{PerSecond: 1, Burst: 3})

	for range 3 {
		require.NoError(t, rl.Allow(ctx, "acme", 1))
	}
	r := requireRefusal(t, rl.Allow(ctx, "acme", 1), limit.ReasonRateLimited)
	require.LessOrEqual(t, r.RetryAfter, time.Second)
	require.Contains(t, r.Error(), "RATE_LIMITED")

	// Another tenant has its own bucket.
	require.NoError(t, rl.Allow(ctx, "beta", 3))
	requireRefusal(t, rl.Allow(ctx, "beta", 1), limit.ReasonRateLimited)
}

func TestRateLimiterAllowAtMost(t *testing.T) {
	t.Parallel()
	rdb, space := redistest.New(t)
	ctx := context.Background()
	rl := limit.NewRateLimiter(autopipe.New(rdb), space, limit.Rate{PerSecond: 1, Burst: 5})

	n, err := rl.AllowAtMost(ctx, "acme", 3)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	n, err = rl.AllowAtMost(ctx, "acme", 4)
	require.Equal(t, 2, n, "the two left in the burst")
	requireRefusal(t, err, limit.ReasonRateLimited)
	n, err = rl.AllowAtMost(ctx, "acme", 1)
	require.Zero(t, n)
	requireRefusal(t, err, limit.ReasonRateLimited)

	// All or nothing: a refused Allow charges nothing.
	require.Error(t, rl.Allow(ctx, "beta", 6), "more than the burst never fits")
	require.NoError(t, rl.Allow(ctx, "beta", 5))
}

func TestRateLimiterKeyIsTenantKeyInNamespace(t *testing.T) {
	t.Parallel()
	rdb, space := redistest.New(t)
	ctx := context.Background()
	rl := limit.NewRateLimiter(autopipe.New(rdb), space, limit.Rate{PerSecond: 10, Burst: 10})
	require.NoError(t, rl.Allow(ctx, "acme", 1))

	key := space.Tenant("acme", limit.RateKey)
	require.Equal(t, key, rl.Key("acme"))
	require.Equal(t, string(space)+":{acme}:ratelimit", key)
	n, err := rdb.Exists(ctx, key).Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "the limiter state lives at the tenant's key")
	ttl, err := rdb.TTL(ctx, key).Result()
	require.NoError(t, err)
	require.Positive(t, ttl, "the state expires once the bucket is full again")
	stray, err := rdb.Keys(ctx, "rate:"+string(space)+"*").Result()
	require.NoError(t, err)
	require.Empty(t, stray, "redis_rate's own prefix is not used")
}

func TestRateLimiterDisabled(t *testing.T) {
	t.Parallel()
	// Disabled, it never calls Redis: this one could not answer.
	rl := limit.NewRateLimiter(autopipe.New(downRedis(t)), "alexustest", limit.Rate{})
	require.False(t, rl.Enabled())
	for range 100 {
		require.NoError(t, rl.Allow(context.Background(), "acme", 1))
	}
	n, err := rl.AllowAtMost(context.Background(), "acme", 1000)
	require.NoError(t, err)
	require.Equal(t, 1000, n)
}

func TestRateLimiterRedisDownFailsClosed(t *testing.T) {
	t.Parallel()
	rl := limit.NewRateLimiter(autopipe.New(downRedis(t)), "alexustest", limit.Rate{PerSecond: 10, Burst: 10})
	err := rl.Allow(context.Background(), "acme", 1)
	require.ErrorIs(t, err, limit.ErrUnavailable)
	n, err := rl.AllowAtMost(context.Background(), "acme", 5)
	require.ErrorIs(t, err, limit.ErrUnavailable)
	require.Zero(t, n)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = rl.Allow(ctx, "acme", 1)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errors.Is(err, limit.ErrUnavailable), "the caller's cancellation is not an outage")
}

// downRedis returns a client for an address nothing listens on.
func downRedis(t *testing.T) *redis.Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// A single payload's refusal is remembered until its retry delay, and only
// until then: the GCRA state cannot make it fit earlier.
func TestRateLimiterRemembersRefusalUntilRetry(t *testing.T) {
	t.Parallel()
	rdb, space := redistest.New(t)
	ctx := context.Background()
	// Ten a second: the retry delay is at most 100ms.
	rl := limit.NewRateLimiter(autopipe.New(rdb), space, limit.Rate{PerSecond: 10, Burst: 1})

	require.NoError(t, rl.Allow(ctx, "acme", 1))
	r := requireRefusal(t, rl.Allow(ctx, "acme", 1), limit.ReasonRateLimited)
	now := time.Now()
	mem, ok := rl.Refused("acme", now)
	require.True(t, ok)
	require.LessOrEqual(t, mem.RetryAfter, r.RetryAfter)
	_, ok = rl.Refused("beta", now)
	require.False(t, ok, "per tenant")
	_, ok = rl.Refused("acme", now.Add(r.RetryAfter))
	require.False(t, ok, "forgotten once the delay has passed")

	require.Eventually(t, func() bool { return rl.Allow(ctx, "acme", 1) == nil }, 2*time.Second, 10*time.Millisecond)
}
