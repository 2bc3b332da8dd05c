package incident

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/textlimit"
)

// The ticketing systems, as stored in tenant_triage_settings.ticket_system
// and incident_ticket_requests.system.
const (
	TicketJira       = "jira"
	TicketServiceNow = "servicenow"
)

// TicketState is where the orchestrator's request for an incident's
// ticket stands, as stored in incident_ticket_requests.state.
type TicketState string

// The ticket request states.
const (
	// TicketPending: queued in the decision's transaction; the action
	// plane has not answered yet.
	TicketPending TicketState = "pending"
	// TicketRequested: the action plane accepted the OPEN action.
	TicketRequested TicketState = "requested"
	// TicketRefused: the action plane refused it for good (no such
	// integration, say); the incident has no ticket.
	TicketRefused TicketState = "refused"
	// TicketFailed: every attempt to reach the action plane failed; the
	// incident has no ticket.
	TicketFailed TicketState = "failed"
)

// Live reports whether the incident may have a ticket to keep in step:
// one asked for, whatever the action plane makes of it.
func (s TicketState) Live() bool { return s == TicketPending || s == TicketRequested }

// TicketOpen asks for the incident's ticket with a decision stage: stored
// with the stage, and handed to the Store's Tickets in the same
// transaction, so the request is neither lost nor made twice.
type TicketOpen struct {
	// System is TicketJira or TicketServiceNow.
	System string
	// Title and Description are the ticket's.
	Title       string
	Description string
}

// Ticket is the orchestrator's record of an incident's ticket request.
type Ticket struct {
	IncidentID string
	System     string
	// Title and Description are the ticket's, as the decision asked.
	Title       string
	Description string
	State       TicketState
	// ActionID is the OPEN action's ID once the action plane accepted it.
	ActionID string
	// Error says why the request was refused or failed.
	Error string
}

// Tickets keeps incidents' tickets in step with them: the orchestrator's
// ticketsync, which queues each call to the action plane as a job. Both
// methods run inside the transaction that stores what they follow, so a
// call is queued exactly when that is stored; their error rolls it back.
type Tickets interface {
	// Open queues the opening of inc's ticket.
	Open(ctx context.Context, tx pgx.Tx, inc Incident, req TicketOpen) error
	// Follow queues what the transition tr of inc means for its ticket tk
	// (a state change, a comment, or nothing).
	Follow(ctx context.Context, tx pgx.Tx, inc Incident, tr Transition, tk Ticket) error
}

// WithTickets hands ticket requests and the transitions that concern an
// incident's ticket (status changes, answers, quality gate verdicts) to t.
// Without it, no ticket is asked for.
func WithTickets(t Tickets) Option { return func(s *Store) { s.tickets = t } }

// queueTicketOpen adds the insert of inc's ticket request to b; an
// incident whose ticket was asked for before keeps that request.
func queueTicketOpen(b *pgx.Batch, t tenant.ID, id string, req *TicketOpen) {
	b.Queue(`
		INSERT INTO incident_ticket_requests (tenant_id, incident_id, system, title, description) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, incident_id) DO NOTHING`, string(t), id, req.System, req.Title, req.Description)
}

// followTicket hands tr to the Store's Tickets when its incident has a
// live ticket request and the stage is one a ticket follows. The caller
// holds the incident's row lock.
func (s *Store) followTicket(ctx context.Context, tx pgx.Tx, t tenant.ID, inc Incident, tr Transition) error {
	if s.tickets == nil || !(statusStage(tr.Stage) || tr.Stage == StageAnswered || tr.Stage == StageQualityGate) {
		return nil
	}
	tk, found, err := ticketOf(ctx, tx, t, inc.ID)
	if err != nil || !found || !tk.State.Live() {
		return err
	}
	if err := s.tickets.Follow(ctx, tx, inc, tr, tk); err != nil {
		return fmt.Errorf("queue the ticket update of incident %s after %s: %w", inc.ID, tr.Stage, err)
	}
	return nil
}

func ticketOf(ctx context.Context, tx pgx.Tx, t tenant.ID, id string) (Ticket, bool, error) {
	tk := Ticket{IncidentID: id}
	var state string
	err := tx.QueryRow(ctx, `
		SELECT system, title, description, state, action_id, error FROM incident_ticket_requests
		WHERE tenant_id = $1 AND incident_id = $2`,
		string(t), id).Scan(&tk.System, &tk.Title, &tk.Description, &state, &tk.ActionID, &tk.Error)
	if errors.Is(err, pgx.ErrNoRows) {
		return Ticket{}, false, nil
	}
	if err != nil {
		return Ticket{}, false, fmt.Errorf("read the ticket request of incident %s: %w", id, err)
	}
	tk.State = TicketState(state)
	return tk, true, nil
}

// Ticket returns the ticket request of incident id; found is false when
// none was made (or the incident is not the tenant's).
func (s *Store) Ticket(ctx context.Context, id string) (tk Ticket, found bool, err error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Ticket{}, false, err
	}
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		tk, found, err = ticketOf(ctx, tx, t, id)
		return err
	})
	return tk, found, err
}

// maxTicketError caps the stored reason of a refused or failed request.
const maxTicketError = 2000

// SettleTicket records the action plane's answer to the ticket request of
// incident id: TicketRequested with the action's ID, or TicketRefused or
// TicketFailed with why. Only a pending request is settled, so a
// redelivered answer changes nothing; settled reports whether this call
// did it.
func (s *Store) SettleTicket(ctx context.Context, id string, state TicketState, actionID, reason string) (settled bool, err error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return false, err
	}
	if state == TicketPending || state == "" {
		return false, fmt.Errorf("settle the ticket request of incident %s: %q is not an answer", id, state)
	}
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE incident_ticket_requests SET state = $3, action_id = $4, error = $5, updated_at = now()
			WHERE tenant_id = $1 AND incident_id = $2 AND state = 'pending'`,
			string(t), id, string(state), actionID, textlimit.Truncate(reason, maxTicketError))
		if err != nil {
			return fmt.Errorf("settle the ticket request of incident %s: %w", id, err)
		}
		settled = tag.RowsAffected() == 1
		return nil
	})
	return settled, err
}

// Transition returns the transition seq of incident id; ErrNotFound when
// the tenant has no such incident or transition.
func (s *Store) Transition(ctx context.Context, id string, seq int64) (Transition, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Transition{}, err
	}
	var tr Transition
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		tr, err = scanTransition(tx.QueryRow(ctx, selectTransition+` WHERE tenant_id = $1 AND incident_id = $2 AND sequence = $3`,
			string(t), id, seq))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("transition %d of incident %s: %w", seq, id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read transition %d of incident %s: %w", seq, id, err)
		}
		return nil
	})
	return tr, err
}

// StatusChangedAfter reports whether incident id's status changed
// (resolved, acknowledged or reopened) after its transition seq: a ticket
// update for seq is then stale, as a later one carries the newer state.
func (s *Store) StatusChangedAfter(ctx context.Context, id string, seq int64) (bool, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return false, err
	}
	var later bool
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM incident_transitions
			               WHERE tenant_id = $1 AND incident_id = $2 AND sequence > $3
			                 AND stage IN ('resolved', 'acknowledged', 'reopened'))`,
			string(t), id, seq).Scan(&later)
		if err != nil {
			return fmt.Errorf("look for status changes of incident %s after %d: %w", id, seq, err)
		}
		return nil
	})
	return later, err
}
