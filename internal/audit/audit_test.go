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

// addTenant creates the tenant, appends n entries to its log, one
// transaction each, and chains them.
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
	b.chain(t, id)
}

// chain links the tenant's unchained entries and returns how many.
func (b *bundle) chain(t *testing.T, id tenant.ID) int64 {
	t.Helper()
	n, err := audit.Chain(as(id), b.db)
	require.NoError(t, err)
	return n
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

	readRows := func(tx pgx.Tx) ([]row, error) {
		r, err := tx.Query(alice, `SELECT actor, event, subject, details::text, coalesce(seq, 0) FROM audit_log ORDER BY id`)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(r, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.actor, &x.event, &x.subject, &x.details, &x.seq)
		})
	}
	var rows []row
	err := db.WithTenant(alice, func(tx pgx.Tx) error {
		if _, err := tx.Exec(alice, `INSERT INTO tenants (id, display_name) VALUES ('acme', 'acme')`); err != nil {
			return err
		}
		require.NoError(t, audit.Append(alice, tx, "thing.done", "thing/1", map[string]string{"k": "v"}))
		require.NoError(t, audit.Append(anonymous, tx, "thing.undone", "thing/1", nil))
		var err error
		rows, err = readRows(tx)
		return err
	})
	require.NoError(t, err)
	require.Equal(t, []row{
		{actor: "user:alice", event: "thing.done", subject: "thing/1", details: `{"k": "v"}`},
		{actor: "system", event: "thing.undone", subject: "thing/1", details: `{}`},
	}, rows, "the actor comes from the context; nil details are an empty object; entries are written unchained")

	n, err := audit.Chain(alice, db)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	require.NoError(t, db.WithTenant(alice, func(tx pgx.Tx) error {
		var err error
		rows, err = readRows(tx)
		return err
	}))
	require.EqualValues(t, 1, rows[0].seq, "chained in id order")
	require.EqualValues(t, 2, rows[1].seq)
	n, err = audit.Chain(alice, db)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to chain")

	err = db.WithTenant(alice, func(tx pgx.Tx) error {
		return audit.Append(context.Background(), tx, "thing.done", "thing/1", nil)
	})
	require.Error(t, err, "an entry needs the context's tenant")

	rep, err := audit.Verify(alice, db, nil)
	require.NoError(t, err)
	require.True(t, rep.Intact(), "%v", rep.Breaks)
	require.EqualValues(t, 2, rep.Rows)
}

// Concurrent appends for one tenant, then chaining, give a chain without
// gaps in id order; another tenant's appends are chained on their own.
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
		require.EqualValues(t, writers*each*2, b.chain(t, id))
		rep := b.verify(t, id)
		require.True(t, rep.Intact(), "%s: %v", id, rep.Breaks)
		require.EqualValues(t, writers*each*2, rep.Rows)
		require.EqualValues(t, writers*each*2, rep.HeadSeq)

		require.Zero(t, rep.Pending)

		// seq is the entry's rank by id: no gap, no other order.
		var misplaced int
		require.NoError(t, b.admin.QueryRow(b.ctx, `
			SELECT count(*) FROM (SELECT seq, row_number() OVER (ORDER BY id) AS n FROM audit_log WHERE tenant_id = $1) r
			WHERE r.seq IS DISTINCT FROM r.n`, string(id)).Scan(&misplaced))
		require.Zero(t, misplaced, "%s: seq follows id without gaps", id)

		var pairs int
		require.NoError(t, b.admin.QueryRow(b.ctx, `
			SELECT count(*) FROM audit_log s JOIN audit_log f
			  ON f.tenant_id = s.tenant_id AND f.seq > s.seq AND f.subject = s.subject
			WHERE s.tenant_id = $1 AND s.event = 'thing.started' AND f.event = 'thing.finished'`, string(id)).Scan(&pairs))
		require.Equal(t, writers*each, pairs, "%s: a transaction's entries keep their order", id)
	}
}

// The application role may read and add audit rows and set an unchained
// row's link, never change a row's content, re-link a chained row, or
// remove one; the trigger holds even for the owner.
func TestAppRoleCannotRewriteTheLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 3)
	ctx := as("acme")
	exec := func(stmt string) error {
		return b.db.WithTenant(ctx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, stmt)
			return err
		})
	}

	for name, stmt := range map[string]string{
		"update":   `UPDATE audit_log SET actor = 'someone else' WHERE seq = 2`,
		"delete":   `DELETE FROM audit_log WHERE seq = 2`,
		"truncate": `TRUNCATE audit_log`,
	} {
		require.ErrorContains(t, exec(stmt), "permission denied", name)
	}

	// The column grant lets the role write a link; the trigger keeps it to
	// rows that have none.
	for name, stmt := range map[string]string{
		"seq":       `UPDATE audit_log SET seq = 7 WHERE seq = 2`,
		"prev_hash": `UPDATE audit_log SET prev_hash = hash WHERE seq = 2`,
		"hash":      `UPDATE audit_log SET hash = prev_hash WHERE seq = 2`,
		"unlink":    `UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL WHERE seq = 3`,
	} {
		require.ErrorContains(t, exec(stmt), "is already chained", name)
	}
	for name, stmt := range map[string]string{
		"actor":   `UPDATE audit_log SET actor = 'someone else' WHERE tenant_id = 'acme' AND seq = 2`,
		"details": `UPDATE audit_log SET details = '{"n": "forged"}' WHERE tenant_id = 'acme' AND seq = 2`,
		"at":      `UPDATE audit_log SET at = now() WHERE tenant_id = 'acme' AND seq = 2`,
	} {
		_, err := b.admin.Exec(b.ctx, stmt)
		require.ErrorContains(t, err, "append-only", "the owner, triggers on: %s", name)
	}

	// A row written without its link is chained like any other.
	require.NoError(t, exec(`INSERT INTO audit_log (tenant_id, actor, event, subject) VALUES ('acme', 'system', 'x', 'y')`))
	require.EqualValues(t, 1, b.chain(t, "acme"))

	rep := b.verify(t, "acme")
	require.True(t, rep.Intact(), "%v", rep.Breaks)
	require.EqualValues(t, 4, rep.Rows)
}

// Verify chains the tenant's pending entries before it checks, so it checks
// everything written before it started.
func TestVerifyChainsPendingEntries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme", 3)
	ctx := as("acme")
	for i := range 4 {
		require.NoError(t, b.db.WithTenant(ctx, func(tx pgx.Tx) error {
			return audit.Append(ctx, tx, "thing.later", fmt.Sprintf("later/%d", i), nil)
		}))
	}
	var pending int
	require.NoError(t, b.admin.QueryRow(b.ctx, `SELECT count(*) FROM audit_log WHERE hash IS NULL`).Scan(&pending))
	require.Equal(t, 4, pending)

	rep := b.verify(t, "acme")
	require.True(t, rep.Intact(), "%v", rep.Breaks)
	require.EqualValues(t, 7, rep.Rows)
	require.EqualValues(t, 7, rep.HeadSeq)
	require.Zero(t, rep.Pending)
	require.NoError(t, b.admin.QueryRow(b.ctx, `SELECT count(*) FROM audit_log WHERE hash IS NULL`).Scan(&pending))
	require.Zero(t, pending)
}
