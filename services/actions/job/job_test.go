package job_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
)

type args struct{ job.Ref }

func (args) Kind() string { return "alexus.actions.test" }

// Behind the actions table's unique key, River's unique jobs are a second
// guard: one job per tenant and idempotency key, in any state, even when
// asked twice; another key or tenant gets its own job.
func TestInsertIsUniqueByTenantAndIdempotencyKey(t *testing.T) {
	t.Parallel()
	db := storetest.New(t).DB
	client, err := river.NewClient(riverpgxv5.New(db.Pool()), &river.Config{})
	require.NoError(t, err)
	ctx := context.Background()

	insert := func(ref job.Ref) {
		t.Helper()
		tx, err := db.Pool().Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		require.NoError(t, job.Insert(ctx, client, tx, action.KindNotify, args{ref}, 3))
		require.NoError(t, tx.Commit(ctx))
	}
	insert(job.Ref{Tenant: "acme", ActionID: "a1", IdempotencyKey: "k"})
	insert(job.Ref{Tenant: "acme", ActionID: "a2", IdempotencyKey: "k"})
	_, err = db.Pool().Exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now()`)
	require.NoError(t, err)
	insert(job.Ref{Tenant: "acme", ActionID: "a3", IdempotencyKey: "k"})
	insert(job.Ref{Tenant: "acme", ActionID: "b", IdempotencyKey: "other"})
	insert(job.Ref{Tenant: "globex", ActionID: "g", IdempotencyKey: "k"})

	rows, err := db.Pool().Query(ctx, `SELECT queue, args->>'action_id', max_attempts FROM river_job ORDER BY id`)
	require.NoError(t, err)
	type row struct {
		Queue, Action string
		Max           int
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	require.NoError(t, err)
	require.Equal(t, []row{{"notify", "a1", 3}, {"notify", "b", 3}, {"notify", "g", 3}}, got)
}
