package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
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
	for name, autoCreate := range map[string]bool{"check": false, "auto-create": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupTenants(t)
			// A pool of its own, closed before the call: every query fails the
			// way it does when Postgres is gone, with the caller's context live.
			db, err := store.Open(b.ctx, b.db.Config)
			require.NoError(t, err)
			db.Close()
			ts, err := NewTenants(db, TenantsConfig{AutoCreate: autoCreate}, nil)
			require.NoError(t, err)

			err = ts.Admit(b.ctx, tenant.Identity{Tenant: "acme"})
			require.Error(t, err)
			cerr := ConnectError(err)
			require.Equal(t, connect.CodeUnavailable, cerr.Code(), "got %v", err)
			require.Equal(t, "tenant lookup is unavailable, retry later", cerr.Message(), "store details stay out of the caller's message")
		})
	}
}

func TestTenantsCallerCancellationIsCanceled(t *testing.T) {
	t.Parallel()
	b := setupTenants(t)
	b.create(t, "acme")
	ts, err := NewTenants(b.db.DB, TenantsConfig{}, nil)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	err = ts.Admit(ctx, tenant.Identity{Tenant: "acme"})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, connect.CodeCanceled, ConnectError(err).Code(), "the caller gave up; the store did not fail")

	ctx, cancel = context.WithDeadline(b.ctx, time.Now().Add(-time.Second))
	defer cancel()
	err = ts.Admit(ctx, tenant.Identity{Tenant: "acme"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, connect.CodeDeadlineExceeded, ConnectError(err).Code())
}

func TestStoreTimeoutUnderLiveCallerIsUnavailable(t *testing.T) {
	t.Parallel()
	// pgx wraps a DeadlineExceeded of its own when a connect_timeout in the
	// URL expires against an unreachable server: that is the store failing,
	// not the caller running out of time.
	storeErr := fmt.Errorf("check tenant acme: look up tenant: dial: %w", context.DeadlineExceeded)
	err := lookupFailed(context.Background(), storeErr)
	require.Equal(t, connect.CodeUnavailable, ConnectError(err).Code())
}
