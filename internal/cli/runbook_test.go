package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// runIn runs the root command with args and stdin, returning its stdout.
func runIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetIn(bytes.NewBufferString(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// alexus runbook set takes the credential from stdin and the schema from a
// file or inline, refuses a schema the validator cannot honour, and list
// shows the endpoint and schema but never the credential.
func TestRunbookCommands(t *testing.T) {
	t.Parallel()
	b := storetest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:alice"})
	_, err := provision.EnsureTenant(ctx, b.DB, provision.TenantOptions{})
	require.NoError(t, err)
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys := "k1:" + key
	schemaFile := filepath.Join(t.TempDir(), "schema.json")
	require.NoError(t, os.WriteFile(schemaFile, []byte(`{"type":"object","properties":{"service":{"type":"string"}},"required":["service"]}`), 0o600))

	common := []string{"--tenant", "acme", "--postgres-url", b.AdminURL}
	out, err := runIn(t, "rd-token-SECRET\n", append([]string{"runbook", "set", "restart", "--kind", "rundeck",
		"--url", "https://rundeck.example", "--job", "5f2c-job", "--schema", schemaFile, "--secret-keys", keys}, common...)...)
	require.NoError(t, err)
	require.Equal(t, "runbook \"restart\" (rundeck) of acme set\n", out)

	_, err = runIn(t, "awx-token\n", append([]string{"runbook", "set", "scale", "--kind", "awx",
		"--url", "https://awx.example", "--job", "42", "--schema", `{"type":"object","properties":{"n":{"type":"string","pattern":"^[0-9]+$"}}}`, "--secret-keys", keys}, common...)...)
	require.ErrorContains(t, err, `keyword "pattern" is not supported`)
	_, err = runIn(t, "", append([]string{"runbook", "set", "scale", "--kind", "awx",
		"--url", "https://awx.example", "--job", "42", "--schema", `{"type":"object"}`, "--secret-keys", keys}, common...)...)
	require.ErrorContains(t, err, "no credential on stdin")

	out, err = runIn(t, "", append([]string{"runbook", "list"}, common...)...)
	require.NoError(t, err)
	require.Contains(t, out, "https://rundeck.example/api/41/job/5f2c-job/run")
	require.Contains(t, out, `"required":["service"]`)
	require.NotContains(t, out, "SECRET")

	out, err = runIn(t, "", append([]string{"runbook", "remove", "restart"}, common...)...)
	require.NoError(t, err)
	require.Equal(t, "runbook \"restart\" of acme removed\n", out)
	_, err = runIn(t, "", append([]string{"runbook", "remove", "restart"}, common...)...)
	require.ErrorIs(t, err, provision.ErrUnknownRunbook)
}
