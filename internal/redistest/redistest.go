// Package redistest connects tests to the real Redis server under a key
// namespace of their own, so parallel tests and packages never see each
// other's keys, and removes that namespace's keys when the test ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/alexus-platform/alexus/internal/rediskey"
)

// DefaultURL is used when neither ALEXUS_TEST_REDIS_URL nor ALEXUS_REDIS_URL
// is set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL returns the Redis URL for tests.
func URL() string {
	for _, k := range []string{"ALEXUS_TEST_REDIS_URL", "ALEXUS_REDIS_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return DefaultURL
}

// New returns a client and a fresh namespace. When Redis cannot be reached
// the test is skipped with a message saying so, except under CI (CI=true),
// where that is a failure.
func New(t testing.TB) (*redis.Client, rediskey.Space) {
	t.Helper()
	opt, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatalf("parse redis url: %v", err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		_ = rdb.Close()
		if os.Getenv("CI") != "" {
			t.Fatalf("redis at %s unreachable under CI: %v", opt.Addr, err)
		}
		t.Skipf("SKIPPED: redis at %s unreachable (%v); run scripts/test.sh to start it", opt.Addr, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	space := rediskey.Space("alexustest" + hex.EncodeToString(b))
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, string(space)+":*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
	})
	return rdb, space
}
