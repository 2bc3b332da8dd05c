package store_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

func ctxFor(t tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: t, Subject: "test"})
}

func addTenant(t *testing.T, db *store.DB, id tenant.ID) {
	t.Helper()
	err := db.WithTenant(ctxFor(id), func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), "INSERT INTO tenants (id) VALUES ($1)", string(id))
		if err != nil {
			return err
		}
		return audit.Append(ctxFor(id), tx, "tenant.created", "tenant", nil)
	})
	require.NoError(t, err)
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	b := storetest.New(t)
	ctx := context.Background()
	addTenant(t, b.DB, "acme")
	addTenant(t, b.DB, "globex")

	t.Run("tenant reads only its own rows through the helper", func(t *testing.T) {
		for _, tc := range []struct{ as, other tenant.ID }{{"acme", "globex"}, {"globex", "acme"}} {
			var ids []string
			err := b.DB.WithTenant(ctxFor(tc.as), func(tx pgx.Tx) error {
				rows, err := tx.Query(ctx, "SELECT tenant_id FROM audit_log UNION ALL SELECT id FROM tenants")
				if err != nil {
					return err
				}
				ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			})
			require.NoError(t, err)
			require.Equal(t, []string{string(tc.as), string(tc.as)}, ids)
		}
	})

	t.Run("tenant cannot insert rows carrying another tenant's id", func(t *testing.T) {
		err := b.DB.WithTenant(ctxFor("globex"), func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO audit_log (tenant_id, actor, event, subject) VALUES ('acme', 'evil', 'x', 'y')`)
			return err
		})
		require.ErrorContains(t, err, "row-level security")
	})

	t.Run("raw SQL as the app role is filtered and refused too", func(t *testing.T) {
		conn, err := b.DB.Pool().Acquire(ctx)
		require.NoError(t, err)
		defer conn.Release()
		var role string
		require.NoError(t, conn.QueryRow(ctx, "SELECT current_user").Scan(&role))
		require.Equal(t, store.AppRole, role)

		_, err = conn.Exec(ctx, "SET app.tenant_id = 'globex'")
		require.NoError(t, err)
		var n int
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE tenant_id = 'acme'").Scan(&n))
		require.Zero(t, n)
		_, err = conn.Exec(ctx, `INSERT INTO audit_log (tenant_id, actor, event, subject) VALUES ('acme', 'evil', 'x', 'y')`)
		require.ErrorContains(t, err, "row-level security")
		_, err = conn.Exec(ctx, "RESET app.tenant_id")
		require.NoError(t, err)
	})

	t.Run("no tenant set reads nothing", func(t *testing.T) {
		var n int
		require.NoError(t, b.DB.Pool().QueryRow(ctx, "SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM tenants)").Scan(&n))
		require.Zero(t, n)
	})

	t.Run("the helper refuses a context without a tenant", func(t *testing.T) {
		err := b.DB.WithTenant(ctx, func(pgx.Tx) error { return nil })
		require.Error(t, err)
	})

	t.Run("the tenant lasts only as long as the transaction, with every option", func(t *testing.T) {
		conn := b.DB.Pool()
		for _, opts := range []pgx.TxOptions{{}, {IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, {IsoLevel: pgx.Serializable, AccessMode: pgx.ReadOnly, DeferrableMode: pgx.Deferrable}} {
			err := b.DB.WithTenantTx(ctxFor("acme"), opts, func(tx pgx.Tx) error {
				var setting, iso, ro string
				if err := tx.QueryRow(ctx, "SELECT current_setting('app.tenant_id'), current_setting('transaction_isolation'), current_setting('transaction_read_only')").Scan(&setting, &iso, &ro); err != nil {
					return err
				}
				require.Equal(t, "acme", setting)
				want := "read committed"
				if opts.IsoLevel != "" {
					want = strings.ToLower(string(opts.IsoLevel))
				}
				require.Equal(t, want, iso)
				require.Equal(t, map[bool]string{true: "on", false: "off"}[opts.AccessMode == pgx.ReadOnly], ro)
				return nil
			})
			require.NoError(t, err)
		}
		// No tenant is left on the pool's connections afterwards.
		var n int
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM tenants").Scan(&n))
		require.Zero(t, n)
	})

	t.Run("a batch is scoped to the tenant and runs as one transaction", func(t *testing.T) {
		count := func(as tenant.ID, event string) int {
			var n int
			b1 := &pgx.Batch{}
			b1.Queue("SELECT count(*) FROM audit_log WHERE event = $1", event)
			require.NoError(t, b.DB.Batch(ctxFor(as), b1, func(br pgx.BatchResults) error { return br.QueryRow().Scan(&n) }))
			return n
		}
		require.Equal(t, 1, count("acme", "tenant.created"), "a tenant reads its own rows")

		ok := &pgx.Batch{}
		ok.Queue(`INSERT INTO audit_log (tenant_id, actor, event, subject) VALUES ('acme', 'test', 'batch.ok', 'x')`)
		ok.Queue(`INSERT INTO audit_log (tenant_id, actor, event, subject) VALUES ('acme', 'test', 'batch.ok', 'y')`)
		require.NoError(t, b.DB.Batch(ctxFor("acme"), ok, func(br pgx.BatchResults) error {
			for range 2 {
				if _, err := br.Exec(); err != nil {
					return err
				}
			}
			return nil
		}))
		require.Equal(t, 2, count("acme", "batch.ok"))
		require.Zero(t, count("globex", "batch.ok"), "another tenant reads none of them")

		// The second statement fails (another tenant's row): the first is
		// rolled back with it.
		bad := &pgx.Batch{}
		bad.Queue(`INSERT INTO audit_log (tenant_id, actor, event, subject) VALUES ('globex', 'test', 'batch.bad', 'x')`)
		bad.Queue(`INSERT INTO audit_log (tenant_id, actor, event, subject) VALUES ('acme', 'evil', 'batch.bad', 'y')`)
		err := b.DB.Batch(ctxFor("globex"), bad, func(br pgx.BatchResults) error {
			for range 2 {
				if _, err := br.Exec(); err != nil {
					return err
				}
			}
			return nil
		})
		require.ErrorContains(t, err, "row-level security")
		require.Zero(t, count("globex", "batch.bad"), "nothing of a failed batch is kept")
		require.Error(t, b.DB.Batch(ctx, &pgx.Batch{}, func(pgx.BatchResults) error { return nil }), "a context without a tenant is refused")
	})

	t.Run("an identity whose tenant is not a slug is refused", func(t *testing.T) {
		bad := tenant.WithIdentity(ctx, tenant.Identity{Tenant: "acme'); DROP TABLE tenants; --", Subject: "test"})
		err := b.DB.WithTenant(bad, func(pgx.Tx) error { return nil })
		require.ErrorIs(t, err, tenant.ErrInvalidID)
	})

	t.Run("the app role cannot rewrite the audit log", func(t *testing.T) {
		for _, stmt := range []string{"UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"} {
			err := b.DB.WithTenant(ctxFor("acme"), func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, stmt)
				return err
			})
			require.ErrorContains(t, err, "permission denied", stmt)
		}
	})
}

// A plane's pool must never run as a role that skips RLS; Open refuses one.
func TestOpenRefusesRolesThatBypassRLS(t *testing.T) {
	t.Parallel()
	b := storetest.New(t)
	ctx := context.Background()

	require.NoError(t, b.DB.CheckRole(ctx), "the plane's own pool must pass the check")

	// The admin URL used directly (a superuser here) must be refused.
	_, err := store.Open(ctx, store.Config{AppURL: b.AdminURL})
	require.ErrorIs(t, err, store.ErrRoleBypassesRLS)

	// So must a role with BYPASSRLS.
	admin, err := pgxpool.New(ctx, b.AdminURL)
	require.NoError(t, err)
	defer admin.Close()
	_, err = admin.Exec(ctx, `DO $$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alexus_test_bypass') THEN
			CREATE ROLE alexus_test_bypass LOGIN BYPASSRLS;
		END IF;
		EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
	END $$`)
	require.NoError(t, err)
	u, err := url.Parse(b.AdminURL)
	require.NoError(t, err)
	u.User = url.User("alexus_test_bypass")
	_, err = store.Open(ctx, store.Config{AppURL: u.String()})
	if err != nil && (strings.Contains(err.Error(), "password authentication") || strings.Contains(err.Error(), "pg_hba.conf")) {
		t.Skip("SKIPPED: the server does not let alexus_test_bypass log in without a password")
	}
	require.ErrorIs(t, err, store.ErrRoleBypassesRLS)
}

// Every table that holds tenant data must have row-level security enabled
// and forced and a policy, and must not be owned by the application role,
// so a new table without them fails here.
func TestEveryTenantTableHasForcedRLS(t *testing.T) {
	t.Parallel()
	b := storetest.New(t)
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, b.AdminURL)
	require.NoError(t, err)
	defer admin.Close()

	rows, err := admin.Query(ctx, `
		SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
		       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid),
		       pg_get_userbyid(c.relowner)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind = 'r'
		  AND (c.relname = 'tenants' OR EXISTS (
		        SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
		ORDER BY c.relname`)
	require.NoError(t, err)
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var (
			name, owner     string
			enabled, forced bool
			policies        int
		)
		require.NoError(t, rows.Scan(&name, &enabled, &forced, &policies, &owner))
		tables = append(tables, name)
		require.True(t, enabled, "%s: row-level security is not enabled", name)
		require.True(t, forced, "%s: row-level security is not forced", name)
		require.Positive(t, policies, "%s: has no policy", name)
		require.NotEqual(t, store.AppRole, owner, "%s: is owned by the application role", name)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, tables, "signals")
	require.Contains(t, tables, "audit_log")

	// And with no tenant set, the application role reads nothing from any,
	// even where rows exist (written here as the admin, which skips RLS).
	_, err = admin.Exec(ctx, `INSERT INTO tenants (id) VALUES ('acme');
		INSERT INTO audit_chain_heads (tenant_id) VALUES ('acme');
		INSERT INTO audit_log (tenant_id, actor, event, subject, seq, prev_hash, hash)
		  VALUES ('acme', 'admin', 'x', 'y', 1, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))`)
	require.NoError(t, err)
	for _, table := range tables {
		var n int
		require.NoError(t, b.DB.Pool().QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n))
		require.Zero(t, n, table)
	}
}

// A pool's connections carry the configured application name, unless the
// URL names one itself.
func TestApplicationName(t *testing.T) {
	t.Parallel()
	b := storetest.New(t)
	ctx := context.Background()
	for _, tc := range []struct{ url, name, want string }{
		{b.AdminURL, "alexus orchestrator", "alexus orchestrator"},
		{b.AdminURL + "&application_name=from-url", "alexus orchestrator", "from-url"},
	} {
		db, err := store.Open(ctx, store.Config{AdminURL: tc.url, ApplicationName: tc.name})
		require.NoError(t, err)
		var got string
		require.NoError(t, db.Pool().QueryRow(ctx, `SELECT current_setting('application_name')`).Scan(&got))
		db.Close()
		require.Equal(t, tc.want, got)
	}
}

// BenchmarkRoundTrip is what one round trip to Postgres costs the backend
// that serves it (pg-µs/op), beside the Go side's ns/op: a statement that
// does no work, a tenant transaction that runs nothing (BEGIN with the
// tenant's set_config, then COMMIT), and a Batch of one statement (the
// tenant and the statement in one round trip). Every statement a plane
// sends pays at least this, whatever its rows.
//
//	go test ./internal/store -run XXX -bench RoundTrip -benchtime 20000x
func BenchmarkRoundTrip(b *testing.B) {
	bundle := storetest.New(b)
	ctx := tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: "acme", Subject: "bench"})
	for _, bc := range []struct {
		name string
		op   func() error
	}{
		{"select", func() error {
			var n int
			return bundle.DB.Pool().QueryRow(ctx, `SELECT $1::int`, 1).Scan(&n)
		}},
		{"tenant transaction", func() error {
			return bundle.DB.WithTenant(ctx, func(pgx.Tx) error { return nil })
		}},
		{"batch of one", func() error {
			batch := &pgx.Batch{}
			batch.Queue(`SELECT $1::int`, 1)
			return bundle.DB.Batch(ctx, batch, func(br pgx.BatchResults) error {
				var n int
				return br.QueryRow().Scan(&n)
			})
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			watch := bundle.WatchBackends(b)
			n := 0
			for b.Loop() {
				if err := bc.op(); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if cpu, ok := watch.Stop(b); ok {
				b.ReportMetric(float64(cpu.Microseconds())/float64(n), "pg-µs/op")
			}
		})
	}
}
