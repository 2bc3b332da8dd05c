package webhook

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
)

// Queue is the River queue webhook jobs run on.
const Queue = "webhook"

// Args are a webhook job's arguments. They carry only identifiers: the
// worker loads everything else from the tenant's rows, so a job never holds
// a stale copy of an action or a target URL.
type Args struct {
	// Tenant is the action's tenant; the worker acts for it.
	Tenant string `json:"tenant_id"`
	// ActionID is the action to deliver.
	ActionID string `json:"action_id"`
}

// Kind is the River job kind.
func (Args) Kind() string { return "alexus.actions.webhook" }

// Enqueue inserts the webhook job for a in tx. Uniqueness by arguments is a
// second guard behind the actions table's idempotency key: even a caller
// that somehow enqueued twice for one action gets one job.
func Enqueue(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, a action.Action, maxAttempts int) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	_, err = client.InsertTx(ctx, tx, Args{Tenant: string(t), ActionID: a.ID}, &river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: maxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return fmt.Errorf("insert webhook job for action %s: %w", a.ID, err)
	}
	return nil
}
