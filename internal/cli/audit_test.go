package cli

import (
	"bytes"
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// run runs the root command with args and returns its stdout and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestAuditVerify(t *testing.T) {
	t.Parallel()
	b := storetest.New(t)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:alice"})
	_, err := provision.EnsureTenant(ctx, b.DB, provision.TenantOptions{})
	require.NoError(t, err)
	for range 4 {
		require.NoError(t, b.DB.WithTenant(ctx, func(tx pgx.Tx) error {
			return audit.Append(ctx, tx, "thing.done", "thing/1", nil)
		}))
	}

	out, err := run(t, "audit", "verify", "--tenant", "acme", "--quiet", "--postgres-url", b.AdminURL)
	require.NoError(t, err)
	require.Contains(t, out, "audit log of acme: intact\n")
	require.Contains(t, out, "rows checked: 5\n")
	require.Contains(t, out, "time taken:   ")
	require.Regexp(t, `chain head:   seq 5, sha256 [0-9a-f]{64}\n`, out)

	admin, err := pgx.Connect(context.Background(), b.AdminURL)
	require.NoError(t, err)
	defer admin.Close(context.Background())
	_, err = admin.Exec(context.Background(), `DELETE FROM audit_log WHERE tenant_id = 'acme' AND seq = 3`)
	require.NoError(t, err)

	out, err = run(t, "audit", "verify", "--tenant", "acme", "--quiet", "--postgres-url", b.AdminURL)
	require.EqualError(t, err, "audit log of acme is broken (1 break); the first: missing at seq 4 (row id 4): row seq 3 removed")
	require.Contains(t, out, "audit log of acme: BROKEN, 1 break\n")
	require.Contains(t, out, "rows checked: 4\n")

	_, err = run(t, "audit", "verify", "--tenant", "nobody", "--quiet", "--postgres-url", b.AdminURL)
	require.EqualError(t, err, "tenant nobody does not exist")
	_, err = run(t, "audit", "verify", "--tenant", "Not A Tenant", "--postgres-url", b.AdminURL)
	require.ErrorContains(t, err, "tenant id")
}
