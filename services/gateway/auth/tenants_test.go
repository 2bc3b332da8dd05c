package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

type tenantsBundle struct {
	ctx context.Context
	db  *storetest.Bundle
}

func setupTenants(t *testing.T) *tenantsBundle {
	t.Helper()
	return &tenantsBundle{ctx: context.Background(), db: storetest.New(t)}
}

func (b *tenantsBundle) create(t *testing.T, id tenant.ID) {
	t.Helper()
	_, err := provision.EnsureTenant(tenant.WithIdentity(b.ctx, tenant.Identity{Tenant: id, Subject: "test"}), b.db.DB, provision.TenantOptions{})
	require.NoError(t, err)
}

func TestTenantsAdmitsOnlyProvisioned(t *testing.T) {
	t.Parallel()
	b := setupTenants(t)
	b.create(t, "acme")
	ts, err := NewTenants(b.db.DB, TenantsConfig{CacheTTL: time.Minute}, nil)
	require.NoError(t, err)

	require.NoError(t, ts.Admit(b.ctx, tenant.Identity{Tenant: "acme"}))

	err = ts.Admit(b.ctx, tenant.Identity{Tenant: "ghost"})
	var np *NotProvisionedError
	require.True(t, errors.As(err, &np), "got %v", err)
	require.EqualError(t, err, "tenant ghost is not provisioned")
	require.Equal(t, "permission_denied", ConnectError(err).Code().String())

	// Negative answers are not cached: once created, the tenant is admitted.
	b.create(t, "ghost")
	require.NoError(t, ts.Admit(b.ctx, tenant.Identity{Tenant: "ghost"}))
}

func TestTenantsCachesPositiveAnswersForTTL(t *testing.T) {
	t.Parallel()
	b := setupTenants(t)
	b.create(t, "acme")
	ts, err := NewTenants(b.db.DB, TenantsConfig{CacheTTL: time.Minute}, nil)
	require.NoError(t, err)
	var mu sync.Mutex
	now := time.Now()
	ts.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	require.NoError(t, ts.Admit(b.ctx, tenant.Identity{Tenant: "acme"}))

	// Delete the tenant behind the cache's back, as the admin.
	conn, err := pgx.Connect(b.ctx, b.db.AdminURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	_, err = conn.Exec(b.ctx, `DELETE FROM tenants WHERE id = 'acme'`)
	require.NoError(t, err)

	require.NoError(t, ts.Admit(b.ctx, tenant.Identity{Tenant: "acme"}), "inside the TTL the cached answer is used")

	mu.Lock()
	now = now.Add(time.Minute + time.Second)
	mu.Unlock()
	var np *NotProvisionedError
	require.ErrorAs(t, ts.Admit(b.ctx, tenant.Identity{Tenant: "acme"}), &np, "after the TTL the database is asked again")
}

func TestTenantsAutoCreate(t *testing.T) {
	t.Parallel()
	b := setupTenants(t)
	ts, err := NewTenants(b.db.DB, TenantsConfig{AutoCreate: true, DefaultWebhookURL: "http://127.0.0.1:9/hook"}, nil)
	require.NoError(t, err)

	require.NoError(t, ts.Admit(b.ctx, tenant.Identity{Tenant: "newco", Subject: "alice"}))

	ctx := tenant.WithIdentity(b.ctx, tenant.Identity{Tenant: "newco"})
	ok, err := provision.TenantExists(ctx, b.db.DB)
	require.NoError(t, err)
	require.True(t, ok)
	var url string
	require.NoError(t, b.db.DB.WithTenant(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT url FROM webhook_targets WHERE name = 'default'`).Scan(&url)
	}))
	require.Equal(t, "http://127.0.0.1:9/hook", url)
}

func TestTenantsStoreFailureIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setupTenants(t)
	ts, err := NewTenants(b.db.DB, TenantsConfig{}, nil)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	err = ts.Admit(ctx, tenant.Identity{Tenant: "acme"})
	require.Error(t, err)
	require.Equal(t, "unavailable", ConnectError(err).Code().String())
	require.NotContains(t, ConnectError(err).Message(), "context", "store details stay out of the caller's message")
}
