package sweep_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
	"github.com/alexus-platform/alexus/services/actions/notify"
	"github.com/alexus-platform/alexus/services/actions/sweep"
)

type bundle struct {
	db      *store.DB
	actions *action.Store
	sweeper *sweep.Sweeper
}

func setup(t *testing.T) *bundle {
	t.Helper()
	db := storetest.New(t).DB
	for _, id := range []tenant.ID{"acme", "globex"} {
		_, err := provision.EnsureTenant(as(id), db, provision.TenantOptions{})
		require.NoError(t, err)
	}
	// An insert-only client: the jobs are enqueued for real but never
	// worked, so the test decides how each one ends.
	client, err := river.NewClient(riverpgxv5.New(db.Pool()), &river.Config{})
	require.NoError(t, err)
	st := action.NewStore(db, func(ctx context.Context, tx pgx.Tx, a action.Action) error {
		return job.Enqueue[notify.Args](ctx, client, tx, a, 5)
	})
	return &bundle{db: db, actions: st, sweeper: sweep.NewSweeper(zaptest.NewLogger(t), db, st, notify.Args{}.Kind())}
}

func as(id tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "user:alice"})
}

func (b *bundle) execute(t *testing.T, id tenant.ID, key string) action.Action {
	t.Helper()
	a, _, err := b.actions.Execute(as(id), action.Request{IdempotencyKey: key, Kind: action.KindNotify,
		Notify: &action.NotifyParams{Target: "oncall", Text: "checkout is down"}})
	require.NoError(t, err)
	return a
}

// end finalizes a's job as River would: state, on attempt, now.
func (b *bundle) end(t *testing.T, a action.Action, state string, attempt int) {
	t.Helper()
	tag, err := b.db.Pool().Exec(context.Background(), `
		UPDATE river_job SET state = $2::river_job_state, attempt = $3, finalized_at = now(), attempted_at = now()
		WHERE args->>'action_id' = $1`, a.ID, state, attempt)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
}

func (b *bundle) get(t *testing.T, id tenant.ID, actionID string) action.Action {
	t.Helper()
	a, err := b.actions.Get(as(id), actionID)
	require.NoError(t, err)
	return a
}

// A pending action whose job River discarded (the worker was killed on the
// last attempt and the rescuer gave up) or cancelled is recorded failed,
// with an audit entry by the action plane; actions with an outcome, and
// those whose job is still alive, are left alone; a second sweep does
// nothing.
func TestSweepFailsActionsWhoseJobDied(t *testing.T) {
	t.Parallel()
	b := setup(t)
	discarded := b.execute(t, "acme", "discarded")
	cancelled := b.execute(t, "acme", "cancelled")
	alive := b.execute(t, "acme", "alive")
	recorded := b.execute(t, "acme", "recorded")
	other := b.execute(t, "globex", "discarded")

	b.end(t, discarded, "discarded", 5)
	b.end(t, cancelled, "cancelled", 2)
	b.end(t, other, "discarded", 5)
	// The worker recorded this one's failure itself before River discarded
	// the job: its result stays.
	err := b.actions.Record(as("acme"), recorded.ID, action.Outcome{Status: action.StatusFailed, Result: "HTTP 500", Attempt: 5})
	require.NoError(t, err)
	b.end(t, recorded, "discarded", 5)

	n, err := b.sweeper.Sweep(context.Background())
	require.NoError(t, err)
	require.Equal(t, 3, n)

	got := b.get(t, "acme", discarded.ID)
	require.Equal(t, action.StatusFailed, got.Status)
	require.Equal(t, sweep.ResultDiscarded, got.Result)
	require.Equal(t, 1, got.Attempts)
	got = b.get(t, "acme", cancelled.ID)
	require.Equal(t, action.StatusFailed, got.Status)
	require.Equal(t, sweep.ResultCancelled, got.Result)
	require.Equal(t, action.StatusFailed, b.get(t, "globex", other.ID).Status)
	require.Equal(t, action.StatusPending, b.get(t, "acme", alive.ID).Status)
	require.Equal(t, "HTTP 500", b.get(t, "acme", recorded.ID).Result)

	type entry struct{ Actor, Event, Attempt, Result string }
	var entries []entry
	require.NoError(t, b.db.WithTenant(as("acme"), func(tx pgx.Tx) error {
		rows, err := tx.Query(context.Background(), `
			SELECT actor, event, coalesce(details->>'attempt', ''), coalesce(details->>'result', '') FROM audit_log WHERE subject = $1 ORDER BY id`,
			discarded.Subject())
		if err != nil {
			return err
		}
		entries, err = pgx.CollectRows(rows, pgx.RowToStructByPos[entry])
		return err
	}))
	require.Equal(t, []entry{
		{"user:alice", action.EventRequested, "", ""},
		{job.SystemSubject, action.EventFailed, "5", sweep.ResultDiscarded},
	}, entries)

	n, err = b.sweeper.Sweep(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to sweep")

	// A job that dies later is found by the next sweep.
	b.end(t, alive, "discarded", 5)
	n, err = b.sweeper.Sweep(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, action.StatusFailed, b.get(t, "acme", alive.ID).Status)
}
