package cli

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// alexus secrets rewrap moves every tenant's secrets to the first key, so
// that the old key can leave the ring.
func TestSecretsRewrapCommand(t *testing.T) {
	t.Parallel()
	b := storetest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:alice"})
	_, err := provision.EnsureTenant(ctx, b.DB, provision.TenantOptions{})
	require.NoError(t, err)
	k1, err := secretbox.GenerateKey()
	require.NoError(t, err)
	k2, err := secretbox.GenerateKey()
	require.NoError(t, err)
	common := []string{"--postgres-url", b.AdminURL}

	_, err = runIn(t, "sn-SECRET\n", append([]string{"ticket", "set-servicenow", "--tenant", "acme", "--url", "https://acme.service-now.com",
		"--username", "alexus", "--secret-keys", "k1:" + k1}, common...)...)
	require.NoError(t, err)

	_, err = runIn(t, "", append([]string{"secrets", "rewrap"}, common...)...)
	require.ErrorContains(t, err, "ALEXUS_SECRET_KEYS")
	out, err := runIn(t, "", append([]string{"secrets", "rewrap", "--secret-keys", "k2:" + k2 + ",k1:" + k1}, common...)...)
	require.NoError(t, err)
	require.Equal(t, "acme: 1 rewrapped to key k2 (ticket_integrations 1), 0 already under it\n", out)
	out, err = runIn(t, "", append([]string{"secrets", "rewrap", "--tenant", "acme", "--secret-keys", "k2:" + k2 + ",k1:" + k1}, common...)...)
	require.NoError(t, err)
	require.Equal(t, "acme: 0 rewrapped to key k2, 1 already under it\n", out)

	onlyNew, err := secretbox.ParseKeyring("k2:" + k2)
	require.NoError(t, err)
	in, ok, err := provision.GetTicketIntegration(ctx, b.DB, onlyNew, provision.TicketServiceNow)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "sn-SECRET", in.ServiceNow.Password)
}
