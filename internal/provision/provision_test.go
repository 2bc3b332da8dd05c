package provision_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

func as(t tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: t, Subject: "test"})
}

func TestEnsureTenantIsIdempotent(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	ctx := as("acme")

	ok, err := provision.TenantExists(ctx, db)
	require.NoError(t, err)
	require.False(t, ok)

	created, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{DefaultWebhookURL: "http://127.0.0.1:1/first"})
	require.NoError(t, err)
	require.True(t, created)
	created, err = provision.EnsureTenant(ctx, db, provision.TenantOptions{DefaultWebhookURL: "http://127.0.0.1:1/second"})
	require.NoError(t, err)
	require.False(t, created, "a second call creates nothing")
	require.Equal(t, "http://127.0.0.1:1/first", webhookURL(t, ctx, db), "an existing tenant keeps its target")

	ok, err = provision.TenantExists(ctx, db)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = provision.TenantExists(as("globex"), db)
	require.NoError(t, err)
	require.False(t, ok, "another tenant does not see acme")

	require.NoError(t, provision.SetWebhookTarget(ctx, db, "default", "http://127.0.0.1:1/third"))
	require.Equal(t, "http://127.0.0.1:1/third", webhookURL(t, ctx, db), "SetWebhookTarget repoints it")

	_, err = provision.EnsureTenant(context.Background(), db, provision.TenantOptions{})
	require.Error(t, err, "no tenant in context")

	require.Equal(t, []string{
		"test " + provision.EventTenantCreated + " tenant/acme {}",
		"test " + provision.EventWebhookTargetSet + " webhook_target/default {}",
	}, auditLog(t, ctx, db), "the second EnsureTenant audits nothing, and no URL is audited")
}

func TestIntegrationTokens(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	ctx := as("acme")
	_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
	require.NoError(t, err)

	in, tok, err := provision.CreateIntegration(ctx, db, "alertmanager", "prod")
	require.NoError(t, err)
	require.Regexp(t, `^alx_[A-Za-z0-9_-]{43}$`, tok)

	// Resolving needs no tenant: it is how the tenant is found.
	got, err := provision.ResolveIntegrationToken(context.Background(), db, tok)
	require.NoError(t, err)
	require.Equal(t, tenant.ID("acme"), got.Tenant)
	require.Equal(t, "alertmanager", got.Source)
	require.Equal(t, in.ID, got.IntegrationID)
	require.Nil(t, got.SealedSecret)

	// Only the hash is stored.
	err = db.WithTenant(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM integration_tokens WHERE token_hash = $1", []byte(tok)).Scan(&n); err != nil {
			return err
		}
		require.Zero(t, n)
		return nil
	})
	require.NoError(t, err)

	// Another tenant can neither list nor revoke it.
	list, err := provision.ListIntegrations(as("globex"), db)
	require.NoError(t, err)
	require.Empty(t, list)
	require.ErrorIs(t, provision.RevokeIntegration(as("globex"), db, in.ID), provision.ErrUnknownIntegration)

	require.NoError(t, provision.RevokeIntegration(ctx, db, in.ID))
	require.NoError(t, provision.RevokeIntegration(ctx, db, in.ID), "revoking twice is fine")
	list, err = provision.ListIntegrations(ctx, db)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, in.ID, list[0].ID)
	require.NotNil(t, list[0].RevokedAt)

	for name, bad := range map[string]string{"revoked": tok, "unknown": "alx_" + tok[4:10] + "x", "no prefix": "hello", "empty": ""} {
		_, err := provision.ResolveIntegrationToken(context.Background(), db, bad)
		require.ErrorIs(t, err, provision.ErrUnknownToken, name)
	}

	require.Equal(t, []string{
		"test " + provision.EventTenantCreated + " tenant/acme {}",
		"test " + provision.EventIntegrationTokenCreated + " integration/" + in.ID + ` {"name": "prod", "source": "alertmanager"}`,
		"test " + provision.EventIntegrationTokenRevoked + " integration/" + in.ID + ` {"source": "alertmanager"}`,
	}, auditLog(t, ctx, db), "the token itself is not audited")
}

func webhookURL(t *testing.T, ctx context.Context, db *store.DB) string {
	t.Helper()
	var url string
	require.NoError(t, db.WithTenant(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT url FROM webhook_targets WHERE name = 'default'").Scan(&url)
	}))
	return url
}

// auditLog returns the context tenant's audit entries, oldest first, as
// "actor event subject details".
func auditLog(t *testing.T, ctx context.Context, db *store.DB) []string {
	t.Helper()
	var out []string
	require.NoError(t, db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT actor || ' ' || event || ' ' || subject || ' ' || details::text FROM audit_log ORDER BY id")
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	return out
}

func TestSigningSecretIsSealedAndBoundToItsIntegration(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	acme := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "test"})
	globex := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "globex", Subject: "test"})
	for _, ctx := range []context.Context{acme, globex} {
		_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
		require.NoError(t, err)
	}
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("k1:" + key)
	require.NoError(t, err)
	in, tok, err := provision.CreateIntegration(acme, db, "sentry", "s")
	require.NoError(t, err)
	secret := []byte("sentry-client-secret-0123456789")

	require.ErrorContains(t, provision.SetSigningSecret(acme, db, nil, in.ID, secret), "ALEXUS_SECRET_KEYS")
	require.ErrorIs(t, provision.SetSigningSecret(globex, db, keys, in.ID, secret), provision.ErrUnknownIntegration,
		"another tenant cannot set it")
	require.NoError(t, provision.SetSigningSecret(acme, db, keys, in.ID, secret))

	r, err := provision.ResolveIntegrationToken(context.Background(), db, tok)
	require.NoError(t, err)
	require.NotEmpty(t, r.SealedSecret)
	require.NotContains(t, string(r.SealedSecret), string(secret), "stored sealed, never in the clear")
	opened, err := provision.OpenSigningSecret(keys, r)
	require.NoError(t, err)
	require.Equal(t, secret, opened)
	_, err = provision.OpenSigningSecret(nil, r)
	require.ErrorContains(t, err, "no key ring")
	moved := r
	moved.IntegrationID = "00000000-0000-0000-0000-000000000000"
	_, err = provision.OpenSigningSecret(keys, moved)
	require.ErrorIs(t, err, secretbox.ErrDecrypt, "a sealed secret copied to another integration does not open")

	list, err := provision.ListIntegrations(acme, db)
	require.NoError(t, err)
	require.True(t, list[0].Signed)

	require.NoError(t, provision.SetSigningSecret(acme, db, keys, in.ID, nil))
	r, err = provision.ResolveIntegrationToken(context.Background(), db, tok)
	require.NoError(t, err)
	require.Nil(t, r.SealedSecret)
}
