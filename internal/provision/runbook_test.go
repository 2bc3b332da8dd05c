package provision_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store/storetest"
)

// A runbook's schema is compiled when it is saved, and refused when the
// validator could not honour it; its credential is sealed to its tenant and
// record, never listed or audited.
func TestRunbookRegistration(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	acme := as("acme")
	_, err := provision.EnsureTenant(acme, db, provision.TenantOptions{})
	require.NoError(t, err)
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("k1:" + key)
	require.NoError(t, err)
	schema := json.RawMessage(`{"type": "object", "properties": {"service": {"type": "string", "enum": ["checkout", "payments"]}}, "required": ["service"], "additionalProperties": false}`)
	rundeck := provision.Runbook{Name: "restart", Kind: provision.RunbookRundeck, URL: "https://rundeck.example/", Job: "3f1c9a2e-job", Credential: []byte("rd-SECRET-token"), Schema: schema}

	for name, tc := range map[string]struct {
		edit func(*provision.Runbook)
		want string
	}{
		"bad name":          {func(r *provision.Runbook) { r.Name = "Restart Now" }, "name"},
		"bad kind":          {func(r *provision.Runbook) { r.Kind = "jenkins" }, "kind"},
		"ftp url":           {func(r *provision.Runbook) { r.URL = "ftp://rundeck.example" }, "URL"},
		"url with password": {func(r *provision.Runbook) { r.URL = "https://admin:pw@rundeck.example" }, "credentials"},
		"no job":            {func(r *provision.Runbook) { r.Job = "" }, "job"},
		"awx job not a number": {func(r *provision.Runbook) {
			r.Kind, r.Job = provision.RunbookAWX, "restart"
		}, "numeric"},
		"generic short key": {func(r *provision.Runbook) {
			r.Kind, r.Job, r.URL = provision.RunbookGeneric, "", "https://auto.example/run"
		}, "at least 32 bytes"},
		"no credential":            {func(r *provision.Runbook) { r.Credential = nil }, "credential"},
		"schema not json":          {func(r *provision.Runbook) { r.Schema = json.RawMessage(`{"type":`) }, "schema"},
		"schema not an object":     {func(r *provision.Runbook) { r.Schema = json.RawMessage(`{"type":"array"}`) }, "root must be of type object"},
		"schema keyword unhonored": {func(r *provision.Runbook) { r.Schema = json.RawMessage(`{"type":"object","patternProperties":{}}`) }, `"patternProperties" is not supported`},
	} {
		r := rundeck
		tc.edit(&r)
		err := provision.SetRunbook(acme, db, keys, r)
		require.ErrorContains(t, err, tc.want, name)
		require.NotContains(t, err.Error(), "SECRET", name)
	}
	require.ErrorContains(t, provision.SetRunbook(acme, db, nil, rundeck), "ALEXUS_SECRET_KEYS")
	require.NoError(t, provision.SetRunbook(acme, db, keys, rundeck))

	var (
		record uuid.UUID
		sealed []byte
	)
	require.NoError(t, db.WithTenant(acme, func(tx pgx.Tx) error {
		return tx.QueryRow(acme, `SELECT record_id, credential_sealed FROM runbooks WHERE name = 'restart'`).Scan(&record, &sealed)
	}))
	require.NotContains(t, string(sealed), "SECRET")
	opened, err := keys.Open(provision.RunbookOwner("acme", record.String()), sealed)
	require.NoError(t, err)
	require.Equal(t, "rd-SECRET-token", string(opened))
	_, err = keys.Open(provision.RunbookOwner("globex", record.String()), sealed)
	require.Error(t, err, "bound to its tenant")

	list, err := provision.ListRunbooks(acme, db)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "https://rundeck.example/api/41/job/3f1c9a2e-job/run", list[0].Endpoint())
	require.Nil(t, list[0].Credential)
	require.JSONEq(t, string(schema), string(list[0].Schema))
	awx := provision.Runbook{Kind: provision.RunbookAWX, URL: "https://awx.example", Job: "42"}
	require.Equal(t, "https://awx.example/api/v2/job_templates/42/launch/", awx.Endpoint())

	events := auditEvents(t, acme, db, "runbook/restart")
	require.Equal(t, []string{provision.EventRunbookSet}, events)
	require.NoError(t, provision.RemoveRunbook(acme, db, "restart"))
	require.ErrorIs(t, provision.RemoveRunbook(acme, db, "restart"), provision.ErrUnknownRunbook)
}

func auditEvents(t *testing.T, ctx context.Context, db interface {
	WithTenant(context.Context, func(pgx.Tx) error) error
}, subject string) []string {
	t.Helper()
	var out []string
	require.NoError(t, db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT event, details::text FROM audit_log WHERE subject = $1 ORDER BY id`, subject)
		if err != nil {
			return err
		}
		for rows.Next() {
			var ev, details string
			if err := rows.Scan(&ev, &details); err != nil {
				return err
			}
			require.NotContains(t, details, "SECRET")
			out = append(out, ev)
		}
		return rows.Err()
	}))
	return out
}
