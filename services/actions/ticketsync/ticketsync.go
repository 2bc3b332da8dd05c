package ticketsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"go.uber.org/zap"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
	"github.com/alexus-platform/alexus/services/actions/ticketremote"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
)

// Errors a caller can act on.
var (
	// ErrNoIntegration: the tenant has no integration with the system the
	// change came from.
	ErrNoIntegration = errors.New("no ticket integration")
	// ErrNoOrchestrator: the ticket wins and the incident must move, but
	// the plane has no orchestrator to move it with; the sender should
	// retry.
	ErrNoOrchestrator = errors.New("no orchestrator to move the incident")
)

// ErrBadPayload: the body is not an event of the system; nothing was
// stored.
var ErrBadPayload = ticketremote.ErrBadPayload

// Result is what one inbound change did.
type Result struct {
	// Outcome is one of ticketstore's outcomes.
	Outcome string
	// IncidentID is the ticket's incident; empty for UnknownTicket.
	IncidentID string
	// Key is the ticket's number (Jira issue key, ServiceNow number).
	Key string
	// Reason says which rule decided, in words.
	Reason string
}

// Syncer settles changes between incidents and their tickets.
type Syncer struct {
	log     *zap.Logger
	remotes *ticketremote.Opener
	tickets *ticketstore.Store
	actions *action.Store
	orch    orchestratorv1.OrchestratorServiceClient
	// batch bounds the tickets of one tenant a reconcile run reads.
	batch int
}

// DefaultBatch is how many of a tenant's tickets one reconcile run reads
// at most.
const DefaultBatch = 100

// New returns a Syncer that opens remotes with remotes, records tickets
// in tickets, writes incidents' states back through SET_STATE actions
// recorded in actions, and moves incidents through orch; a nil orch makes
// every change that must move an incident fail with ErrNoOrchestrator.
func New(log *zap.Logger, remotes *ticketremote.Opener, tickets *ticketstore.Store, actions *action.Store, orch orchestratorv1.OrchestratorServiceClient) *Syncer {
	return &Syncer{log: log, remotes: remotes, tickets: tickets, actions: actions, orch: orch, batch: DefaultBatch}
}

// Receive settles one inbound change from system, its raw body as the
// gateway received it, for the context's tenant; see the package
// documentation. A body that cannot be read is ErrBadPayload and stores
// nothing.
func (s *Syncer) Receive(ctx context.Context, system provision.TicketSystem, payload []byte) (Result, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Result{}, err
	}
	remote, found, err := s.remotes.Open(ctx, system)
	if err != nil {
		return Result{}, err
	}
	if !found {
		return Result{}, fmt.Errorf("%w: the tenant has no %s integration", ErrNoIntegration, system)
	}
	u, err := remote.Parse(payload)
	if errors.Is(err, ticketremote.ErrIgnoredEvent) {
		return Result{Outcome: ticketstore.Unmapped, Reason: "not an issue update; ignored"}, nil
	}
	if err != nil {
		return Result{}, err
	}
	row, found, err := s.tickets.ByRemote(ctx, string(system), u.Key, u.Marker)
	if err != nil {
		return Result{}, err
	}
	if !found {
		key := u.Number
		if key == "" {
			key = u.Key
		}
		return Result{Outcome: ticketstore.UnknownTicket, Key: key, Reason: "no ticket Alexus opened has this key or marker"}, nil
	}
	log := s.log.With(zap.String("tenant_id", string(t)), zap.String("ticket", row.Number), zap.String("incident_id", row.IncidentID))

	seen := ticketstore.Remote{Status: u.Status, State: u.State, At: u.At}
	ev := ticketstore.Event{Direction: ticketstore.Inbound, RemoteStatus: u.Status, ChangedBy: u.ChangedBy}
	c := ticketstore.Change{Remote: &seen, Event: &ev, Audit: true}
	switch {
	case ticket.IsEcho(u, remote.Self(), row.Written):
		ev.Outcome, ev.Reason = ticketstore.Echo, "Alexus's own change coming back"
	case !u.StatusChanged:
		ev.Outcome, ev.Reason = ticketstore.Unmapped, "the change did not touch the status"
	case !u.State.Valid():
		ev.Outcome, ev.Reason = ticketstore.Unmapped, fmt.Sprintf("status %q maps to no incident state", u.Status)
	default:
		d := ticket.Decide(row.Local(), ticket.Change{State: u.State, At: u.At})
		ev.Reason = d.Reason
		switch d.Winner {
		case ticket.Remote:
			label := u.Status
			if system == provision.TicketServiceNow && u.StatusCategory != "" {
				// ServiceNow sends the state's code; its label reads better.
				label = u.StatusCategory
			}
			if err := s.moveIncident(ctx, t, remote.System(), row, label, d); err != nil {
				return Result{}, err
			}
			ev.Outcome = ticketstore.Applied
			c.Local = &ticket.Change{State: d.State}
		case ticket.Local:
			if err := s.writeBack(ctx, t, row, u, payload, d); err != nil {
				return Result{}, err
			}
			ev.Outcome = ticketstore.LocalWon
		default:
			ev.Outcome = ticketstore.InSync
		}
	}
	if _, err := s.tickets.Apply(ctx, row.ID, c); err != nil {
		return Result{}, err
	}
	log.Info("ticket change received", zap.String("outcome", ev.Outcome), zap.String("remote_status", u.Status), zap.String("reason", ev.Reason))
	return Result{Outcome: ev.Outcome, IncidentID: row.IncidentID, Key: row.Number, Reason: ev.Reason}, nil
}

// incidentStatus is the orchestrator's status for a ticket state.
func incidentStatus(s ticket.State) orchestratorv1.IncidentStatus {
	switch s {
	case ticket.Open:
		return orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN
	case ticket.Acknowledged:
		return orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED
	case ticket.Resolved:
		return orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED
	}
	return orchestratorv1.IncidentStatus_INCIDENT_STATUS_UNSPECIFIED
}

// moveIncident moves the ticket's incident to the state the ticket won
// with, as the action plane, naming the ticket as the source so the
// orchestrator does not write the change back to it.
func (s *Syncer) moveIncident(ctx context.Context, t tenant.ID, system provision.TicketSystem, row ticketstore.Ticket, status string, d ticket.Decision) error {
	if s.orch == nil {
		return ErrNoOrchestrator
	}
	name := row.Number
	if name == "" {
		name = row.RemoteKey
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: job.SystemSubject})
	_, err := s.orch.SetIncidentStatus(ctx, &orchestratorv1.SetIncidentStatusRequest{
		IncidentId: row.IncidentID,
		Status:     incidentStatus(d.State),
		Reason:     fmt.Sprintf("%s %s is %q: %s", system, name, status, d.Reason),
		Source:     string(system) + ":" + name,
	})
	if err != nil {
		return fmt.Errorf("move incident %s to %s for %s %s: %w", row.IncidentID, d.State, system, name, err)
	}
	return nil
}

// writeBack requests the SET_STATE action that writes the incident's
// state, which won, back to the ticket. Its idempotency key is the
// ticket's and the change's, so a redelivered webhook requests it once.
func (s *Syncer) writeBack(ctx context.Context, t tenant.ID, row ticketstore.Ticket, u ticket.Update, payload []byte, d ticket.Decision) error {
	change := strconv.FormatInt(u.At.UnixMicro(), 10)
	if u.At.IsZero() {
		sum := sha256.Sum256(payload)
		change = hex.EncodeToString(sum[:8])
	}
	ctx = tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: job.SystemSubject})
	_, _, err := s.actions.Execute(ctx, action.Request{
		IdempotencyKey: "ticket-sync:" + row.ID + ":" + change,
		IncidentID:     row.IncidentID,
		Kind:           action.Kind(row.System),
		Reason:         fmt.Sprintf("%s moved to %q, but %s: writing the incident's state back", row.Number, u.Status, d.Reason),
		Ticket:         &action.TicketParams{Operation: action.TicketSetState, State: d.State},
	})
	if err != nil {
		return fmt.Errorf("request writing %s back to %s: %w", d.State, row.Number, err)
	}
	return nil
}
