package job

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
)

// SystemSubject is the identity executors act under; it is the actor of
// every audit entry they write.
const SystemSubject = "system:actions"

// Ref identifies the action a job executes. It carries only identifiers:
// an executor loads everything else from the tenant's rows, so a job never
// holds a stale copy of an action or a target's URL. Executors embed it in
// their job arguments.
type Ref struct {
	// Tenant is the action's tenant; the executor acts for it.
	Tenant string `json:"tenant_id" river:"unique"`
	// ActionID is the action to execute.
	ActionID string `json:"action_id"`
	// IdempotencyKey is the action's key. With Tenant it is what makes the
	// job unique (River's unique jobs by args).
	IdempotencyKey string `json:"idempotency_key,omitempty" river:"unique"`
	// Target names what the action acts on (Action.Target), so that an
	// executor can read its target in the same round trip as the action.
	// Empty in jobs queued before it was added; they read it afterwards.
	Target string `json:"target,omitempty"`
}

// RefOf returns the reference to a, an action of the context's tenant.
func RefOf(ctx context.Context, a action.Action) (Ref, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Ref{}, err
	}
	return Ref{Tenant: string(t), ActionID: a.ID, IdempotencyKey: a.IdempotencyKey, Target: a.Target()}, nil
}

// Args is the constraint on an executor's job arguments: a type of its own
// (River tells job kinds apart by type) over nothing but the Ref.
type Args interface {
	river.JobArgs
	~struct{ Ref }
}

// Enqueue inserts the job of type A for a, an action of the context's
// tenant, in tx: on the queue of a's kind, unique by tenant and
// idempotency key.
func Enqueue[A Args](ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, a action.Action, maxAttempts int) error {
	ref, err := RefOf(ctx, a)
	if err != nil {
		return err
	}
	return Insert(ctx, client, tx, a.Kind, A(struct{ Ref }{ref}), maxAttempts)
}

// allStates makes a job unique for good: a second insert for the same
// tenant and idempotency key is skipped even after the first job completed,
// was cancelled or was discarded, so a dead action is never run again by a
// duplicate request.
var allStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// Insert inserts args in tx on the queue of kind, with maxAttempts. It is
// unique by args (Ref's tenant and idempotency key), a second guard behind
// the actions table's unique key: even a caller that somehow enqueued twice
// for one action gets one job.
func Insert(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, kind action.Kind, args river.JobArgs, maxAttempts int) error {
	_, err := client.InsertTx(ctx, tx, args, &river.InsertOpts{
		Queue:       kind.Queue(),
		MaxAttempts: maxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: allStates},
	})
	if err != nil {
		return fmt.Errorf("insert %s job: %w", kind, err)
	}
	return nil
}

// Attempt is one run of an action job, as an executor sees it.
type Attempt struct {
	Ref         Ref
	JobID       int64
	Number      int
	MaxAttempts int
}

// Last reports whether River discards the job if this run fails.
func (a Attempt) Last() bool { return a.Number >= a.MaxAttempts }

// recordTimeout bounds recording an outcome. Recording is detached from the
// job's context: once a receiver has answered, a shutdown or job timeout
// must not stop the answer being recorded, or the retry would act again.
const recordTimeout = 10 * time.Second

// Record stores o as the outcome of the attempt's action. It runs detached
// from ctx's cancellation and deadline, bounded by recordTimeout, so that an
// outcome already reached is kept even when the job is being stopped. It
// returns action.ErrNotPending when another run recorded a final outcome
// first, and logs a failure that leaves the action pending for good.
func Record(ctx context.Context, log *zap.Logger, actions *action.Store, at Attempt, o action.Outcome) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	err := actions.Record(ctx, at.Ref.ActionID, o)
	if err != nil && !errors.Is(err, action.ErrNotPending) && at.Last() {
		log.Error("could not record the outcome of the last attempt; the action stays pending",
			zap.String("status", string(o.Status)), zap.String("result", o.Result), zap.Error(err))
	}
	return err
}

// Abandon returns err, which ended the run before it had an outcome to
// record. On the job's last attempt it first records the action as failed
// with result, the text the tenant sees; err may carry internals and goes
// only to the log.
func Abandon(ctx context.Context, log *zap.Logger, actions *action.Store, at Attempt, result string, err error) error {
	if !at.Last() {
		return err
	}
	o := action.Outcome{Status: action.StatusFailed, Result: "gave up on the last attempt: " + result, Attempt: at.Number}
	if rerr := Record(ctx, log, actions, at, o); rerr == nil {
		log.Warn("job failed on its last attempt; action failed", zap.Error(err))
	}
	return err
}

// FailForGood records the action as failed with result and returns the
// error that stops River retrying the job: for failures a retry cannot
// mend (a refused address, an unknown target, a receiver that rejects the
// message).
func FailForGood(ctx context.Context, log *zap.Logger, actions *action.Store, at Attempt, result string) error {
	o := action.Outcome{Status: action.StatusFailed, Result: result, Attempt: at.Number}
	if err := Record(ctx, log, actions, at, o); err != nil && !errors.Is(err, action.ErrNotPending) {
		return err
	}
	return river.JobCancel(errors.New(result))
}

// Periodic returns the River periodic job that inserts args on queue every
// interval, and also when the client starts if runOnStart. Its ID is the
// args' kind. A run gets one attempt: what a failed run leaves undone is
// simply the next run's work.
func Periodic(args river.JobArgs, queue string, interval time.Duration, runOnStart bool) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return args, &river.InsertOpts{Queue: queue, MaxAttempts: 1}
	}, &river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: runOnStart})
}
