package sources

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/ingest/mapping"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type cacheBundle struct {
	ctx context.Context
	// store writes through the test's own pool, which stays open.
	store *Store
	// flaky is a second pool on the same database that a test may close to
	// make loads fail; cache reads through it.
	flaky *store.DB
	cache *Cache
	clock *fakeClock
}

// setupCache gives a one-minute cache on a fake clock, reading through a
// pool of its own.
func setupCache(t *testing.T) *cacheBundle {
	t.Helper()
	b := storetest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	_, err := provision.EnsureTenant(ctx, b.DB, provision.TenantOptions{})
	require.NoError(t, err)
	flaky, err := store.Open(ctx, b.Config)
	require.NoError(t, err)
	t.Cleanup(flaky.Close)
	clock := &fakeClock{t: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
	cache := NewCache(NewStore(flaky), time.Minute)
	cache.now = clock.now
	return &cacheBundle{ctx: ctx, store: NewStore(b.DB), flaky: flaky, cache: cache, clock: clock}
}

func (b *cacheBundle) hasRule(t *testing.T, snap *Snapshot, name string) bool {
	t.Helper()
	_, ok, err := snap.Rule(name)
	require.NoError(t, err)
	return ok
}

func TestCacheExpiresAfterTTL(t *testing.T) {
	t.Parallel()
	b := setupCache(t)
	first, err := b.cache.Snapshot(b.ctx)
	require.NoError(t, err)
	_, err = b.store.CreateRule(b.ctx, mapping.Rule{Name: "my-tool", Title: "payload.title"})
	require.NoError(t, err)

	b.clock.advance(59 * time.Second)
	snap, err := b.cache.Snapshot(b.ctx)
	require.NoError(t, err)
	require.Same(t, first, snap, "still within the TTL")
	require.False(t, b.hasRule(t, snap, "my-tool"))

	b.clock.advance(time.Second)
	snap, err = b.cache.Snapshot(b.ctx)
	require.NoError(t, err)
	require.NotSame(t, first, snap, "expired at exactly the TTL")
	require.True(t, b.hasRule(t, snap, "my-tool"))

	// The reload starts a new TTL.
	b.clock.advance(30 * time.Second)
	again, err := b.cache.Snapshot(b.ctx)
	require.NoError(t, err)
	require.Same(t, snap, again)
}

func TestCacheFallsBackToExpiredSnapshot(t *testing.T) {
	t.Parallel()
	b := setupCache(t)
	_, err := b.store.CreateRule(b.ctx, mapping.Rule{Name: "my-tool", Title: "payload.title"})
	require.NoError(t, err)
	old, err := b.cache.Snapshot(b.ctx)
	require.NoError(t, err)
	require.True(t, b.hasRule(t, old, "my-tool"))

	// Postgres goes away.
	b.flaky.Close()
	within, err := b.cache.Snapshot(b.ctx)
	require.NoError(t, err, "within the TTL nothing is loaded")
	require.Same(t, old, within)

	b.clock.advance(2 * time.Minute)
	for range 2 {
		snap, err := b.cache.Snapshot(b.ctx)
		require.Error(t, err, "the failure is reported")
		require.ErrorContains(t, err, "load sources of tenant acme")
		require.Same(t, old, snap, "with the expired snapshot")
		require.True(t, b.hasRule(t, snap, "my-tool"))

		// Then the snapshot serves on for a while without asking the
		// database, so an outage costs one query per interval.
		snap, err = b.cache.Snapshot(b.ctx)
		require.NoError(t, err)
		require.Same(t, old, snap)
		b.clock.advance(retryAfterFailure)
	}

	// Invalidate drops the fallback too.
	b.cache.Invalidate(b.ctx)
	snap, err := b.cache.Snapshot(b.ctx)
	require.Error(t, err)
	require.Nil(t, snap)
}

func TestCacheFailsWithNothingCached(t *testing.T) {
	t.Parallel()
	b := setupCache(t)
	b.flaky.Close()
	snap, err := b.cache.Snapshot(b.ctx)
	require.Error(t, err)
	require.ErrorContains(t, err, "load sources of tenant acme")
	require.Nil(t, snap)
}

// TestCacheLoadOutlivesCallersContext: a load is shared by every caller
// that arrives while it runs, so the first caller going away must not fail
// it for the others.
func TestCacheLoadOutlivesCallersContext(t *testing.T) {
	t.Parallel()
	b := setupCache(t)
	old, err := b.cache.Snapshot(b.ctx)
	require.NoError(t, err)

	b.clock.advance(2 * time.Minute)
	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	snap, err := b.cache.Snapshot(ctx)
	require.NoError(t, err)
	require.NotSame(t, old, snap, "loaded afresh")
}

// TestCacheFallbackIsPerTenant checks that another tenant's snapshot is
// never used as a fallback.
func TestCacheFallbackIsPerTenant(t *testing.T) {
	t.Parallel()
	b := setupCache(t)
	_, err := b.cache.Snapshot(b.ctx)
	require.NoError(t, err)
	other := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "globex", Subject: "test"})
	b.flaky.Close()
	snap, err := b.cache.Snapshot(other)
	require.Error(t, err)
	require.ErrorContains(t, err, "tenant globex")
	require.Nil(t, snap)
}

func TestCacheInvalidateWithoutTenantIsHarmless(t *testing.T) {
	t.Parallel()
	b := setupCache(t)
	first, err := b.cache.Snapshot(b.ctx)
	require.NoError(t, err)
	b.cache.Invalidate(context.Background())
	again, err := b.cache.Snapshot(b.ctx)
	require.NoError(t, err)
	require.Same(t, first, again)
}
