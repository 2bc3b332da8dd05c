package runbook

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
)

// Queue is the River queue runbook jobs run on.
var Queue = action.KindRunbook.Queue()

// Args are a runbook job's arguments: the reference to its action.
type Args struct {
	job.Ref
}

// Kind is the River job kind.
func (Args) Kind() string { return "alexus.actions.runbook" }

// Enqueue inserts the runbook job for a in tx, on the runbook queue, unique
// by tenant and idempotency key.
func Enqueue(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, a action.Action, maxAttempts int) error {
	ref, err := job.RefOf(ctx, a)
	if err != nil {
		return err
	}
	return job.Insert(ctx, client, tx, action.KindRunbook, Args{Ref: ref}, maxAttempts)
}
