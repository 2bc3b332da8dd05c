package chain_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/chain"
)

type bundle struct {
	db    *store.DB
	admin *pgxpool.Pool
}

func setup(t *testing.T) *bundle {
	t.Helper()
	sb := storetest.New(t)
	admin, err := pgxpool.New(context.Background(), sb.AdminURL)
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	for _, id := range []tenant.ID{"acme", "globex"} {
		_, err := provision.EnsureTenant(as(id), sb.DB, provision.TenantOptions{})
		require.NoError(t, err)
	}
	return &bundle{db: sb.DB, admin: admin}
}

func as(id tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "user:alice"})
}

func (b *bundle) append(t *testing.T, id tenant.ID, n int) {
	t.Helper()
	ctx := as(id)
	for i := range n {
		require.NoError(t, b.db.WithTenant(ctx, func(tx pgx.Tx) error {
			return audit.Append(ctx, tx, "thing.done", fmt.Sprintf("thing/%d", i), nil)
		}))
	}
}

// unchained counts every tenant's entries without a link, as the admin.
func (b *bundle) unchained(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, b.admin.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE hash IS NULL`).Scan(&n))
	return n
}

// The periodic job, run by River on the elected leader, links the entries
// of every tenant that has some, again as new ones arrive.
func TestPeriodicJobChainsEveryTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.append(t, "acme", 5)
	b.append(t, "globex", 3)
	require.Equal(t, 10, b.unchained(t), "two tenant.created entries and eight more")

	tenants, err := audit.PendingTenants(context.Background(), b.db)
	require.NoError(t, err)
	require.Equal(t, []tenant.ID{"acme", "globex"}, tenants)

	workers := river.NewWorkers()
	require.NoError(t, river.AddWorkerSafely(workers, chain.NewChainer(zaptest.NewLogger(t), b.db)))
	client, err := river.NewClient(riverpgxv5.New(b.db.Pool()), &river.Config{
		Queues:       map[string]river.QueueConfig{chain.Queue: {MaxWorkers: 1}},
		PeriodicJobs: []*river.PeriodicJob{chain.PeriodicJob(200 * time.Millisecond)},
		Workers:      workers,
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(context.Background()))
	t.Cleanup(func() { _ = client.Stop(context.Background()) })

	require.Eventually(t, func() bool { return b.unchained(t) == 0 }, 20*time.Second, 50*time.Millisecond)
	b.append(t, "globex", 2)
	require.Eventually(t, func() bool { return b.unchained(t) == 0 }, 20*time.Second, 50*time.Millisecond)

	for id, n := range map[tenant.ID]int64{"acme": 6, "globex": 6} {
		rep, err := audit.Verify(as(id), b.db, nil)
		require.NoError(t, err)
		require.True(t, rep.Intact(), "%s: %v", id, rep.Breaks)
		require.Equal(t, n, rep.Rows, id)
		require.Equal(t, n, rep.HeadSeq, id)
	}
	tenants, err = audit.PendingTenants(context.Background(), b.db)
	require.NoError(t, err)
	require.Empty(t, tenants)
}
