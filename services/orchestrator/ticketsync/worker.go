package ticketsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/textlimit"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
	"github.com/alexus-platform/alexus/services/orchestrator/pipeline"
)

// callTimeout bounds one ExecuteAction call; the action plane only records
// the action and queues its job, so it answers quickly when it is up.
const callTimeout = 15 * time.Second

// The bounds of how long a state change or comment waits for its ticket's
// OPEN to be answered before it looks again: half the job's age, so a call
// that waits for an action plane down for hours does not poll it every few
// seconds.
const (
	minOpenWait = 2 * time.Second
	maxOpenWait = 5 * time.Minute
)

// giveUpOpenWait is how long a state change or comment waits for its
// ticket's OPEN at most: well past the OPEN's own retries (about seven
// hours), for an OPEN whose job ended without recording an answer (its
// process died on the last attempt, say).
const giveUpOpenWait = 24 * time.Hour

// WorkerDeps are what the worker reads and calls.
type WorkerDeps struct {
	// Store holds the incidents and their ticket requests.
	Store *incident.Store
	// Actions is the action plane.
	Actions actionsv1.ActionServiceClient
	// Log receives the worker's logs; nil discards them.
	Log *zap.Logger
}

// Worker makes one ticket call per job.
type Worker struct {
	river.WorkerDefaults[Args]
	d WorkerDeps
}

// NewWorker returns a Worker over d.
func NewWorker(d WorkerDeps) *Worker {
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	return &Worker{d: d}
}

// Work makes the job's call for the job's tenant, under the pipeline's
// identity. An OPEN records the action plane's answer on the incident's
// ticket request: the action, a refusal (final), or, on the last attempt,
// the failure. A state change or comment is made only for a ticket whose
// request is pending (it then waits for the answer) or accepted, and a
// state change only while no later status change superseded it. A refused
// state change or comment is cancelled; any other failure is returned, and
// River retries it with backoff.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	a := job.Args
	t, err := tenant.Parse(a.Tenant)
	if err != nil {
		return river.JobCancel(fmt.Errorf("ticket job %d: %w", job.ID, err))
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: pipeline.SystemSubject})
	log := w.d.Log.With(zap.String("tenant_id", string(t)), zap.String("incident_id", a.IncidentID),
		zap.String("operation", a.Operation), zap.Int64("job_id", job.ID), zap.Int("attempt", job.Attempt))

	tk, found, err := w.d.Store.Ticket(ctx, a.IncidentID)
	if err != nil {
		return fmt.Errorf("read the ticket request of incident %s: %w", a.IncidentID, err)
	}
	if !found {
		log.Info("incident gone; ticket call dropped")
		return river.JobCancel(fmt.Errorf("ticket job %d: incident %s has no ticket request", job.ID, a.IncidentID))
	}
	if a.Operation == OpOpen {
		return w.open(ctx, log, job, tk)
	}
	if a.Operation != OpComment && a.Operation != OpSetState {
		return river.JobCancel(fmt.Errorf("ticket job %d: unknown operation %q", job.ID, a.Operation))
	}
	switch tk.State {
	case incident.TicketPending:
		if time.Since(job.CreatedAt) > giveUpOpenWait {
			log.Warn("the ticket's OPEN was never answered; update dropped")
			return nil
		}
		wait := min(max(time.Since(job.CreatedAt)/2, minOpenWait), maxOpenWait)
		log.Debug("the ticket's OPEN is not answered yet; waiting", zap.Duration("wait", wait))
		return river.JobSnooze(wait)
	case incident.TicketRefused, incident.TicketFailed:
		log.Debug("the incident has no ticket; nothing to update", zap.String("ticket_state", string(tk.State)))
		return nil
	}
	if a.Operation == OpSetState {
		later, err := w.d.Store.StatusChangedAfter(ctx, a.IncidentID, a.Sequence)
		if err != nil {
			return err
		}
		if later {
			log.Debug("a later status change supersedes this one; not sent")
			return nil
		}
	}
	tr, err := w.d.Store.Transition(ctx, a.IncidentID, a.Sequence)
	if errors.Is(err, incident.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("ticket job %d: %w", job.ID, err))
	}
	if err != nil {
		return err
	}
	c, ok := followCall(a.IncidentID, tr)
	if !ok || c.key != a.Key {
		return river.JobCancel(fmt.Errorf("ticket job %d: transition %d of incident %s makes no call %s", job.ID, a.Sequence, a.IncidentID, a.Key))
	}
	resp, err := w.call(ctx, a.IncidentID, tk.System, c)
	if refused(err) {
		log.Warn("the action plane refused the ticket update", zap.String("error", status.Convert(err).Message()))
		return river.JobCancel(fmt.Errorf("ticket job %d: %w", job.ID, err))
	}
	if err != nil {
		return fmt.Errorf("ticket %s of incident %s: %w", a.Operation, a.IncidentID, err)
	}
	log.Info("ticket update handed to the action plane", zap.String("action_id", resp.GetAction().GetId()),
		zap.Bool("replayed", resp.GetReplayed()))
	return nil
}

// open asks for the ticket, unless its request was answered already (a
// redelivered job), and records the answer.
func (w *Worker) open(ctx context.Context, log *zap.Logger, job *river.Job[Args], tk incident.Ticket) error {
	a := job.Args
	if tk.State != incident.TicketPending {
		return nil
	}
	resp, err := w.call(ctx, a.IncidentID, tk.System, openCall(tk))
	switch {
	case refused(err):
		st := status.Convert(err)
		msg := st.Message()
		if _, err := w.d.Store.SettleTicket(ctx, a.IncidentID, incident.TicketRefused, "", st.Code().String()+": "+msg); err != nil {
			return err
		}
		log.Warn("the action plane refused the ticket; the incident has none", zap.String("system", tk.System), zap.String("error", msg))
		return nil
	case err != nil && job.Attempt >= job.MaxAttempts:
		if _, serr := w.d.Store.SettleTicket(ctx, a.IncidentID, incident.TicketFailed, "", err.Error()); serr != nil {
			return serr
		}
		log.Error("the ticket could not be opened; giving up", zap.String("system", tk.System), zap.Error(err))
		return fmt.Errorf("open the ticket of incident %s: %w", a.IncidentID, err)
	case err != nil:
		return fmt.Errorf("open the ticket of incident %s: %w", a.IncidentID, err)
	}
	action := resp.GetAction()
	if _, err := w.d.Store.SettleTicket(ctx, a.IncidentID, incident.TicketRequested, action.GetId(), ""); err != nil {
		return err
	}
	log.Info("ticket handed to the action plane", zap.String("system", tk.System), zap.String("action_id", action.GetId()),
		zap.Bool("replayed", resp.GetReplayed()))
	return nil
}

// call asks the action plane for c on incident id's ticket in system.
func (w *Worker) call(ctx context.Context, id, system string, c call) (*actionsv1.ExecuteActionResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return w.d.Actions.ExecuteAction(ctx, request(id, system, c))
}

// request is the ExecuteAction request of c on incident id's ticket in
// system.
func request(id, system string, c call) *actionsv1.ExecuteActionRequest {
	kind := actionsv1.ActionKind_ACTION_KIND_JIRA
	if system == incident.TicketServiceNow {
		kind = actionsv1.ActionKind_ACTION_KIND_SERVICENOW
	}
	p := &actionsv1.TicketParams{
		Title:       c.title,
		Description: c.description,
		NoteId:      c.noteID,
		Text:        c.text,
	}
	switch c.operation {
	case OpOpen:
		p.Operation = actionsv1.TicketOperation_TICKET_OPERATION_OPEN
	case OpComment:
		p.Operation = actionsv1.TicketOperation_TICKET_OPERATION_COMMENT
	case OpSetState:
		p.Operation = actionsv1.TicketOperation_TICKET_OPERATION_SET_STATE
		p.State = map[string]actionsv1.TicketState{
			"open":         actionsv1.TicketState_TICKET_STATE_OPEN,
			"acknowledged": actionsv1.TicketState_TICKET_STATE_ACKNOWLEDGED,
			"resolved":     actionsv1.TicketState_TICKET_STATE_RESOLVED,
		}[c.state]
	}
	return &actionsv1.ExecuteActionRequest{
		IdempotencyKey: c.key,
		IncidentId:     id,
		Kind:           kind,
		Reason:         textlimit.Truncate(c.reason, 1000),
		Params:         &actionsv1.ExecuteActionRequest_Ticket{Ticket: p},
	}
}

// refused reports an answer no retry changes: the action plane refused the
// request (INVALID_ARGUMENT), or the tenant lacks what it needs, such as a
// ticket integration of that system (FAILED_PRECONDITION).
func refused(err error) bool {
	c := status.Code(err)
	return err != nil && (c == codes.InvalidArgument || c == codes.FailedPrecondition)
}
