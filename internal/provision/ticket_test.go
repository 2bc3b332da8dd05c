package provision_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
)

// A ticket integration is validated before it is stored, its credential is
// sealed to its tenant and record (never listed, audited or readable by
// another tenant), and reading it back opens the credential.
func TestTicketIntegrations(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	acme, globex := as("acme"), as("globex")
	_, err := provision.EnsureTenant(acme, db, provision.TenantOptions{})
	require.NoError(t, err)
	_, err = provision.EnsureTenant(globex, db, provision.TenantOptions{})
	require.NoError(t, err)
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("k1:" + key)
	require.NoError(t, err)

	j := &jira.Config{BaseURL: "https://acme.atlassian.net", Email: "bot@acme.example", APIToken: "jira-SECRET-token",
		Project: "OPS", AccountID: "5b10a2844c20165700ede21g", States: map[string]ticket.State{"Triage": ticket.Acknowledged}}

	bad := *j
	bad.Project = "ops"
	require.ErrorContains(t, provision.SetTicketIntegration(acme, db, keys, provision.TicketIntegration{System: provision.TicketJira, Jira: &bad}), "project key")
	require.ErrorContains(t, provision.SetTicketIntegration(acme, db, keys, provision.TicketIntegration{System: provision.TicketServiceNow, Jira: j}), "jira or servicenow")
	require.ErrorContains(t, provision.SetTicketIntegration(acme, db, nil, provision.TicketIntegration{System: provision.TicketJira, Jira: j}), "ALEXUS_SECRET_KEYS")
	_, ok, err := provision.GetTicketIntegration(acme, db, keys, provision.TicketJira)
	require.NoError(t, err)
	require.False(t, ok, "a refused integration must not be stored")

	require.NoError(t, provision.SetTicketIntegration(acme, db, keys, provision.TicketIntegration{System: provision.TicketJira, Jira: j}))
	sn := &servicenow.Config{BaseURL: "https://acme.service-now.com", Username: "alexus.integration", Password: "sn-SECRET-pw"}
	require.NoError(t, provision.SetTicketIntegration(acme, db, keys, provision.TicketIntegration{System: provision.TicketServiceNow, ServiceNow: sn}))

	got, ok, err := provision.GetTicketIntegration(acme, db, keys, provision.TicketJira)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, *j, *got.Jira)
	gotSN, ok, err := provision.GetTicketIntegration(acme, db, keys, provision.TicketServiceNow)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "sn-SECRET-pw", gotSN.ServiceNow.Password)

	// Another tenant sees nothing of it.
	_, ok, err = provision.GetTicketIntegration(globex, db, keys, provision.TicketJira)
	require.NoError(t, err)
	require.False(t, ok)
	list, err := provision.ListTicketIntegrations(globex, db)
	require.NoError(t, err)
	require.Empty(t, list)

	// Stored sealed: the row holds no credential in the clear, and a sealed
	// credential copied under another record does not open.
	require.NoError(t, db.WithTenant(acme, func(tx pgx.Tx) error {
		var sealed []byte
		var settings string
		require.NoError(t, tx.QueryRow(acme, `SELECT credential_sealed, settings::text FROM ticket_integrations WHERE system = 'jira'`).Scan(&sealed, &settings))
		require.NotContains(t, string(sealed), "SECRET")
		require.NotContains(t, settings, "SECRET")
		_, err := tx.Exec(acme, `UPDATE ticket_integrations SET credential_sealed = (SELECT credential_sealed FROM ticket_integrations WHERE system = 'servicenow') WHERE system = 'jira'`)
		return err
	}))
	_, _, err = provision.GetTicketIntegration(acme, db, keys, provision.TicketJira)
	require.Error(t, err, "a credential sealed for another record must not open")

	list, err = provision.ListTicketIntegrations(acme, db)
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, in := range list {
		require.NotContains(t, string(in.Settings), "SECRET")
	}
	require.Equal(t, []string{provision.EventTicketIntegrationSet}, auditEvents(t, acme, db, "ticket_integration/jira"))

	require.NoError(t, provision.RemoveTicketIntegration(acme, db, provision.TicketJira))
	require.ErrorIs(t, provision.RemoveTicketIntegration(acme, db, provision.TicketJira), provision.ErrUnknownTicketSystem)
	require.Equal(t, []string{provision.EventTicketIntegrationSet, provision.EventTicketIntegrationRemoved}, auditEvents(t, acme, db, "ticket_integration/jira"))
}
