package ticketjob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
	"github.com/alexus-platform/alexus/services/actions/ticketremote"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
)

// DefaultOpenWait is how long a job that finds no ticket waits before it
// looks again, while the incident's OPEN is pending.
const DefaultOpenWait = 5 * time.Second

// jobSlack is how much longer than its remote calls a job may run, for
// the database work around them.
const jobSlack = 30 * time.Second

// callsPerRun bounds the remote calls one run makes, each with its own
// retries: a SET_STATE reads the ticket, reads the transitions on offer,
// transitions and reads the ticket back; an OPEN searches, creates and
// searches again after a lost response.
const callsPerRun = 4

// WorkerConfig configures a worker.
type WorkerConfig struct {
	// Remotes opens the tenants' integrations; its options bound each
	// remote call.
	Remotes *ticketremote.Opener
	// Tickets records the tickets and their sync events.
	Tickets *ticketstore.Store
	// OpenWait is how long a SET_STATE or COMMENT that finds no ticket
	// waits for the pending OPEN before it looks again (default
	// DefaultOpenWait).
	OpenWait time.Duration
}

// Worker executes the actions of one ticket kind.
type Worker[A job.Args] struct {
	river.WorkerDefaults[A]
	kind    action.Kind
	system  provision.TicketSystem
	cfg     WorkerConfig
	log     *zap.Logger
	actions *action.Store
	timeout time.Duration
}

// NewJiraWorker returns the worker of jira actions, recording their
// outcomes through actions.
func NewJiraWorker(cfg WorkerConfig, log *zap.Logger, actions *action.Store) *Worker[JiraArgs] {
	return newWorker[JiraArgs](action.KindJira, provision.TicketJira, cfg, log, actions)
}

// NewServiceNowWorker returns the worker of servicenow actions,
// recording their outcomes through actions.
func NewServiceNowWorker(cfg WorkerConfig, log *zap.Logger, actions *action.Store) *Worker[ServiceNowArgs] {
	return newWorker[ServiceNowArgs](action.KindServiceNow, provision.TicketServiceNow, cfg, log, actions)
}

func newWorker[A job.Args](kind action.Kind, system provision.TicketSystem, cfg WorkerConfig, log *zap.Logger, actions *action.Store) *Worker[A] {
	if cfg.OpenWait <= 0 {
		cfg.OpenWait = DefaultOpenWait
	}
	return &Worker[A]{
		kind: kind, system: system, cfg: cfg, log: log, actions: actions,
		timeout: callsPerRun*CallBudget(cfg.Remotes.Options()) + jobSlack,
	}
}

// CallBudget is the longest one remote call may take with opts: every
// attempt timing out, and the longest wait between each.
func CallBudget(opts ticketapi.Options) time.Duration {
	o := opts.WithDefaults()
	return time.Duration(o.MaxRetries+1)*o.Timeout + time.Duration(o.MaxRetries)*max(o.MaxBackoff, o.MaxRetryAfter)
}

// Timeout lets a job run for its remote calls' retries plus the database
// work around them, rather than River's one-minute default.
func (w *Worker[A]) Timeout(*river.Job[A]) time.Duration { return w.timeout }

// outcome is what one run came to when nothing failed.
type outcome struct {
	// result is the text the tenant reads.
	result string
	// wait, when set, snoozes the job: the ticket is not there yet.
	wait time.Duration
}

// remoteError is a failure of the remote call, as opposed to the
// store's.
type remoteError struct{ err error }

func (e *remoteError) Error() string { return e.err.Error() }
func (e *remoteError) Unwrap() error { return e.err }

// Work runs one attempt of a ticket action.
func (w *Worker[A]) Work(ctx context.Context, j *river.Job[A]) error {
	ref := struct{ job.Ref }(j.Args).Ref
	t, err := tenant.Parse(ref.Tenant)
	if err != nil {
		return river.JobCancel(fmt.Errorf("%s job %d: %w", w.kind, j.ID, err))
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: job.SystemSubject})
	log := w.log.With(zap.String("tenant_id", string(t)), zap.String("action_id", ref.ActionID), zap.Int("attempt", j.Attempt))
	at := job.Attempt{Ref: ref, JobID: j.ID, Number: j.Attempt, MaxAttempts: j.MaxAttempts}

	a, err := w.actions.Get(ctx, ref.ActionID)
	if errors.Is(err, action.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("%s job %d: action %s: %w", w.kind, j.ID, ref.ActionID, err))
	}
	if err != nil {
		return job.Abandon(ctx, log, w.actions, at, "the action could not be loaded", err)
	}
	if a.Status != action.StatusPending {
		// A redelivery after the outcome was recorded: acting again would
		// comment twice or undo a later move.
		log.Info("action already finished; not acting again", zap.String("status", string(a.Status)))
		return nil
	}
	log = log.With(zap.String("operation", string(a.Ticket.Operation)), zap.String("incident_id", a.IncidentID))

	remote, found, err := w.cfg.Remotes.Open(ctx, w.system)
	if err != nil {
		return job.Abandon(ctx, log, w.actions, at, fmt.Sprintf("the %s integration could not be read", w.system), err)
	}
	if !found {
		log.Warn("no integration; action failed")
		return job.FailForGood(ctx, log, w.actions, at, fmt.Sprintf("the tenant has no %s integration", w.system))
	}

	out, err := w.run(ctx, remote, a)
	if err != nil {
		return w.fail(ctx, log, at, a, err)
	}
	if out.wait > 0 {
		log.Info("no ticket yet; waiting for the pending open", zap.Duration("wait", out.wait))
		return river.JobSnooze(out.wait)
	}
	o := action.Outcome{Status: action.StatusSucceeded, Result: out.result, Attempt: j.Attempt}
	if err := job.Record(ctx, log, w.actions, at, o); err != nil {
		if errors.Is(err, action.ErrNotPending) {
			return nil
		}
		// The remote write is safe to repeat, so River's retry mends it.
		return err
	}
	log.Info("ticket action succeeded", zap.String("result", out.result))
	return nil
}

// fail records what err means for the action and returns what River
// should do with the job.
func (w *Worker[A]) fail(ctx context.Context, log *zap.Logger, at job.Attempt, a action.Action, err error) error {
	var re *remoteError
	if !errors.As(err, &re) {
		// The store failed around a remote call that is safe to repeat.
		return job.Abandon(ctx, log, w.actions, at, "the ticket could not be recorded", err)
	}
	if ctx.Err() != nil {
		return job.Abandon(ctx, log, w.actions, at, fmt.Sprintf("the call to %s was interrupted by a shutdown or the job timeout", w.system),
			fmt.Errorf("%s action %s: %w", w.kind, a.ID, err))
	}
	result := describe(re.err)
	if permanent(re.err) {
		log.Warn("the remote refused the ticket action; action failed", zap.String("result", result))
		return job.FailForGood(ctx, log, w.actions, at, result)
	}
	o := action.Outcome{Status: action.StatusPending, Result: result, Attempt: at.Number}
	if at.Last() {
		o.Status = action.StatusFailed
	}
	if err := job.Record(ctx, log, w.actions, at, o); err != nil {
		if errors.Is(err, action.ErrNotPending) {
			return nil
		}
		return err
	}
	if o.Status == action.StatusFailed {
		log.Warn("ticket action failed; giving up", zap.String("result", result))
	} else {
		log.Info("ticket action failed; River will retry", zap.String("result", result))
	}
	return fmt.Errorf("%s action %s: %s", w.kind, a.ID, result)
}

// permanent reports whether a remote failure would only recur on a retry.
func permanent(err error) bool {
	var refused *egress.RefusedError
	switch {
	case errors.As(err, &refused), errors.Is(err, errUnknownOperation):
		return true
	case errors.Is(err, ticket.ErrRateLimited), errors.Is(err, ticket.ErrTimeout):
		return false
	case errors.Is(err, ticket.ErrUnauthorized), errors.Is(err, ticket.ErrForbidden), errors.Is(err, ticket.ErrNotFound),
		errors.Is(err, ticket.ErrBadResponse), errors.Is(err, jira.ErrNoTransition):
		return true
	}
	var apiErr *ticket.APIError
	if errors.As(err, &apiErr) {
		// Any other 4xx (Jira's 400 for a field the project refuses, a
		// ServiceNow data policy) is refused again; 408 and 5xx are the
		// remote's trouble.
		return apiErr.StatusCode != http.StatusRequestTimeout && apiErr.StatusCode < 500
	}
	// A connection that failed or broke.
	return false
}

// describe is a remote failure as the tenant reads it: the client's error
// names the system, the call and the remote's own message, never the
// credential.
func describe(err error) string {
	var refused *egress.RefusedError
	if errors.As(err, &refused) {
		return refused.Error()
	}
	return job.Clip(err.Error())
}

var errUnknownOperation = errors.New("unknown ticket operation")

// run performs the action's operation once.
func (w *Worker[A]) run(ctx context.Context, remote ticketremote.Remote, a action.Action) (outcome, error) {
	switch a.Ticket.Operation {
	case action.TicketOpen:
		return w.open(ctx, remote, a)
	case action.TicketComment:
		return w.comment(ctx, remote, a)
	case action.TicketSetState:
		return w.setState(ctx, remote, a)
	}
	return outcome{}, &remoteError{fmt.Errorf("%w %q", errUnknownOperation, a.Ticket.Operation)}
}

// Hash is the incident hash of the incident with id, the input of its
// ticket's marker (ticket.Marker): the UUID's hex digits.
func Hash(incidentID string) string { return strings.ReplaceAll(strings.ToLower(incidentID), "-", "") }

func (w *Worker[A]) open(ctx context.Context, remote ticketremote.Remote, a action.Action) (outcome, error) {
	p := a.Ticket
	tk, created, err := remote.Open(ctx, ticketremote.NewTicket{Hash: Hash(a.IncidentID), Title: p.Title, Description: p.Description})
	if err != nil {
		return outcome{}, &remoteError{err}
	}
	result := "opened " + tk.Number
	if !created {
		result = "found " + tk.Number + ", opened before"
	}
	_, err = w.cfg.Tickets.Open(ctx, ticketstore.Opened{
		IncidentID: a.IncidentID,
		System:     string(w.system),
		RemoteKey:  tk.Key,
		Number:     tk.Number,
		URL:        tk.URL,
		Marker:     tk.Marker,
		Remote:     ticketstore.Remote{Status: tk.Status, State: tk.State, At: tk.Updated},
		Written:    tk.Written,
		Reason:     result,
	})
	if err != nil {
		return outcome{}, err
	}
	return outcome{result: result}, nil
}

// ticketOf returns the incident's ticket or, when there is none, the
// outcome to end the run with: wait while an OPEN is pending, else
// succeed without writing.
func (w *Worker[A]) ticketOf(ctx context.Context, a action.Action) (ticketstore.Ticket, *outcome, error) {
	tk, found, err := w.cfg.Tickets.ForIncident(ctx, a.IncidentID, string(w.system))
	if err != nil || found {
		return tk, nil, err
	}
	pending, err := w.actions.TicketOpPending(ctx, a.Kind, a.IncidentID, action.TicketOpen, a.ID)
	if err != nil {
		return tk, nil, err
	}
	if pending {
		return tk, &outcome{wait: w.cfg.OpenWait}, nil
	}
	return tk, &outcome{result: "no ticket for this incident"}, nil
}

func (w *Worker[A]) comment(ctx context.Context, remote ticketremote.Remote, a action.Action) (outcome, error) {
	row, done, err := w.ticketOf(ctx, a)
	if err != nil || done != nil {
		return deref(done), err
	}
	added, err := remote.Comment(ctx, row.RemoteKey, a.Ticket.NoteID, a.Ticket.Text)
	if err != nil {
		return outcome{}, &remoteError{err}
	}
	if !added {
		return outcome{result: row.Number + " already has note " + a.Ticket.NoteID}, nil
	}
	return outcome{result: "commented on " + row.Number}, nil
}

func (w *Worker[A]) setState(ctx context.Context, remote ticketremote.Remote, a action.Action) (outcome, error) {
	row, done, err := w.ticketOf(ctx, a)
	if err != nil || done != nil {
		return deref(done), err
	}
	want := a.Ticket.State
	if row.LocalState != want && row.LocalChangedAt.After(a.CreatedAt) {
		// The incident moved on after this action was requested (a later
		// SET_STATE ran first, or the ticket moved it): writing the older
		// state would undo that.
		return outcome{result: fmt.Sprintf("skipped: the incident became %s after this action was requested", row.LocalState)}, nil
	}
	tk, moved, err := remote.SetState(ctx, row.RemoteKey, want, a.Ticket.Text)
	if err != nil {
		return outcome{}, &remoteError{err}
	}
	label := tk.StatusLabel
	if label == "" {
		label = string(want)
	}
	c := ticketstore.Change{Local: &ticket.Change{State: want, At: a.CreatedAt}}
	var result string
	if moved {
		result = "moved " + row.Number + " to " + label
		seen := ticketstore.Remote{Status: tk.Status, State: tk.State, At: tk.Written.At}
		c.Remote, c.Written = &seen, &tk.Written
		c.Event = &ticketstore.Event{Direction: ticketstore.Outbound, Outcome: ticketstore.Written, RemoteStatus: tk.Status, Reason: result}
	} else {
		result = row.Number + " already in " + label
		seen := row.Seen(tk.Status, tk.State, tk.Updated)
		c.Remote = &seen
		c.Event = &ticketstore.Event{Direction: ticketstore.Outbound, Outcome: ticketstore.InSync, RemoteStatus: tk.Status, Reason: result}
	}
	if _, err := w.cfg.Tickets.Apply(ctx, row.ID, c); err != nil {
		return outcome{}, err
	}
	return outcome{result: result}, nil
}

func deref(o *outcome) outcome {
	if o == nil {
		return outcome{}
	}
	return *o
}
