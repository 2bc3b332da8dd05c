package sources_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/services/ingest/sources"
)

// TestRuleWithEmptyName: Store.Rule("") shares its query with Rules, where
// an empty name means "all", so it returns the tenant's first rule.
func TestRuleWithEmptyName(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, titleRule("my-tool", "payload.title"))
	require.NoError(t, err)
	got, err := b.store.Rule(b.ctx, "")
	require.ErrorIs(t, err, sources.ErrNotFound, "got rule %q", got.Name)
}

// TestCacheInvalidateDuringLoad: a load that read the rules before a change
// and finishes after its Invalidate stores the old configuration with a
// fresh TTL, so the change this process just saved is not seen for a whole
// TTL, against Cache's promise.
func TestCacheInvalidateDuringLoad(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cache := sources.NewCache(b.store, time.Hour)

	// Hold the overrides table, so a load reads the rules and then waits.
	admin, err := pgx.Connect(context.Background(), b.bundle.AdminURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	lock, err := admin.Begin(context.Background())
	require.NoError(t, err)
	_, err = lock.Exec(context.Background(), `LOCK TABLE fingerprint_overrides IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)

	type result struct {
		snap *sources.Snapshot
		err  error
	}
	loaded := make(chan result, 1)
	go func() {
		snap, err := cache.Snapshot(b.ctx)
		loaded <- result{snap, err}
	}()
	require.Eventually(t, func() bool {
		var waiting int
		err := admin.QueryRow(context.Background(), `
			SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = 'fingerprint_overrides' AND NOT l.granted`).Scan(&waiting)
		return err == nil && waiting > 0
	}, 10*time.Second, 10*time.Millisecond, "the load reaches the overrides")

	// Meanwhile this process saves a rule and invalidates, as the handler does.
	_, err = b.store.CreateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	cache.Invalidate(b.ctx)

	require.NoError(t, lock.Rollback(context.Background()))
	r := <-loaded
	require.NoError(t, r.err)

	snap, err := cache.Snapshot(b.ctx)
	require.NoError(t, err)
	_, ok, err := snap.Rule("my-tool")
	require.NoError(t, err)
	require.True(t, ok, "a rule saved and invalidated is seen at once")
}
