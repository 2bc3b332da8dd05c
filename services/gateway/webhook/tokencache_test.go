package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

func TestTokenCache(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
	require.NoError(t, err)
	in, tok, err := provision.CreateIntegration(ctx, db, "grafana", "g")
	require.NoError(t, err)

	now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	c := newTokenCache(5*time.Second, nil)
	c.now = func() time.Time { return now }

	got, err := c.resolve(context.Background(), db, tok)
	require.NoError(t, err)
	require.Equal(t, tenant.ID("acme"), got.tenant)
	require.Equal(t, "grafana", got.source)
	require.Equal(t, in.ID, got.id)
	require.Nil(t, got.secret)

	// Revoked: still trusted inside the TTL (the documented bound), refused
	// once it has passed.
	require.NoError(t, provision.RevokeIntegration(ctx, db, in.ID))
	_, err = c.resolve(context.Background(), db, tok)
	require.NoError(t, err)
	now = now.Add(6 * time.Second)
	_, err = c.resolve(context.Background(), db, tok)
	require.ErrorIs(t, err, provision.ErrUnknownToken)

	// Unknown tokens are never cached: a token created after a failed
	// lookup works at once.
	unknown := provision.TokenPrefix + "doesnotexistyet"
	_, err = c.resolve(context.Background(), db, unknown)
	require.ErrorIs(t, err, provision.ErrUnknownToken)
	require.NotContains(t, c.entries, keyOf(unknown))

	// The cache holds hashes, never tokens, and a TTL of 0 disables it.
	for k := range c.entries {
		require.NotEqual(t, tok, string(k[:]))
	}
	off := newTokenCache(0, nil)
	_, err = off.resolve(context.Background(), db, tok)
	require.ErrorIs(t, err, provision.ErrUnknownToken)
	require.Empty(t, off.entries)

}
