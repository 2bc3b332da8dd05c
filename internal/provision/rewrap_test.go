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
	"github.com/alexus-platform/alexus/internal/ticket/jira"
)

// After a new key-encryption key is put first in the ring, RewrapSecrets
// moves every sealed secret of the tenant (in all six columns) to it, so
// the old key can be dropped; a second run moves nothing; another tenant
// is left alone; and a secret that does not open fails the tenant with
// nothing changed.
func TestRewrapSecretsRetiresAnOldKey(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	acme, globex := as("acme"), as("globex")
	k1, err := secretbox.GenerateKey()
	require.NoError(t, err)
	k2, err := secretbox.GenerateKey()
	require.NoError(t, err)
	old, err := secretbox.ParseKeyring("k1:" + k1)
	require.NoError(t, err)
	rotated, err := secretbox.ParseKeyring("k2:" + k2 + ",k1:" + k1)
	require.NoError(t, err)
	onlyNew, err := secretbox.ParseKeyring("k2:" + k2)
	require.NoError(t, err)

	seedAll := func(ctx context.Context, tn string) {
		_, err := provision.EnsureTenant(ctx, db, provision.TenantOptions{})
		require.NoError(t, err)
		in, _, err := provision.CreateIntegration(ctx, db, "generic", "ci")
		require.NoError(t, err)
		require.NoError(t, provision.SetSigningSecret(ctx, db, old, in.ID, []byte("whsec-0123456789abcdef0123456789")))
		require.NoError(t, provision.SetNotifyTarget(ctx, db, old, "ops", provision.NotifySlack, "https://hooks.slack.com/services/T000/B000/SECRET"))
		require.NoError(t, provision.SetTicketIntegration(ctx, db, old, provision.TicketIntegration{System: provision.TicketJira,
			Jira: &jira.Config{BaseURL: "https://acme.atlassian.net", Email: "bot@acme.example", APIToken: "SECRET", Project: "OPS"}}))
		require.NoError(t, db.WithTenant(ctx, func(tx pgx.Tx) error {
			llm, err := old.Seal(secretbox.Owner{Tenant: tn, Record: provision.LLMKeyRecord, Purpose: provision.LLMKeyPurpose}, []byte("sk-SECRET"))
			if err != nil {
				return err
			}
			emb, err := old.Seal(secretbox.Owner{Tenant: tn, Record: provision.EmbedKeyRecord, Purpose: provision.EmbedKeyPurpose}, []byte("emb-SECRET"))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tenant_llm_settings (tenant_id, model, api_key) VALUES ($1, 'gpt', $2)`, tn, llm); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO tenant_rag_settings (tenant_id, embed_api_key) VALUES ($1, $2)
				ON CONFLICT (tenant_id) DO UPDATE SET embed_api_key = EXCLUDED.embed_api_key`, tn, emb)
			return err
		}))
	}
	seedAll(acme, "acme")
	seedAll(globex, "globex")

	tenants, err := provision.SealedSecretTenants(context.Background(), db)
	require.NoError(t, err)
	require.Contains(t, tenants, tenant.ID("acme"))
	require.Contains(t, tenants, tenant.ID("globex"))

	res, err := provision.RewrapSecrets(acme, db, rotated)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"integration_tokens": 1, "notify_targets": 1, "ticket_integrations": 1,
		"tenant_llm_settings": 1, "tenant_rag_settings": 1}, res.Rewrapped)
	require.Zero(t, res.Current)

	// With the old key gone, acme's secrets still open; globex's do not
	// (not rewrapped yet).
	in, ok, err := provision.GetTicketIntegration(acme, db, onlyNew, provision.TicketJira)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "SECRET", in.Jira.APIToken)
	for _, c := range sealedIn(t, acme, db) {
		id, err := secretbox.KeyID(c)
		require.NoError(t, err)
		require.Equal(t, "k2", id)
	}
	for _, c := range sealedIn(t, globex, db) {
		id, err := secretbox.KeyID(c)
		require.NoError(t, err)
		require.Equal(t, "k1", id, "another tenant is not touched")
	}

	again, err := provision.RewrapSecrets(acme, db, rotated)
	require.NoError(t, err)
	require.Zero(t, again.Total())
	require.Equal(t, 5, again.Current)
	require.Equal(t, []string{provision.EventSecretsRewrapped}, auditEvents(t, acme, db, "secrets"))

	// A blob that does not open (copied from another column) fails the
	// tenant, naming the table, and nothing of the tenant changes.
	require.NoError(t, db.WithTenant(globex, func(tx pgx.Tx) error {
		_, err := tx.Exec(globex, `UPDATE tenant_llm_settings SET api_key = (SELECT embed_api_key FROM tenant_rag_settings)`)
		return err
	}))
	_, err = provision.RewrapSecrets(globex, db, rotated)
	require.ErrorContains(t, err, "tenant_llm_settings")
	for _, c := range sealedIn(t, globex, db) {
		id, err := secretbox.KeyID(c)
		require.NoError(t, err)
		require.Equal(t, "k1", id, "a failed rewrap changes nothing")
	}
}

// sealedIn returns every sealed secret of the context's tenant.
func sealedIn(t *testing.T, ctx context.Context, db *store.DB) [][]byte {
	t.Helper()
	var out [][]byte
	require.NoError(t, db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT signing_secret FROM integration_tokens WHERE signing_secret IS NOT NULL
			UNION ALL SELECT url_sealed FROM notify_targets
			UNION ALL SELECT credential_sealed FROM ticket_integrations
			UNION ALL SELECT api_key FROM tenant_llm_settings WHERE api_key IS NOT NULL
			UNION ALL SELECT embed_api_key FROM tenant_rag_settings WHERE embed_api_key IS NOT NULL`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
		return err
	}))
	require.Len(t, out, 5)
	return out
}
