package cli

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
)

// alexus ticket set-jira and set-servicenow read the secret from stdin and
// refuse a bad configuration naming the field; list never shows a secret.
func TestTicketCommands(t *testing.T) {
	t.Parallel()
	b := storetest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:alice"})
	_, err := provision.EnsureTenant(ctx, b.DB, provision.TenantOptions{})
	require.NoError(t, err)
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys := "k1:" + key
	common := []string{"--tenant", "acme", "--postgres-url", b.AdminURL}

	out, err := runIn(t, "jira-SECRET\n", append([]string{"ticket", "set-jira", "--url", "https://acme.atlassian.net",
		"--email", "bot@acme.example", "--project", "OPS", "--account-id", "5b10ac", "--status-state", "Triage=acknowledged",
		"--state-status", "resolved=Done", "--secret-keys", keys}, common...)...)
	require.NoError(t, err)
	require.Equal(t, "jira integration of acme set\n", out)

	_, err = runIn(t, "x\n", append([]string{"ticket", "set-jira", "--url", "https://acme.atlassian.net", "--email", "bot@acme.example",
		"--project", "OPS", "--status-state", "Triage=fixed", "--secret-keys", keys}, common...)...)
	require.ErrorContains(t, err, "open, acknowledged or resolved")
	_, err = runIn(t, "", append([]string{"ticket", "set-servicenow", "--url", "https://acme.service-now.com", "--username", "alexus",
		"--secret-keys", keys}, common...)...)
	require.ErrorContains(t, err, "no credential on stdin")
	_, err = runIn(t, "pw\n", append([]string{"ticket", "set-servicenow", "--url", "ftp://acme.service-now.com", "--username", "alexus",
		"--secret-keys", keys}, common...)...)
	require.ErrorContains(t, err, "http or https")
	out, err = runIn(t, "sn-SECRET\n", append([]string{"ticket", "set-servicenow", "--url", "https://acme.service-now.com", "--username", "alexus",
		"--close-code", "Resolved by caller", "--secret-keys", keys}, common...)...)
	require.NoError(t, err)
	require.Equal(t, "servicenow integration of acme set\n", out)

	kr, err := secretbox.ParseKeyring(keys)
	require.NoError(t, err)
	in, ok, err := provision.GetTicketIntegration(ctx, b.DB, kr, provision.TicketJira)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "jira-SECRET", in.Jira.APIToken)
	require.Equal(t, map[string]ticket.State{"Triage": ticket.Acknowledged}, in.Jira.States)
	require.Equal(t, map[ticket.State]string{ticket.Resolved: "Done"}, in.Jira.Statuses)

	out, err = runIn(t, "", append([]string{"ticket", "list"}, common...)...)
	require.NoError(t, err)
	require.Contains(t, out, "https://acme.atlassian.net")
	require.Contains(t, out, `"close_code": "Resolved by caller"`)
	require.NotContains(t, out, "SECRET")

	_, err = runIn(t, "", append([]string{"ticket", "remove", "zendesk"}, common...)...)
	require.ErrorContains(t, err, "jira or servicenow")
	out, err = runIn(t, "", append([]string{"ticket", "remove", "jira"}, common...)...)
	require.NoError(t, err)
	require.Equal(t, "jira integration of acme removed\n", out)
}
