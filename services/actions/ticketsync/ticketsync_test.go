package ticketsync_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
	"google.golang.org/grpc"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira/jiratest"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow/sntest"
	"github.com/alexus-platform/alexus/services/actions/action"
	actionsaudit "github.com/alexus-platform/alexus/services/actions/audit"
	"github.com/alexus-platform/alexus/services/actions/job"
	"github.com/alexus-platform/alexus/services/actions/ticketjob/ticketjobtest"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
	"github.com/alexus-platform/alexus/services/actions/ticketsync"
)

const (
	acme     tenant.ID = "acme"
	globex   tenant.ID = "globex"
	incident           = "0b7f3c52-3c1e-4a7e-9b43-6a0d1c2e5f10"
)

// orchestrator stands in for the orchestrator plane: it records every
// SetIncidentStatus with the identity it was made as.
type orchestrator struct {
	orchestratorv1.OrchestratorServiceClient

	mu    sync.Mutex
	calls []call
}

type call struct {
	req *orchestratorv1.SetIncidentStatusRequest
	as  tenant.Identity
}

func (o *orchestrator) SetIncidentStatus(ctx context.Context, req *orchestratorv1.SetIncidentStatusRequest, _ ...grpc.CallOption) (*orchestratorv1.SetIncidentStatusResponse, error) {
	id, _ := tenant.FromContext(ctx)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, call{req: req, as: id})
	return &orchestratorv1.SetIncidentStatusResponse{Changed: true}, nil
}

func (o *orchestrator) all() []call {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]call(nil), o.calls...)
}

type bundle struct {
	*ticketjobtest.Bed
	orch *orchestrator
	sync *ticketsync.Syncer
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{Bed: ticketjobtest.New(t), orch: &orchestrator{}}
	b.AddTenant(t, acme)
	b.Integrate(t, acme, provision.TicketJira, provision.TicketServiceNow)
	b.sync = ticketsync.New(zaptest.NewLogger(t), b.Remotes, b.Tickets, b.Actions, b.orch)
	return b
}

// system is what a test needs of one system's stand-in.
type system struct {
	name provision.TicketSystem
	// move changes the ticket as user would and returns what the remote
	// sends for it.
	move func(t *testing.T, key string, s ticket.State, user string) []byte
	// state reads the ticket's state at the stand-in.
	state func(key string) ticket.State
	// self is the integration's account.
	self string
}

const human = "jane.operator"

func systems(b *bundle) []system {
	names := map[ticket.State]string{ticket.Open: "To Do", ticket.Acknowledged: "In Progress", ticket.Resolved: "Done"}
	return []system{{
		name: provision.TicketJira,
		move: func(t *testing.T, key string, s ticket.State, user string) []byte {
			body, err := b.Jira.Transition(key, names[s], user)
			require.NoError(t, err)
			return body
		},
		state: func(key string) ticket.State {
			iss, _ := b.Jira.Issue(key)
			return map[string]ticket.State{"new": ticket.Open, "indeterminate": ticket.Acknowledged, "done": ticket.Resolved}[iss.Status.Category]
		},
		self: jiratest.AccountID,
	}, {
		name: provision.TicketServiceNow,
		move: func(t *testing.T, key string, s ticket.State, user string) []byte {
			body, err := b.ServiceNow.SetState(key, servicenow.CodeOf(s), user)
			require.NoError(t, err)
			return body
		},
		state: func(key string) ticket.State {
			rec, _ := b.ServiceNow.Record(key)
			return servicenow.StateOf(rec.Fields["state"])
		},
		self: sntest.Username,
	}}
}

func (b *bundle) audits(t *testing.T, id tenant.ID, subject string) []actionsaudit.Entry {
	t.Helper()
	page, err := actionsaudit.NewLog(b.DB).List(ticketjobtest.As(id), actionsaudit.Query{Subject: subject})
	require.NoError(t, err)
	return page.Entries
}

func (b *bundle) events(t *testing.T, id tenant.ID, incident string, s provision.TicketSystem) []ticketstore.Event {
	t.Helper()
	page, err := b.Tickets.List(ticketjobtest.As(id), ticketstore.Query{IncidentID: incident})
	require.NoError(t, err)
	for _, tk := range page.Tickets {
		if tk.System == string(s) {
			return tk.Events
		}
	}
	return nil
}

// A person's change to the ticket that wins moves the incident through the
// orchestrator, as the action plane, naming the ticket; it is recorded and
// audited, and its redelivery changes nothing.
func TestInboundChangeMovesTheIncident(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i, s := range systems(b) {
		tk := b.Open(t, acme, s.name, incident)
		payload := s.move(t, tk.RemoteKey, ticket.Resolved, human)

		res, err := b.sync.Receive(ticketjobtest.As(acme), s.name, payload)
		require.NoError(t, err)
		require.Equal(t, ticketstore.Applied, res.Outcome, res.Reason)
		require.Equal(t, incident, res.IncidentID)
		require.Equal(t, tk.Number, res.Key)

		calls := b.orch.all()
		require.Len(t, calls, i+1)
		c := calls[i]
		require.Equal(t, incident, c.req.GetIncidentId())
		require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, c.req.GetStatus())
		require.Equal(t, string(s.name)+":"+tk.Number, c.req.GetSource())
		require.Contains(t, c.req.GetReason(), "the remote ticket changed last")
		require.Equal(t, tenant.Identity{Tenant: acme, Subject: job.SystemSubject}, c.as)

		row := b.Ticket(t, acme, incident, s.name)
		require.Equal(t, ticket.Resolved, row.LocalState)
		require.Equal(t, ticket.Resolved, row.RemoteState)
		ev := b.events(t, acme, incident, s.name)[0]
		require.Equal(t, ticketstore.Inbound, ev.Direction)
		require.Equal(t, ticketstore.Applied, ev.Outcome)
		require.Equal(t, human, ev.ChangedBy)
		entries := b.audits(t, acme, "ticket/"+row.ID)
		require.Len(t, entries, 1)
		require.Equal(t, ticketstore.EventSynced, entries[0].Event)
		require.Equal(t, "applied", entries[0].Details["outcome"])

		again, err := b.sync.Receive(ticketjobtest.As(acme), s.name, payload)
		require.NoError(t, err)
		require.Equal(t, ticketstore.InSync, again.Outcome)
		require.Len(t, b.orch.all(), i+1, "a redelivery moves nothing")
	}
}

// Alexus's own write coming back is an echo: it moves nothing.
func TestEchoIsIgnored(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, s := range systems(b) {
		tk := b.Open(t, acme, s.name, incident)
		a := b.SetState(t, acme, s.name, incident, action.TicketParams{State: ticket.Acknowledged}, "ack-"+string(s.name))
		require.Equal(t, action.StatusSucceeded, a.Status, a.Result)
		// The remote's notice of the change, made as the integration's
		// account.
		payload := s.move(t, tk.RemoteKey, ticket.Acknowledged, s.self)

		res, err := b.sync.Receive(ticketjobtest.As(acme), s.name, payload)
		require.NoError(t, err)
		require.Equal(t, ticketstore.Echo, res.Outcome, res.Reason)
		require.Equal(t, ticketstore.Echo, b.events(t, acme, incident, s.name)[0].Outcome)
	}
	require.Empty(t, b.orch.all())
}

// When both sides changed and the incident's state wins (a resolution is
// not undone by an acknowledgement), a SET_STATE writes it back to the
// ticket, once however often the change is delivered.
func TestConflictIsWonByTheIncident(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, s := range systems(b) {
		tk := b.Open(t, acme, s.name, incident)
		b.SetState(t, acme, s.name, incident, action.TicketParams{State: ticket.Resolved}, "resolve-"+string(s.name))
		payload := s.move(t, tk.RemoteKey, ticket.Acknowledged, human)

		for range 2 {
			res, err := b.sync.Receive(ticketjobtest.As(acme), s.name, payload)
			require.NoError(t, err)
			require.Equal(t, ticketstore.LocalWon, res.Outcome)
			require.Equal(t, "an acknowledgement never undoes a resolution", res.Reason)
		}
		page, err := b.Actions.List(ticketjobtest.As(acme), action.Query{Kind: action.Kind(s.name), Statuses: []action.Status{action.StatusPending}})
		require.NoError(t, err)
		require.Len(t, page.Actions, 1, "one write-back however often the change arrives")
		back := page.Actions[0]
		require.Equal(t, action.TicketParams{Operation: action.TicketSetState, State: ticket.Resolved}, back.Ticket)
		require.Equal(t, incident, back.IncidentID)

		require.Equal(t, ticket.Acknowledged, s.state(tk.RemoteKey))
		require.NoError(t, b.Work(acme, back, 1))
		require.Equal(t, action.StatusSucceeded, b.Action(t, acme, back.ID).Status)
		require.Equal(t, ticket.Resolved, s.state(tk.RemoteKey), "written back")
	}
	require.Empty(t, b.orch.all())
}

// A body that is not the system's event is INVALID_ARGUMENT and stores
// nothing; a change to a ticket Alexus did not open is unknown; a change
// from a system the tenant has no integration with is refused.
func TestBadAndUnknownChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := ticketjobtest.As(acme)
	tk := b.Open(t, acme, provision.TicketJira, incident)
	for _, s := range []provision.TicketSystem{provision.TicketJira, provision.TicketServiceNow} {
		_, err := b.sync.Receive(ctx, s, []byte(`{"not": "an event"`))
		require.ErrorIs(t, err, ticketsync.ErrBadPayload)
	}
	_, err := b.sync.Receive(ctx, provision.TicketServiceNow, []byte(`{"sys_id": "nope", "state": "6"}`))
	require.ErrorIs(t, err, ticketsync.ErrBadPayload)
	require.Len(t, b.events(t, acme, incident, provision.TicketJira), 1, "only the open's")
	require.Empty(t, b.audits(t, acme, "ticket/"+tk.ID))

	other := b.Jira.AddIssue("someone else's issue")
	payload, err := b.Jira.Transition(other, "Done", human)
	require.NoError(t, err)
	res, err := b.sync.Receive(ctx, provision.TicketJira, payload)
	require.NoError(t, err)
	require.Equal(t, ticketstore.UnknownTicket, res.Outcome)
	require.Equal(t, other, res.Key)
	require.Empty(t, res.IncidentID)

	res, err = b.sync.Receive(ctx, provision.TicketJira, []byte(`{"webhookEvent": "comment_created", "issue": {"key": "OPS-1"}}`))
	require.NoError(t, err)
	require.Equal(t, ticketstore.Unmapped, res.Outcome)

	b.AddTenant(t, globex)
	_, err = b.sync.Receive(ticketjobtest.As(globex), provision.TicketJira, payload)
	require.ErrorIs(t, err, ticketsync.ErrNoIntegration)
	require.Empty(t, b.orch.all())
}

// Without an orchestrator a change that must move the incident fails,
// and nothing is recorded, so the sender's retry is not lost.
func TestWithoutOrchestratorTheChangeFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	syncer := ticketsync.New(zaptest.NewLogger(t), b.Remotes, b.Tickets, b.Actions, nil)
	tk := b.Open(t, acme, provision.TicketJira, incident)
	payload, err := b.Jira.Transition(tk.RemoteKey, "Done", human)
	require.NoError(t, err)
	_, err = syncer.Receive(ticketjobtest.As(acme), provision.TicketJira, payload)
	require.ErrorIs(t, err, ticketsync.ErrNoOrchestrator)
	row := b.Ticket(t, acme, incident, provision.TicketJira)
	require.Equal(t, ticket.Open, row.LocalState)
	require.Equal(t, ticket.Open, row.RemoteState)
}

// The reconcile repairs missed webhooks: a change nobody delivered moves
// the incident; and an incident state the ticket lost, whose write-back
// never ran, is written to the ticket.
func TestReconcileRepairsMissedWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other := "44444444-4444-4444-8444-444444444444"
	for _, s := range systems(b) {
		tk := b.Open(t, acme, s.name, incident)
		_ = s.move(t, tk.RemoteKey, ticket.Resolved, human) // never delivered

		ot := b.Open(t, acme, s.name, other)
		b.SetState(t, acme, s.name, other, action.TicketParams{State: ticket.Resolved}, "resolve-other-"+string(s.name))
		res, err := b.sync.Receive(ticketjobtest.As(acme), s.name, s.move(t, ot.RemoteKey, ticket.Acknowledged, human))
		require.NoError(t, err)
		require.Equal(t, ticketstore.LocalWon, res.Outcome) // its write-back action is never worked
	}

	n, err := b.sync.Reconcile(context.Background())
	require.NoError(t, err)
	require.Equal(t, 4, n)

	calls := b.orch.all()
	require.Len(t, calls, 2, "the resolutions nobody delivered")
	for _, c := range calls {
		require.Equal(t, incident, c.req.GetIncidentId())
		require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, c.req.GetStatus())
		require.Equal(t, tenant.Identity{Tenant: acme, Subject: job.SystemSubject}, c.as)
	}
	for _, s := range systems(b) {
		row := b.Ticket(t, acme, incident, s.name)
		require.Equal(t, ticket.Resolved, row.LocalState)
		require.Equal(t, ticket.Resolved, row.RemoteState)
		ev := b.events(t, acme, incident, s.name)[0]
		require.Equal(t, ticketstore.Reconcile, ev.Direction)
		require.Equal(t, ticketstore.Applied, ev.Outcome)

		ot := b.Ticket(t, acme, other, s.name)
		require.Equal(t, ticket.Resolved, s.state(ot.RemoteKey), "the lost resolution is written back")
		require.Equal(t, ticket.Resolved, ot.RemoteState)
		require.Equal(t, ticket.Resolved, ot.Written.State)
		ev = b.events(t, acme, other, s.name)[0]
		require.Equal(t, ticketstore.Reconcile, ev.Direction)
		require.Equal(t, ticketstore.LocalWon, ev.Outcome)
		require.Len(t, b.audits(t, acme, "ticket/"+ot.ID), 2, "the inbound change and the reconcile")
	}

	// Everything is settled: nothing is left to read.
	tenants, err := b.Tickets.UnsettledTenants(context.Background())
	require.NoError(t, err)
	require.Empty(t, tenants)
	n, err = b.sync.Reconcile(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Len(t, b.orch.all(), 2)
}

// One tenant neither sees nor syncs another's tickets: a change to them
// delivered to another tenant is unknown there, and moves nothing.
func TestTenantsAreIsolated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.AddTenant(t, globex)
	b.Integrate(t, globex, provision.TicketJira)
	tk := b.Open(t, acme, provision.TicketJira, incident)
	payload, err := b.Jira.Transition(tk.RemoteKey, "Done", human)
	require.NoError(t, err)

	res, err := b.sync.Receive(ticketjobtest.As(globex), provision.TicketJira, payload)
	require.NoError(t, err)
	require.Equal(t, ticketstore.UnknownTicket, res.Outcome)
	require.Empty(t, b.orch.all())
	require.Equal(t, ticket.Open, b.Ticket(t, acme, incident, provision.TicketJira).RemoteState)

	page, err := b.Tickets.List(ticketjobtest.As(globex), ticketstore.Query{})
	require.NoError(t, err)
	require.Empty(t, page.Tickets)
	_, err = b.Tickets.Get(ticketjobtest.As(globex), tk.ID)
	require.ErrorIs(t, err, ticketstore.ErrNotFound)
	_, found, err := b.Tickets.ForIncident(ticketjobtest.As(globex), incident, string(provision.TicketJira))
	require.NoError(t, err)
	require.False(t, found)
	var events int
	require.NoError(t, b.DB.WithTenant(ticketjobtest.As(globex), func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM ticket_sync_events`).Scan(&events)
	}))
	require.Zero(t, events)

	// The reconcile acts for each tenant on its own tickets only.
	n, err := b.sync.Reconcile(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	calls := b.orch.all()
	require.Len(t, calls, 1)
	require.Equal(t, acme, calls[0].as.Tenant)
}
