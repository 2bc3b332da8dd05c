package job

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
)

// jobSlack is how much longer than the HTTP timeout a job may run, for the
// database work around the request.
const jobSlack = 30 * time.Second

// Verdict is what a receiver's answer means for the action.
type Verdict int

const (
	// Done: the receiver accepted; the action succeeded.
	Done Verdict = iota
	// Retry: River runs the job again with its backoff; on the last
	// attempt the action fails.
	Retry
	// RateLimited: the job waits Answer.Wait without using up an attempt,
	// up to MaxAttempts + maxRateLimitedRuns runs.
	RateLimited
	// Rejected: the receiver refused what a retry would send again; the
	// action fails at once.
	Rejected
	// Refused: the egress policy refused the receiver's address; the
	// action fails at once.
	Refused
)

// Answer is the outcome of acting once on an action's target.
type Answer struct {
	// Result is the text the tenant reads in the action's result.
	Result string
	// Verdict is what the answer means for the action.
	Verdict Verdict
	// Wait is how long to wait before the next run when RateLimited.
	Wait time.Duration
}

// Words are how an executor names what it does, in the results a tenant
// reads and in its job errors and logs.
type Words struct {
	// Target names what an action acts on: "webhook target", "runbook".
	// A result says `unknown <Target> "name"`.
	Target string
	// Unreadable is the result when the target could not be read and the
	// last attempt gives up.
	Unreadable string
	// Verb names acting once, in job errors: "deliver" (action ...).
	Verb string
	// Noun names acting once, in results and logs: "delivery", as in "the
	// delivery was interrupted by a shutdown or the job timeout".
	Noun string
}

// Executor is what one kind of action adds to the shared run of its jobs:
// how it reads the target an action names and how it acts on it once. T
// is its target, read and opened.
type Executor[T any] struct {
	// Kind is the action kind the executor runs.
	Kind action.Kind
	Words
	// Lookup reads the target registered as name for tenant t; false if
	// there is none (it was removed after the action was accepted).
	Lookup func(ctx context.Context, t tenant.ID, name string) (T, bool, error)
	// Batched, when set, reads the target in the round trip that reads the
	// action, by the target name the job carries; Lookup still serves jobs
	// queued without one.
	Batched *BatchedLookup[T]
	// Send acts on target once, for tenant t, on the given attempt, and
	// says what the answer means. An error means the request could not be
	// written for the target, which no retry mends: the action fails at
	// once with the error's text as its result.
	Send func(ctx context.Context, t tenant.ID, target T, a action.Action, attempt int) (Answer, error)
}

// BatchedLookup reads an executor's target in the same round trip as its
// action (action.Store.GetWith).
type BatchedLookup[T any] struct {
	// Queue adds the query that reads the target registered as name for
	// tenant t.
	Queue func(b *pgx.Batch, t tenant.ID, name string)
	// Read reads the query's result; false if there is no such target.
	Read func(br pgx.BatchResults) (T, bool, error)
}

// Worker is the River worker of every executor: each executor embeds it
// and adds only its Executor. Its Work loads the job's action, reads the
// target, sends once and records the outcome. A returned error makes River
// retry the job with its backoff until MaxAttempts; river.JobSnooze waits
// out a rate limit; river.JobCancel stops the job for good.
//
// River discards a job whose last attempt fails, so on that attempt every
// failure, a shutdown cancelling the run included, first records the
// action as failed: nothing else would ever move it out of pending.
type Worker[A Args, T any] struct {
	river.WorkerDefaults[A]

	// HTTP sends the executor's requests through the egress policy, with
	// one connection pool per tenant.
	HTTP *egress.Clients
	// HTTPTimeout bounds one request, connection to last header.
	HTTPTimeout time.Duration

	ex      Executor[T]
	log     *zap.Logger
	actions *action.Store
}

// NewWorker returns the Worker that runs ex's jobs: requests dial through
// policy (nil refuses every non-public address) and are bounded by
// timeout, and outcomes are recorded through actions.
func NewWorker[A Args, T any](ex Executor[T], log *zap.Logger, actions *action.Store, policy *egress.Policy, timeout time.Duration) *Worker[A, T] {
	return &Worker[A, T]{
		HTTP:        egress.NewClients(policy, timeout),
		HTTPTimeout: timeout,
		ex:          ex,
		log:         log,
		actions:     actions,
	}
}

// SetTransport replaces the worker's HTTP transport, so a test can answer
// for a receiver or act between its answer and the worker recording it.
func (w *Worker[A, T]) SetTransport(rt http.RoundTripper) { w.HTTP.SetTransport(rt) }

// Timeout lets a job run for the HTTP timeout plus the database work
// around it, rather than River's one-minute default, which a long
// executor timeout would exceed.
func (w *Worker[A, T]) Timeout(*river.Job[A]) time.Duration { return w.HTTPTimeout + jobSlack }

// Work runs one attempt of an action job.
func (w *Worker[A, T]) Work(ctx context.Context, j *river.Job[A]) error {
	ex := w.ex
	ref := struct{ Ref }(j.Args).Ref
	t, err := tenant.Parse(ref.Tenant)
	if err != nil {
		return river.JobCancel(fmt.Errorf("%s job %d: %w", ex.Kind, j.ID, err))
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: SystemSubject})
	log := w.log.With(zap.String("tenant_id", string(t)), zap.String("action_id", ref.ActionID),
		zap.Int("attempt", j.Attempt))
	at := Attempt{Ref: ref, JobID: j.ID, Number: j.Attempt, MaxAttempts: j.MaxAttempts}

	var (
		target    T
		found     bool
		lookupErr error
		queue     func(*pgx.Batch)
		read      func(pgx.BatchResults) error
	)
	batched := ex.Batched != nil && ref.Target != ""
	if batched {
		queue = func(b *pgx.Batch) { ex.Batched.Queue(b, t, ref.Target) }
		read = func(br pgx.BatchResults) error {
			target, found, lookupErr = ex.Batched.Read(br)
			return nil
		}
	}
	a, err := w.actions.GetWith(ctx, ref.ActionID, queue, read)
	if errors.Is(err, action.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("%s job %d: action %s: %w", ex.Kind, j.ID, ref.ActionID, err))
	}
	if err != nil {
		return Abandon(ctx, log, w.actions, at, "the action could not be loaded", err)
	}
	if a.Status != action.StatusPending {
		// A redelivery after the outcome was recorded (e.g. the process died
		// between commit and River marking the job done): acting again
		// would act twice.
		log.Info("action already finished; not acting again", zap.String("status", string(a.Status)))
		return nil
	}

	name := a.Target()
	if !batched || name != ref.Target {
		target, found, lookupErr = ex.Lookup(ctx, t, name)
	}
	if lookupErr != nil {
		return Abandon(ctx, log, w.actions, at, ex.Unreadable, lookupErr)
	}
	if !found {
		log.Warn(ex.Target+" not registered; action failed", zap.String("target", name))
		return FailForGood(ctx, log, w.actions, at, fmt.Sprintf("unknown %s %q", ex.Target, name))
	}
	ans, err := ex.Send(ctx, t, target, a, j.Attempt)
	if err != nil {
		return FailForGood(ctx, log, w.actions, at, err.Error())
	}
	result := ans.Result
	if ans.Verdict == Refused {
		// The target's address is outside what the tenant may reach;
		// retrying would only be refused again.
		log.Warn(ex.Target+" refused by the egress policy; action failed", zap.String("target", name), zap.String("result", result))
		return FailForGood(ctx, log, w.actions, at, result)
	}
	if ans.Verdict != Done && ctx.Err() != nil {
		// The job's own context ended (shutdown or job timeout); this is not
		// the receiver's failure, and River will run the job again unless
		// this was its last attempt.
		return Abandon(ctx, log, w.actions, at, "the "+ex.Noun+" was interrupted by a shutdown or the job timeout",
			fmt.Errorf("%s action %s: %w", ex.Verb, a.ID, context.Cause(ctx)))
	}

	switch ans.Verdict {
	case Rejected:
		log.Warn(ex.Target+" rejected the "+ex.Noun+"; action failed", zap.String("result", result))
		return FailForGood(ctx, log, w.actions, at, result)
	case RateLimited:
		if a.Attempts+1 >= j.MaxAttempts+maxRateLimitedRuns {
			log.Warn(ex.Target+" still rate limits; action failed", zap.String("result", result))
			return FailForGood(ctx, log, w.actions, at, result+"; gave up after "+strconv.Itoa(a.Attempts+1)+" runs")
		}
		result += "; retrying in " + ans.Wait.String()
	}

	o := action.Outcome{Status: action.StatusSucceeded, Result: result, Attempt: j.Attempt}
	switch {
	case ans.Verdict == RateLimited:
		o.Status = action.StatusPending
	case ans.Verdict == Retry && at.Last():
		o.Status = action.StatusFailed
	case ans.Verdict == Retry:
		o.Status = action.StatusPending
	}
	if err := Record(ctx, log, w.actions, at, o); err != nil {
		if errors.Is(err, action.ErrNotPending) {
			return nil
		}
		// The receiver may have been reached without the outcome being
		// recorded; the retry carries the same idempotency key so the
		// receiver can drop it.
		return err
	}
	switch o.Status {
	case action.StatusSucceeded:
		// Debug: at a thousand actions a second, successes would drown the
		// log; the action's record and its audit entry keep each one.
		log.Debug(ex.Noun+" succeeded", zap.String("result", result))
		return nil
	case action.StatusFailed:
		log.Warn(ex.Noun+" failed; giving up", zap.String("result", result))
	default:
		if ans.Verdict == RateLimited {
			log.Info(ex.Target+" rate limited; waiting", zap.Duration("retry_after", ans.Wait))
			return river.JobSnooze(ans.Wait)
		}
		log.Info(ex.Noun+" failed; River will retry", zap.String("result", result))
	}
	return fmt.Errorf("%s action %s: %s", ex.Verb, a.ID, result)
}
