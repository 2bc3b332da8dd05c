package sources_test

import (
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/services/ingest/mapping"
	"github.com/alexus-platform/alexus/services/ingest/sources"
)

const payload = `{"alerts": [{"id": 7, "title": "Disk full", "status": "firing", "severity": "critical",
	"description": "d", "host": "db-1", "labels": {"team": "core"}, "started": "2024-05-01T10:00:00Z"}]}`

func TestCacheSnapshotLoadsRulesAndOverrides(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	_, err = b.store.UpdateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	_, err = b.store.SetOverride(b.ctx, sources.Override{Source: "alertmanager", Fields: []string{"title", "labels.cluster"}})
	require.NoError(t, err)

	snap, err := sources.NewCache(b.store, time.Minute).Snapshot(b.ctx)
	require.NoError(t, err)
	require.NotNil(t, snap)

	n, ok, err := snap.Rule("my-tool")
	require.NoError(t, err)
	require.True(t, ok)
	require.NotNil(t, n)
	sigs, err := n.Normalise([]byte(payload), nil, time.Now())
	require.NoError(t, err)
	require.Len(t, sigs, 1)
	require.Equal(t, "Disk full", sigs[0].GetTitle())
	require.Equal(t, "db-1", sigs[0].GetResource())
	require.Equal(t, "mapping:my-tool", sigs[0].GetFingerprintRecipe())
	require.EqualValues(t, 2, sigs[0].GetFingerprintRecipeVersion(), "the compiled rule carries the stored version")

	_, ok, err = snap.Rule("other")
	require.NoError(t, err)
	require.False(t, ok)
	_, ok, err = snap.Rule("alertmanager")
	require.NoError(t, err)
	require.False(t, ok, "native sources are not the snapshot's")

	o, ok := snap.Override("alertmanager")
	require.True(t, ok)
	require.Equal(t, "alertmanager", o.Source)
	require.Equal(t, []string{"title", "labels.cluster"}, o.Fields)
	require.EqualValues(t, 1, o.Version)
	_, ok = snap.Override("grafana")
	require.False(t, ok)
}

func TestCacheLeavesOutDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	_, err = b.store.SetOverride(b.ctx, sources.Override{Source: "alertmanager", Fields: []string{"title"}})
	require.NoError(t, err)
	require.NoError(t, b.store.DeleteRule(b.ctx, "my-tool"))
	require.NoError(t, b.store.DeleteOverride(b.ctx, "alertmanager"))

	snap, err := sources.NewCache(b.store, time.Minute).Snapshot(b.ctx)
	require.NoError(t, err)
	_, ok, err := snap.Rule("my-tool")
	require.NoError(t, err)
	require.False(t, ok)
	_, ok = snap.Override("alertmanager")
	require.False(t, ok)
}

func TestCacheKeepsSnapshotWithinTTL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cache := sources.NewCache(b.store, time.Hour)
	first, err := cache.Snapshot(b.ctx)
	require.NoError(t, err)

	// A change saved behind the cache's back, as by another replica.
	_, err = b.store.CreateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	_, err = b.store.SetOverride(b.ctx, sources.Override{Source: "grafana", Fields: []string{"title"}})
	require.NoError(t, err)

	second, err := cache.Snapshot(b.ctx)
	require.NoError(t, err)
	require.Same(t, first, second, "within the TTL the cached snapshot is used")
	_, ok, _ := second.Rule("my-tool")
	require.False(t, ok)
	_, ok = second.Override("grafana")
	require.False(t, ok)

	cache.Invalidate(b.ctx)
	third, err := cache.Snapshot(b.ctx)
	require.NoError(t, err)
	require.NotSame(t, first, third)
	_, ok, err = third.Rule("my-tool")
	require.NoError(t, err)
	require.True(t, ok, "after Invalidate the change is seen")
	_, ok = third.Override("grafana")
	require.True(t, ok)
}

func TestCacheWithoutTTLAlwaysLoads(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cache := sources.NewCache(b.store, 0)
	first, err := cache.Snapshot(b.ctx)
	require.NoError(t, err)
	_, ok, _ := first.Rule("my-tool")
	require.False(t, ok)

	_, err = b.store.CreateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	second, err := cache.Snapshot(b.ctx)
	require.NoError(t, err)
	require.NotSame(t, first, second)
	_, ok, err = second.Rule("my-tool")
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, b.store.DeleteRule(b.ctx, "my-tool"))
	third, err := cache.Snapshot(b.ctx)
	require.NoError(t, err)
	_, ok, _ = third.Rule("my-tool")
	require.False(t, ok, "a deletion is seen at once too")
}

func TestCacheSeparatesTenants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, fullRule("acme-tool"))
	require.NoError(t, err)
	_, err = b.store.SetOverride(b.ctx, sources.Override{Source: "alertmanager", Fields: []string{"title"}})
	require.NoError(t, err)
	_, err = b.store.CreateRule(b.other, fullRule("globex-tool"))
	require.NoError(t, err)

	cache := sources.NewCache(b.store, time.Hour)
	acme, err := cache.Snapshot(b.ctx)
	require.NoError(t, err)
	globex, err := cache.Snapshot(b.other)
	require.NoError(t, err)
	require.NotSame(t, acme, globex)

	_, ok, _ := acme.Rule("acme-tool")
	require.True(t, ok)
	_, ok, _ = acme.Rule("globex-tool")
	require.False(t, ok)
	_, ok, _ = globex.Rule("globex-tool")
	require.True(t, ok)
	_, ok, _ = globex.Rule("acme-tool")
	require.False(t, ok)
	_, ok = globex.Override("alertmanager")
	require.False(t, ok)

	// Invalidating one tenant leaves the other's snapshot cached.
	cache.Invalidate(b.ctx)
	again, err := cache.Snapshot(b.other)
	require.NoError(t, err)
	require.Same(t, globex, again)
	reloaded, err := cache.Snapshot(b.ctx)
	require.NoError(t, err)
	require.NotSame(t, acme, reloaded)
}

func TestCacheConcurrentCallsShareOneSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, fullRule("my-tool"))
	require.NoError(t, err)
	cache := sources.NewCache(b.store, time.Hour)

	const n = 16
	snaps := make([]*sources.Snapshot, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { snaps[i], errs[i] = cache.Snapshot(b.ctx) })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Same(t, snaps[0], snaps[i])
	}
}

// TestCacheKeepsBrokenRule stores a rule that no longer compiles, as after
// a CEL upgrade: the snapshot knows it and says why, instead of taking the
// source for an unknown one, and the tenant's other rules still work.
func TestCacheKeepsBrokenRule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.CreateRule(b.ctx, fullRule("good"))
	require.NoError(t, err)
	err = b.db.WithTenant(b.ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(b.ctx, `INSERT INTO mapping_rules (tenant_id, name, version, spec) VALUES ('acme', 'broken', 3, '{"title": "1 +"}')`)
		return err
	})
	require.NoError(t, err)

	listed, err := b.store.Rules(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"broken", "good"}, ruleNames(listed), "the store lists it as it is")

	snap, err := sources.NewCache(b.store, time.Minute).Snapshot(b.ctx)
	require.NoError(t, err, "one broken rule does not fail the tenant's snapshot")
	n, ok, err := snap.Rule("broken")
	require.True(t, ok)
	require.Nil(t, n)
	require.ErrorIs(t, err, mapping.ErrInvalidRule)
	require.ErrorContains(t, err, `"broken"`)

	n, ok, err = snap.Rule("good")
	require.NoError(t, err)
	require.True(t, ok)
	require.NotNil(t, n)
}

func TestCompile(t *testing.T) {
	t.Parallel()
	snap := sources.Compile(
		[]sources.SavedRule{
			{Rule: titleRule("good", "payload.title")},
			{Rule: titleRule("bad", "1 +")},
			{Rule: titleRule("no-title", "")},
		},
		[]sources.Override{{Source: "grafana", Fields: []string{"resource"}, Version: 4}},
	)
	n, ok, err := snap.Rule("good")
	require.NoError(t, err)
	require.True(t, ok)
	sigs, err := n.Normalise([]byte(`{"title": "t"}`), nil, time.Now())
	require.NoError(t, err)
	require.EqualValues(t, 1, sigs[0].GetFingerprintRecipeVersion(), "version 0 compiles as version 1")
	require.Equal(t, signalv1.Status_STATUS_FIRING, sigs[0].GetStatus())

	for _, name := range []string{"bad", "no-title"} {
		_, ok, err := snap.Rule(name)
		require.True(t, ok, name)
		require.ErrorIs(t, err, mapping.ErrInvalidRule, name)
	}
	o, ok := snap.Override("grafana")
	require.True(t, ok)
	require.Equal(t, sources.Override{Source: "grafana", Fields: []string{"resource"}, Version: 4}, o)

	empty := sources.Compile(nil, nil)
	_, ok, err = empty.Rule("good")
	require.NoError(t, err)
	require.False(t, ok)
	_, ok = empty.Override("grafana")
	require.False(t, ok)
}

func TestNilSnapshot(t *testing.T) {
	t.Parallel()
	var snap *sources.Snapshot
	n, ok, err := snap.Rule("my-tool")
	require.Nil(t, n)
	require.False(t, ok)
	require.NoError(t, err)
	o, ok := snap.Override("alertmanager")
	require.False(t, ok)
	require.Equal(t, sources.Override{}, o)
}
