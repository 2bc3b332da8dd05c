package audit_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

type row struct {
	actor, event, subject, details string
}

func TestAppend(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	alice := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "user:alice"})
	anonymous := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme"})

	var rows []row
	err := db.WithTenant(alice, func(tx pgx.Tx) error {
		if _, err := tx.Exec(alice, `INSERT INTO tenants (id, display_name) VALUES ('acme', 'acme')`); err != nil {
			return err
		}
		require.NoError(t, audit.Append(alice, tx, "thing.done", "thing/1", map[string]string{"k": "v"}))
		require.NoError(t, audit.Append(anonymous, tx, "thing.undone", "thing/1", nil))
		r, err := tx.Query(alice, `SELECT actor, event, subject, details::text FROM audit_log ORDER BY id`)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(r, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.actor, &x.event, &x.subject, &x.details)
		})
		return err
	})
	require.NoError(t, err)
	require.Equal(t, []row{
		{actor: "user:alice", event: "thing.done", subject: "thing/1", details: `{"k": "v"}`},
		{actor: "system", event: "thing.undone", subject: "thing/1", details: `{}`},
	}, rows, "the actor comes from the context; nil details are an empty object")

	err = db.WithTenant(alice, func(tx pgx.Tx) error {
		return audit.Append(context.Background(), tx, "thing.done", "thing/1", nil)
	})
	require.Error(t, err, "an entry needs the context's tenant")
}
