package ticketsync

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/alexus-platform/alexus/internal/riverstop"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/textlimit"
	"github.com/alexus-platform/alexus/services/orchestrator/incident"
)

// Queue is the River queue ticket jobs run on.
const Queue = "ticket_sync"

// workers is how many ticket calls this replica makes at once. Each holds
// no database connection while it waits for the action plane, which only
// records the action and queues its own job.
const workers = 8

// maxAttempts bounds the retries of a call the action plane keeps failing
// (unreachable, say): River's backoff spreads ten attempts over about seven
// hours.
const maxAttempts = 10

// stopTimeout is how long Stop waits for calls in flight before cancelling
// them; a cancelled call runs again later.
const stopTimeout = 10 * time.Second

// The operations, as Args.Operation (TicketOperation's names in lower
// case).
const (
	OpOpen     = "open"
	OpComment  = "comment"
	OpSetState = "set_state"
)

// Args are a ticket job's arguments: one call to the action plane, by
// reference. What the call says (the ticket's title and description, a
// comment's text, the state) is read when it runs, from the incident's
// ticket request and the transition it follows, which are under the
// tenant's row-level security; River's tables are shared. The tenant and
// idempotency key make a job unique.
type Args struct {
	// Tenant is the incident's tenant; the worker acts for it.
	Tenant string `json:"tenant_id" river:"unique"`
	// Key is the action's idempotency key at the action plane; it names
	// the incident and what the call follows.
	Key string `json:"key" river:"unique"`
	// IncidentID is the incident.
	IncidentID string `json:"incident_id"`
	// Operation is OpOpen, OpComment or OpSetState.
	Operation string `json:"operation"`
	// Sequence is the transition a comment or state change follows.
	Sequence int64 `json:"sequence,omitempty"`
}

// call is what one ticket call says.
type call struct {
	operation string
	key       string
	// state is a state change's: open, acknowledged or resolved.
	state string
	// noteID makes a comment idempotent at the remote end.
	noteID string
	// title and description are an OPEN's ticket.
	title, description string
	// text is a comment's text or a resolution's note.
	text string
	// reason is why, for the action plane's audit log.
	reason string
}

// Kind is the River job kind.
func (Args) Kind() string { return "alexus.orchestrator.ticket" }

// Sync queues ticket calls and works them with its own River client on the
// plane's pool, on its own queue. It implements incident.Tickets.
type Sync struct {
	client *river.Client[pgx.Tx]
	log    *zap.Logger
}

var _ incident.Tickets = (*Sync)(nil)

// New builds the River client around w; nothing runs until Start.
func New(db *store.DB, w *Worker, log *zap.Logger) (*Sync, error) {
	ws := river.NewWorkers()
	if err := river.AddWorkerSafely(ws, w); err != nil {
		return nil, fmt.Errorf("register ticket worker: %w", err)
	}
	client, err := river.NewClient(riverpgxv5.New(db.Pool()), &river.Config{
		Logger:      slog.New(zapslog.NewHandler(log.Named("river").Core(), zapslog.WithName("river"))),
		MaxAttempts: maxAttempts,
		Queues:      map[string]river.QueueConfig{Queue: {MaxWorkers: workers}},
		Workers:     ws,
	})
	if err != nil {
		return nil, fmt.Errorf("build ticket river client: %w", err)
	}
	return &Sync{client: client, log: log}, nil
}

// Open implements incident.Tickets: it queues the OPEN of inc's ticket.
// The ticket's title and description are read from its request, which the
// Store recorded, when the job runs.
func (s *Sync) Open(ctx context.Context, tx pgx.Tx, inc incident.Incident, _ incident.TicketOpen) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	return s.insert(ctx, tx, Args{Tenant: string(t), Key: openKey(inc.ID), IncidentID: inc.ID, Operation: OpOpen})
}

func openKey(id string) string { return "incident/" + id + "/ticket/open" }

// openCall is the OPEN of the ticket tk asks for.
func openCall(tk incident.Ticket) call {
	return call{operation: OpOpen, key: openKey(tk.IncidentID), title: tk.Title, description: tk.Description,
		reason: "open the incident's ticket"}
}

// Follow implements incident.Tickets: it queues what tr means for inc's
// ticket, if anything (see followCall).
func (s *Sync) Follow(ctx context.Context, tx pgx.Tx, inc incident.Incident, tr incident.Transition, _ incident.Ticket) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	c, ok := followCall(inc.ID, tr)
	if !ok {
		return nil
	}
	return s.insert(ctx, tx, Args{Tenant: string(t), Key: c.key, IncidentID: inc.ID, Operation: c.operation, Sequence: tr.Sequence})
}

func (s *Sync) insert(ctx context.Context, tx pgx.Tx, a Args) error {
	_, err := s.client.InsertTx(ctx, tx, a, &river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: maxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return fmt.Errorf("queue the ticket %s of incident %s: %w", a.Operation, a.IncidentID, err)
	}
	return nil
}

// followCall is the call the transition tr of incident id makes when the
// incident has a ticket: a state change for a status change (unless the
// ticket made it), a comment for an answer to the pipeline's question and
// for a quality gate that failed; ok is false for anything else.
func followCall(id string, tr incident.Transition) (c call, ok bool) {
	seq := strconv.FormatInt(tr.Sequence, 10)
	switch tr.Stage {
	case incident.StageResolved, incident.StageAcknowledged, incident.StageReopened:
		if FromTicket(tr.Details[incident.DetailSource]) {
			return call{}, false
		}
		c.operation, c.key = OpSetState, "incident/"+id+"/ticket/state/"+seq
		c.state = map[incident.Stage]string{
			incident.StageResolved:     "resolved",
			incident.StageAcknowledged: "acknowledged",
			incident.StageReopened:     "open",
		}[tr.Stage]
		if tr.Stage == incident.StageResolved {
			c.text = tr.Summary
		}
		c.reason = "keep the ticket in step: " + tr.Summary
	case incident.StageAnswered:
		c.operation, c.noteID = OpComment, "answered-"+seq
		d := tr.Details
		c.text = fmt.Sprintf("%s answered the question Alexus asked: %q.\nDecision: %s. %s",
			cmp.Or(d["answered_by"], "A person"), d["answer"], cmp.Or(d["decision"], "unknown"), d["reason"])
		c.reason = "comment on the ticket: a person answered"
	case incident.StageQualityGate:
		if tr.Details["resolution"] != string(incident.QualityIneffective) {
			return call{}, false
		}
		c.operation, c.noteID = OpComment, "quality-gate-"+seq
		c.text = cmp.Or(tr.Details["reason"], tr.Summary)
		if route := tr.Details["route"]; route != "" {
			c.text += "\nEscalated to " + route + "."
		}
		c.reason = "comment on the ticket: the resolution did not hold"
	default:
		return call{}, false
	}
	if c.operation == OpComment {
		c.key = "incident/" + id + "/ticket/comment/" + c.noteID
	}
	c.text = textlimit.Truncate(strings.TrimSpace(c.text), maxText)
	return c, true
}

// maxText is the action plane's limit on a ticket action's text.
const maxText = 30000

// FromTicket reports whether source, a SetIncidentStatus source such as
// "jira:OPS-42", names a ticket: a change the ticket made is not written
// back to it.
func FromTicket(source string) bool {
	system, _, ok := strings.Cut(source, ":")
	return ok && (system == incident.TicketJira || system == incident.TicketServiceNow)
}

// Start starts working ticket jobs. River gets a context that outlives
// ctx: cancelling the one given to Start is River's hard stop; Stop stops
// it gracefully instead.
func (s *Sync) Start(ctx context.Context) error {
	if err := s.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start ticket river client: %w", err)
	}
	return nil
}

// Stop stops fetching ticket jobs and waits for those in flight; after a
// while it cancels them, and River runs them again later.
func (s *Sync) Stop() error {
	return riverstop.Stop(s.client, stopTimeout, s.log, "ticket calls")
}
