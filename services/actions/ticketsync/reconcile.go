package ticketsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/services/actions/job"
	"github.com/alexus-platform/alexus/services/actions/ticketremote"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
)

// Queue is the River queue the reconcile runs on, apart from the
// executors' queues so that a busy kind cannot delay it.
const Queue = "ticket_reconcile"

// Args are the periodic reconcile job's arguments; it has none.
type Args struct{}

// Kind is the River job kind.
func (Args) Kind() string { return "alexus.actions.ticket_reconcile" }

// PeriodicJob returns the River periodic job that reconciles every
// interval. It does not run on start: a restarted plane need not read
// every open ticket at once.
func PeriodicJob(interval time.Duration) *river.PeriodicJob {
	return job.Periodic(Args{}, Queue, interval, false)
}

// Reconciler is the River worker of the periodic reconcile.
type Reconciler struct {
	river.WorkerDefaults[Args]
	syncer  *Syncer
	log     *zap.Logger
	timeout time.Duration
}

// NewReconciler returns the worker that runs s.Reconcile, each run bounded
// by timeout.
func NewReconciler(s *Syncer, log *zap.Logger, timeout time.Duration) *Reconciler {
	return &Reconciler{syncer: s, log: log, timeout: timeout}
}

// Timeout bounds one run; what it leaves is the next run's work.
func (r *Reconciler) Timeout(*river.Job[Args]) time.Duration { return r.timeout }

// Work runs one reconcile.
func (r *Reconciler) Work(ctx context.Context, _ *river.Job[Args]) error {
	n, err := r.syncer.Reconcile(ctx)
	if n > 0 {
		r.log.Info("reconciled tickets", zap.Int("tickets", n))
	}
	return err
}

// Reconcile compares a batch of every tenant's unsettled tickets with
// their remotes and returns how many it compared. A tenant or ticket
// that fails does not stop the others.
func (s *Syncer) Reconcile(ctx context.Context) (int, error) {
	tenants, err := s.tickets.UnsettledTenants(ctx)
	if err != nil {
		return 0, err
	}
	var (
		total int
		errs  []error
	)
	for _, t := range tenants {
		n, err := s.ReconcileTenant(tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: job.SystemSubject}))
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("reconcile the tickets of tenant %s: %w", t, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return total, errors.Join(errs...)
}

// ReconcileTenant compares up to a batch of the context's tenant's
// unsettled tickets, least recently synced first, with their remotes.
func (s *Syncer) ReconcileTenant(ctx context.Context) (int, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return 0, err
	}
	rows, err := s.tickets.Unsettled(ctx, s.batch)
	if err != nil {
		return 0, err
	}
	log := s.log.With(zap.String("tenant_id", string(t)))
	remotes := map[string]ticketremote.Remote{}
	var (
		n    int
		errs []error
	)
	for _, row := range rows {
		if ctx.Err() != nil {
			break
		}
		outcome, err := s.reconcile(ctx, t, remotes, row)
		if err != nil {
			log.Warn("could not reconcile ticket", zap.String("ticket", row.Number), zap.Error(err))
			errs = append(errs, fmt.Errorf("ticket %s: %w", row.Number, err))
			// Marked as visited all the same, so a ticket that keeps
			// failing (deleted at the remote end) goes to the back of the
			// line instead of holding up the others.
			if _, terr := s.tickets.Apply(ctx, row.ID, ticketstore.Change{}); terr != nil {
				errs = append(errs, terr)
			}
			continue
		}
		n++
		if outcome == ticketstore.Applied || outcome == ticketstore.LocalWon {
			log.Info("reconcile repaired a ticket", zap.String("ticket", row.Number), zap.String("outcome", outcome))
		}
	}
	return n, errors.Join(errs...)
}

// reconcile compares one ticket with its remote and settles it.
func (s *Syncer) reconcile(ctx context.Context, t tenant.ID, remotes map[string]ticketremote.Remote, row ticketstore.Ticket) (string, error) {
	remote, ok := remotes[row.System]
	if !ok {
		r, found, err := s.remotes.Open(ctx, provision.TicketSystem(row.System))
		if err != nil {
			return "", err
		}
		if !found {
			return "", fmt.Errorf("%w: the tenant has no %s integration", ErrNoIntegration, row.System)
		}
		remote, remotes[row.System] = r, r
	}
	got, err := remote.Get(ctx, row.RemoteKey)
	if err != nil {
		return "", err
	}
	seen := row.Seen(got.Status, got.State, got.Updated)
	if !got.State.Valid() {
		// As for a webhook: a status without an incident state moves
		// nothing, and is not overwritten either.
		_, err := s.tickets.Apply(ctx, row.ID, ticketstore.Change{Remote: &seen})
		return ticketstore.Unmapped, err
	}
	d := ticket.Decide(row.Local(), ticket.Change{State: seen.State, At: seen.At})
	// Agreement is the usual case, checked every interval: it is kept in
	// synced_at alone, not as an event or an audit entry each time.
	c := ticketstore.Change{Remote: &seen}
	ev := ticketstore.Event{Direction: ticketstore.Reconcile, RemoteStatus: got.Status, Reason: d.Reason}
	switch d.Winner {
	case ticket.Remote:
		if err := s.moveIncident(ctx, t, remote.System(), row, got.StatusLabel, d); err != nil {
			return "", err
		}
		ev.Outcome = ticketstore.Applied
		c.Local = &ticket.Change{State: d.State}
		c.Event, c.Audit = &ev, true
	case ticket.Local:
		written, moved, err := remote.SetState(ctx, row.RemoteKey, d.State, "")
		if err != nil {
			return "", fmt.Errorf("write %s to %s: %w", d.State, row.Number, err)
		}
		after := row.Seen(written.Status, written.State, written.Updated)
		if moved {
			after.At = written.Written.At
			c.Written = &written.Written
		}
		ev.Outcome, ev.RemoteStatus = ticketstore.LocalWon, written.Status
		c.Remote, c.Event, c.Audit = &after, &ev, true
	default:
		ev.Outcome = ticketstore.InSync
	}
	if _, err := s.tickets.Apply(ctx, row.ID, c); err != nil {
		return "", err
	}
	return ev.Outcome, nil
}
