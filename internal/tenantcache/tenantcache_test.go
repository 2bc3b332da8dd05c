package tenantcache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/tenant"
)

func as(t tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: t, Subject: "test"})
}

func TestCache(t *testing.T) {
	t.Parallel()
	var loads atomic.Int32
	values := map[tenant.ID]string{"acme": "a1", "globex": "g1"}
	c := New(5*time.Second, func(ctx context.Context) (string, error) {
		loads.Add(1)
		id, _ := tenant.Require(ctx)
		return values[id], nil
	})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }

	v, err := c.Get(as("acme"))
	require.NoError(t, err)
	require.Equal(t, "a1", v)
	v, _ = c.Get(as("globex"))
	require.Equal(t, "g1", v, "each tenant has its own value")
	values["acme"] = "a2"
	v, _ = c.Get(as("acme"))
	require.Equal(t, "a1", v, "within the TTL the cached value is served")
	require.EqualValues(t, 2, loads.Load())

	now = now.Add(5 * time.Second)
	v, _ = c.Get(as("acme"))
	require.Equal(t, "a2", v, "after the TTL it is read again")

	values["acme"] = "a3"
	c.Forget("acme")
	v, _ = c.Get(as("acme"))
	require.Equal(t, "a3", v, "a write on this replica takes effect at once")

	_, err = c.Get(context.Background())
	require.Error(t, err, "no tenant, no value")
}

// A load that a write overtook returns what it read but is not cached.
func TestForgetDuringLoad(t *testing.T) {
	t.Parallel()
	var c *Cache[int]
	n := 0
	c = New(time.Minute, func(context.Context) (int, error) {
		n++
		if n == 1 {
			c.Forget("acme") // a write lands while the first read is under way
		}
		return n, nil
	})
	v, err := c.Get(as("acme"))
	require.NoError(t, err)
	require.Equal(t, 1, v)
	v, _ = c.Get(as("acme"))
	require.Equal(t, 2, v, "the overtaken read was not kept")
	v, _ = c.Get(as("acme"))
	require.Equal(t, 2, v)
}

func TestFailedLoadIsNotCached(t *testing.T) {
	t.Parallel()
	fail := true
	c := New(time.Minute, func(context.Context) (string, error) {
		if fail {
			return "", errors.New("db down")
		}
		return "ok", nil
	})
	_, err := c.Get(as("acme"))
	require.Error(t, err)
	fail = false
	v, err := c.Get(as("acme"))
	require.NoError(t, err)
	require.Equal(t, "ok", v)
}
