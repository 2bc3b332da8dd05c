package sweep

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
)

// Queue is the River queue the sweep runs on, apart from the executors'
// queues so that a busy kind cannot delay it.
const Queue = "actions_sweep"

// Results the sweep records, by the state River left the job in.
const (
	ResultDiscarded = "the job was discarded by River after its last attempt without a recorded outcome"
	ResultCancelled = "the job was cancelled in River without a recorded outcome"
)

// Lookback is how far back the first sweep of a process looks: River's
// default retention of discarded jobs (cancelled ones are kept for a day),
// so every dead job River still holds is seen once.
const Lookback = 7 * 24 * time.Hour

// overlap is how far before its previous start a sweep looks again, so a
// job finalized in a transaction that committed after the previous sweep
// read is not missed.
const overlap = 5 * time.Minute

// batch bounds the jobs read per query.
const batch = 500

// Args are the periodic sweep job's arguments; it has none.
type Args struct{}

// Kind is the River job kind.
func (Args) Kind() string { return "alexus.actions.sweep" }

// PeriodicJob returns the River periodic job that sweeps every interval,
// and once when the client starts.
func PeriodicJob(interval time.Duration) *river.PeriodicJob {
	return job.Periodic(Args{}, Queue, interval, true)
}

// Sweeper records the dead actions of the given job kinds as failed.
type Sweeper struct {
	river.WorkerDefaults[Args]
	log     *zap.Logger
	db      *store.DB
	actions *action.Store
	kinds   []string

	mu    sync.Mutex
	since time.Time // where the next sweep starts; zero: Lookback
}

// NewSweeper returns a Sweeper for the jobs of kinds (River job kinds of
// the executors, e.g. webhook.Args{}.Kind()), reading River's jobs through
// db and recording outcomes through actions.
func NewSweeper(log *zap.Logger, db *store.DB, actions *action.Store, kinds ...string) *Sweeper {
	return &Sweeper{log: log, db: db, actions: actions, kinds: kinds}
}

// Work runs one sweep.
func (s *Sweeper) Work(ctx context.Context, _ *river.Job[Args]) error {
	n, err := s.Sweep(ctx)
	if n > 0 {
		s.log.Warn("recorded dead actions as failed", zap.Int("actions", n))
	}
	return err
}

// dead is a finalized job of an executor.
type dead struct {
	jobID    int64
	tenant   string
	actionID string
	state    string
	attempt  int
	final    time.Time
}

// Sweep records as failed every pending action whose job River discarded
// or cancelled since the previous sweep (Lookback on the first), and
// returns how many it recorded. An action that already has an outcome is
// left alone, so sweeping the same job twice does nothing.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var started time.Time
	if err := s.db.Pool().QueryRow(ctx, `SELECT now()`).Scan(&started); err != nil {
		return 0, fmt.Errorf("sweep dead actions: %w", err)
	}
	since := s.since
	if since.IsZero() {
		since = started.Add(-Lookback)
	}
	var (
		swept   int
		errs    []error
		afterAt = since
		afterID int64
	)
	for {
		jobs, err := s.read(ctx, afterAt, afterID)
		if err != nil {
			return swept, err
		}
		for _, d := range jobs {
			ok, err := s.fail(ctx, d)
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				swept++
			}
		}
		if len(jobs) < batch {
			break
		}
		last := jobs[len(jobs)-1]
		afterAt, afterID = last.final, last.jobID
	}
	if len(errs) == 0 {
		// A failure leaves the window where it was, to be tried again.
		s.since = started.Add(-overlap)
	}
	return swept, errors.Join(errs...)
}

// read returns up to batch discarded or cancelled jobs of the executors,
// finalized at or after afterAt (and after afterID at that instant), oldest
// first. River's tables have no row-level security: the tenant comes from
// the job's arguments, and the action is then read in that tenant's scope.
func (s *Sweeper) read(ctx context.Context, afterAt time.Time, afterID int64) ([]dead, error) {
	rows, err := s.db.Pool().Query(ctx, `
		SELECT id, coalesce(args->>'tenant_id', ''), coalesce(args->>'action_id', ''), state::text, attempt, finalized_at
		FROM river_job
		WHERE state IN ('discarded', 'cancelled') AND kind = ANY($1)
			AND (finalized_at, id) > ($2, $3)
		ORDER BY finalized_at, id
		LIMIT $4`, s.kinds, afterAt, afterID, batch)
	if err != nil {
		return nil, fmt.Errorf("read dead jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dead, error) {
		var d dead
		err := r.Scan(&d.jobID, &d.tenant, &d.actionID, &d.state, &d.attempt, &d.final)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("read dead jobs: %w", err)
	}
	return jobs, nil
}

// fail records d's action as failed if it is still pending, and reports
// whether it did.
func (s *Sweeper) fail(ctx context.Context, d dead) (bool, error) {
	t, err := tenant.Parse(d.tenant)
	if _, uerr := uuid.Parse(d.actionID); err != nil || uerr != nil {
		// Not an action's job (River cancels those itself); nothing to do.
		return false, nil
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: job.SystemSubject})
	result := ResultDiscarded
	if d.state == "cancelled" {
		result = ResultCancelled
	}
	// The attempt River was on when the job died counts as the run that
	// ended it.
	err = s.actions.Record(ctx, d.actionID, action.Outcome{Status: action.StatusFailed, Result: result, Attempt: d.attempt})
	switch {
	case errors.Is(err, action.ErrNotPending):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("record dead action %s of tenant %s: %w", d.actionID, t, err)
	}
	s.log.Warn("action's job ended without an outcome; action failed",
		zap.String("tenant_id", string(t)), zap.String("action_id", d.actionID), zap.Int64("job_id", d.jobID),
		zap.String("job_state", d.state), zap.Int("attempt", d.attempt))
	return true, nil
}
