package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
)

type row struct {
	actor, event, subject, details string
	seq                            int64
}

// bundle is one test's database: the app-role pool and an admin pool, which
// (a superuser) skips row-level security and every grant, as an attacker
// with the database's keys would.
type bundle struct {
	ctx   context.Context
	db    *store.DB
	admin *pgxpool.Pool
}

func setup(t *testing.T) *bundle {
	t.Helper()
	sb := storetest.New(t)
	admin, err := pgxpool.New(context.Background(), sb.AdminURL)
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	return &bundle{ctx: context.Background(), db: sb.DB, admin: admin}
}

func as(id tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "user:" + string(id) + "-admin"})
}

// addTenant creates the tenant and appends n entries to its log, one
// transaction each.
func (b *bundle) addTenant(t *testing.T, id tenant.ID, n int) {
	t.Helper()
	ctx := as(id)
	require.NoError(t, b.db.WithTenant(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id) VALUES ($1)`, string(id))
		return err
	}))
	for i := range n {
		require.NoError(t, b.db.WithTenant(ctx, func(tx pgx.Tx) error {
			return audit.Append(ctx, tx, "thing.done", fmt.Sprintf("thing/%d", i+1), map[string]string{"n": fmt.Sprint(i + 1)})
		}))
	}
}

func (b *bundle) verify(t *testing.T, id tenant.ID) audit.Report {
	t.Helper()
	rep, err := audit.Verify(as(id), b.db, nil)
	require.NoError(t, err)
	return rep
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
		r, err := tx.Query(alice, `SELECT actor, event, subject, details::text, seq FROM audit_log ORDER BY id`)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(r, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.actor, &x.event, &x.subject, &x.details, &x.seq)
		})
		return err
	})
	require.NoError(t, err)
	require.Equal(t, []row{
		{actor: "user:alice", event: "thing.done", subject: "thing/1", details: `{"k": "v"}`, seq: 1},
		{actor: "system", event: "thing.undone", subject: "thing/1", details: `{}`, seq: 2},
	}, rows, "the actor comes from the context; nil details are an empty object")

	err = db.WithTenant(alice, func(tx pgx.Tx) error {
		return audit.Append(context.Background(), tx, "thing.done", "thing/1", nil)
	})
	require.Error(t, err, "an entry needs the context's tenant")

	rep, err := audit.Verify(alice, db, nil)
	require.NoError(t, err)
	require.True(t, rep.Intact(), "%v", rep.Breaks)
	require.EqualValues(t, 2, rep.Rows)
}

// Concurrent appends for one tenant take turns on its chain head and get
// consecutive seqs; appends for another tenant are chained on their own.
func TestConcurrentAppendsStayOnOneChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 0)
	b.addTenant(t, "globex", 0)

	const writers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for w := range 2 * writers {
		id := tenant.ID("acme")
		if w%2 == 1 {
			id = "globex"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := as(id)
			for i := range each {
				err := b.db.WithTenant(ctx, func(tx pgx.Tx) error {
					// Two entries in one transaction are adjacent in the chain.
					if err := audit.Append(ctx, tx, "thing.started", fmt.Sprintf("w%d/%d", w, i), nil); err != nil {
						return err
					}
					return audit.Append(ctx, tx, "thing.finished", fmt.Sprintf("w%d/%d", w, i), nil)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	for _, id := range []tenant.ID{"acme", "globex"} {
		rep := b.verify(t, id)
		require.True(t, rep.Intact(), "%s: %v", id, rep.Breaks)
		require.EqualValues(t, writers*each*2, rep.Rows)
		require.EqualValues(t, writers*each*2, rep.HeadSeq)

		var pairs int
		require.NoError(t, b.admin.QueryRow(b.ctx, `
			SELECT count(*) FROM audit_log s JOIN audit_log f
			  ON f.tenant_id = s.tenant_id AND f.seq = s.seq + 1 AND f.subject = s.subject
			WHERE s.tenant_id = $1 AND s.event = 'thing.started' AND f.event = 'thing.finished'`, string(id)).Scan(&pairs))
		require.Equal(t, writers*each, pairs, "%s: a transaction's entries are adjacent", id)
	}
}

// The application role may read and add audit rows, never change or remove
// one, and cannot write a row off the chain.
func TestAppRoleCannotRewriteTheLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 3)
	ctx := as("acme")

	for name, stmt := range map[string]string{
		"update":   `UPDATE audit_log SET actor = 'someone else' WHERE seq = 2`,
		"delete":   `DELETE FROM audit_log WHERE seq = 2`,
		"truncate": `TRUNCATE audit_log`,
	} {
		err := b.db.WithTenant(ctx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, stmt)
			return err
		})
		require.ErrorContains(t, err, "permission denied", name)
	}

	err := b.db.WithTenant(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO audit_log (tenant_id, actor, event, subject) VALUES ('acme', 'evil', 'x', 'y')`)
		return err
	})
	require.ErrorContains(t, err, "null value", "a row without its link is refused")

	rep := b.verify(t, "acme")
	require.True(t, rep.Intact(), "%v", rep.Breaks)
	require.EqualValues(t, 3, rep.Rows)
}
