package actions_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	actionsv1 "github.com/alexus-platform/alexus/gen/alexus/actions/v1"
	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/jira/jiratest"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow/sntest"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
)

const ticketIncident = "0b7f3c52-3c1e-4a7e-9b43-6a0d1c2e5f10"

// orchestrator stands in for the orchestrator plane: it records every
// SetIncidentStatus call and the identity it was made as.
type orchestrator struct {
	orchestratorv1.OrchestratorServiceClient

	mu    sync.Mutex
	calls []*orchestratorv1.SetIncidentStatusRequest
	as    []tenant.Identity
}

func (o *orchestrator) SetIncidentStatus(ctx context.Context, req *orchestratorv1.SetIncidentStatusRequest, _ ...grpc.CallOption) (*orchestratorv1.SetIncidentStatusResponse, error) {
	id, _ := tenant.FromContext(ctx)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls, o.as = append(o.calls, req), append(o.as, id)
	return &orchestratorv1.SetIncidentStatusResponse{Changed: true}, nil
}

func (o *orchestrator) all() ([]*orchestratorv1.SetIncidentStatusRequest, []tenant.Identity) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*orchestratorv1.SetIncidentStatusRequest(nil), o.calls...), append([]tenant.Identity(nil), o.as...)
}

// remotes are the stand-in Jira and ServiceNow a test's tenants use.
type remotes struct {
	jira *jiratest.Server
	sn   *sntest.Server
}

func newRemotes(t *testing.T) remotes { return remotes{jira: jiratest.New(t), sn: sntest.New(t)} }

// integrate gives tenant id its Jira and ServiceNow integrations on r.
func (b *bundle) integrate(t *testing.T, id tenant.ID, r remotes) {
	t.Helper()
	require.NoError(t, provision.SetTicketIntegration(as(id), b.db, b.keys, provision.TicketIntegration{
		System: provision.TicketJira,
		Jira: &jira.Config{BaseURL: r.jira.URL, Email: jiratest.Email, APIToken: jiratest.APIToken,
			Project: jiratest.Project, AccountID: jiratest.AccountID},
	}))
	require.NoError(t, provision.SetTicketIntegration(as(id), b.db, b.keys, provision.TicketIntegration{
		System:     provision.TicketServiceNow,
		ServiceNow: &servicenow.Config{BaseURL: r.sn.URL, Username: sntest.Username, Password: sntest.Password},
	}))
}

func ticketRequest(key string, kind actionsv1.ActionKind, p *actionsv1.TicketParams) *actionsv1.ExecuteActionRequest {
	return &actionsv1.ExecuteActionRequest{
		IdempotencyKey: key,
		IncidentId:     ticketIncident,
		Kind:           kind,
		Reason:         "track the incident",
		Params:         &actionsv1.ExecuteActionRequest_Ticket{Ticket: p},
	}
}

func openTicket(title string) *actionsv1.TicketParams {
	return &actionsv1.TicketParams{Operation: actionsv1.TicketOperation_TICKET_OPERATION_OPEN, Title: title, Description: "5xx above 20%."}
}

// A thousand deliveries of the same OPEN make one action, one job on the
// kind's queue and one ticket, even when the ticket's create is performed
// and its answer lost.
func TestThousandDuplicateOpensOpenOneTicket(t *testing.T) {
	t.Parallel()
	for _, kind := range []actionsv1.ActionKind{actionsv1.ActionKind_ACTION_KIND_JIRA, actionsv1.ActionKind_ACTION_KIND_SERVICENOW} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.addTenant(t, "acme")
			r := newRemotes(t)
			b.integrate(t, "acme", r)
			r.jira.Fail(jiratest.RouteCreateIssue, jiratest.Fault{LoseResponse: true})
			r.sn.Fail(sntest.RouteCreate, sntest.Fault{LoseResponse: true})

			const (
				calls   = 1000
				callers = 50
			)
			var (
				wg       sync.WaitGroup
				start    = make(chan struct{})
				ids      sync.Map
				replayed atomic.Int32
			)
			for range callers {
				wg.Go(func() {
					<-start
					for range calls / callers {
						resp, err := b.client.ExecuteAction(as("acme"), ticketRequest("incident/open-ticket", kind, openTicket("checkout-api is down")))
						if !assert.NoError(t, err) {
							return
						}
						ids.Store(resp.GetAction().GetId(), true)
						if resp.GetReplayed() {
							replayed.Add(1)
						}
					}
				})
			}
			close(start)
			wg.Wait()
			var only string
			n := 0
			ids.Range(func(k, _ any) bool { only, n = k.(string), n+1; return true })
			require.Equal(t, 1, n, "every call names the one action")
			require.EqualValues(t, calls-1, replayed.Load())

			a := b.waitStatus(t, "acme", only, action.StatusSucceeded)
			require.Equal(t, 1, b.countActions(t, "acme"))
			queue := map[actionsv1.ActionKind]string{actionsv1.ActionKind_ACTION_KIND_JIRA: "jira", actionsv1.ActionKind_ACTION_KIND_SERVICENOW: "servicenow"}[kind]
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				var mine [][2]string
				for _, j := range b.jobs(c) {
					if j[0] == "jira" || j[0] == "servicenow" {
						mine = append(mine, j)
					}
				}
				assert.Equal(c, [][2]string{{queue, "completed"}}, mine)
			}, waitFor, tick)
			switch kind {
			case actionsv1.ActionKind_ACTION_KIND_JIRA:
				require.Len(t, r.jira.Issues(), 1)
				require.Equal(t, "opened OPS-1", a.Result)
			default:
				require.Len(t, r.sn.Records(), 1)
				require.Equal(t, "opened INC0010001", a.Result)
			}
			require.Equal(t, []string{action.EventSucceeded, action.EventRequested}, eventNames(b.events(t, "acme", "action/"+only)))

			got, err := b.client.GetAction(as("acme"), &actionsv1.GetActionRequest{Id: only})
			require.NoError(t, err)
			require.Equal(t, kind, got.GetAction().GetKind())
			require.Equal(t, queue, got.GetAction().GetTarget())
		})
	}
}

// Ticket actions are validated like the others, and nothing is stored
// when they are refused: they need an incident, the parameters their
// operation needs, and the tenant's integration with their system.
func TestBadTicketRequestsAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")
	noIncident := ticketRequest("k1", actionsv1.ActionKind_ACTION_KIND_JIRA, openTicket("down"))
	noIncident.IncidentId = ""
	for name, req := range map[string]*actionsv1.ExecuteActionRequest{
		"no integration":       ticketRequest("k0", actionsv1.ActionKind_ACTION_KIND_JIRA, openTicket("down")),
		"no incident":          noIncident,
		"open without a title": ticketRequest("k2", actionsv1.ActionKind_ACTION_KIND_JIRA, openTicket("")),
		"comment without a note id": ticketRequest("k3", actionsv1.ActionKind_ACTION_KIND_JIRA,
			&actionsv1.TicketParams{Operation: actionsv1.TicketOperation_TICKET_OPERATION_COMMENT, Text: "x"}),
		"set state without a state": ticketRequest("k4", actionsv1.ActionKind_ACTION_KIND_SERVICENOW,
			&actionsv1.TicketParams{Operation: actionsv1.TicketOperation_TICKET_OPERATION_SET_STATE}),
		"no operation": ticketRequest("k5", actionsv1.ActionKind_ACTION_KIND_JIRA, &actionsv1.TicketParams{Title: "x"}),
		"no params":    {IdempotencyKey: "k6", IncidentId: ticketIncident, Kind: actionsv1.ActionKind_ACTION_KIND_JIRA},
	} {
		_, err := b.client.ExecuteAction(as("acme"), req)
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%s: %v", name, err)
		if name == "no integration" {
			require.Contains(t, status.Convert(err).Message(), "the tenant has no jira integration")
		}
	}
	require.Zero(t, b.countActions(t, "acme"))
	require.Empty(t, b.jobs(t))
}

// A change in Jira that wins moves the incident through the orchestrator
// and is listed with the ticket; garbage is refused; another tenant
// neither sees the ticket nor syncs it.
func TestReceiveTicketEventAndListTickets(t *testing.T) {
	t.Parallel()
	orch := &orchestrator{}
	b := setup(t, func(o *options) { o.orch = orch })
	b.addTenant(t, "acme")
	r := newRemotes(t)
	b.integrate(t, "acme", r)

	for _, kind := range []actionsv1.ActionKind{actionsv1.ActionKind_ACTION_KIND_JIRA, actionsv1.ActionKind_ACTION_KIND_SERVICENOW} {
		resp, err := b.client.ExecuteAction(as("acme"), ticketRequest("open-"+kind.String(), kind, openTicket("checkout-api is down")))
		require.NoError(t, err)
		b.waitStatus(t, "acme", resp.GetAction().GetId(), action.StatusSucceeded)
	}
	payload, err := r.jira.Transition("OPS-1", "Done", "5b10ac8d82e05b22cc7d4ef5")
	require.NoError(t, err)
	got, err := b.client.ReceiveTicketEvent(as("acme"), &actionsv1.ReceiveTicketEventRequest{System: actionsv1.TicketSystem_TICKET_SYSTEM_JIRA, Payload: payload})
	require.NoError(t, err)
	require.Equal(t, actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_APPLIED, got.GetOutcome())
	require.Equal(t, ticketIncident, got.GetIncidentId())
	require.Equal(t, "OPS-1", got.GetTicketKey())
	calls, ids := orch.all()
	require.Len(t, calls, 1)
	require.Equal(t, orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED, calls[0].GetStatus())
	require.Equal(t, "jira:OPS-1", calls[0].GetSource())
	require.Equal(t, tenant.Identity{Tenant: "acme", Subject: "system:actions"}, ids[0])

	for _, sys := range []actionsv1.TicketSystem{actionsv1.TicketSystem_TICKET_SYSTEM_JIRA, actionsv1.TicketSystem_TICKET_SYSTEM_SERVICENOW} {
		_, err = b.client.ReceiveTicketEvent(as("acme"), &actionsv1.ReceiveTicketEventRequest{System: sys, Payload: []byte(`{"garbage": true`)})
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%s: %v", sys, err)
	}

	// Newest first, a page at a time, each with its events newest first.
	first, err := b.client.ListTickets(as("acme"), &actionsv1.ListTicketsRequest{PageSize: 1})
	require.NoError(t, err)
	require.Len(t, first.GetTickets(), 1)
	require.NotEmpty(t, first.GetNextPageToken())
	second, err := b.client.ListTickets(as("acme"), &actionsv1.ListTicketsRequest{PageSize: 1, PageToken: first.GetNextPageToken()})
	require.NoError(t, err)
	require.Len(t, second.GetTickets(), 1)
	require.Empty(t, second.GetNextPageToken())
	jt := second.GetTickets()[0]
	if jt.GetSystem() != actionsv1.TicketSystem_TICKET_SYSTEM_JIRA {
		jt = first.GetTickets()[0]
	}
	require.Equal(t, "OPS-1", jt.GetKey())
	require.Equal(t, r.jira.URL+"/browse/OPS-1", jt.GetUrl())
	require.Equal(t, ticketIncident, jt.GetIncidentId())
	require.Equal(t, "Done", jt.GetRemoteStatus())
	require.Equal(t, actionsv1.TicketState_TICKET_STATE_RESOLVED, jt.GetRemoteState())
	require.Equal(t, actionsv1.TicketState_TICKET_STATE_OPEN, jt.GetWrittenState())
	require.Len(t, jt.GetEvents(), 2)
	require.Equal(t, ticketstore.Inbound, jt.GetEvents()[0].GetDirection())
	require.Equal(t, actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_APPLIED, jt.GetEvents()[0].GetOutcome())
	require.Equal(t, "5b10ac8d82e05b22cc7d4ef5", jt.GetEvents()[0].GetChangedBy())
	require.Equal(t, ticketstore.Outbound, jt.GetEvents()[1].GetDirection())
	entries := b.events(t, "acme", "ticket/"+jt.GetId())
	require.Equal(t, []string{ticketstore.EventSynced}, eventNames(entries))

	byIncident, err := b.client.ListTickets(as("acme"), &actionsv1.ListTicketsRequest{IncidentId: "9d1e0a44-8f2b-4c3d-a5e6-7f8091a2b3c4"})
	require.NoError(t, err)
	require.Empty(t, byIncident.GetTickets())
	_, err = b.client.ListTickets(as("acme"), &actionsv1.ListTicketsRequest{PageToken: "garbage"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))

	// Another tenant: no tickets to list, no integration to receive with;
	// and with one, acme's ticket is unknown to it.
	b.addTenant(t, "globex")
	other, err := b.client.ListTickets(as("globex"), &actionsv1.ListTicketsRequest{})
	require.NoError(t, err)
	require.Empty(t, other.GetTickets())
	again, err := r.jira.Transition("OPS-1", "To Do", "5b10ac8d82e05b22cc7d4ef5")
	require.NoError(t, err)
	_, err = b.client.ReceiveTicketEvent(as("globex"), &actionsv1.ReceiveTicketEventRequest{System: actionsv1.TicketSystem_TICKET_SYSTEM_JIRA, Payload: again})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), err)
	b.integrate(t, "globex", r)
	unknown, err := b.client.ReceiveTicketEvent(as("globex"), &actionsv1.ReceiveTicketEventRequest{System: actionsv1.TicketSystem_TICKET_SYSTEM_JIRA, Payload: again})
	require.NoError(t, err)
	require.Equal(t, actionsv1.TicketSyncOutcome_TICKET_SYNC_OUTCOME_UNKNOWN_TICKET, unknown.GetOutcome())
	calls, _ = orch.all()
	require.Len(t, calls, 1, "nothing moved for globex")
}

// Without an orchestrator, a change that must move the incident is
// UNAVAILABLE, so the sender retries it.
func TestReceiveTicketEventWithoutOrchestratorIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.addTenant(t, "acme")
	r := newRemotes(t)
	b.integrate(t, "acme", r)
	resp, err := b.client.ExecuteAction(as("acme"), ticketRequest("open", actionsv1.ActionKind_ACTION_KIND_SERVICENOW, openTicket("checkout-api is down")))
	require.NoError(t, err)
	b.waitStatus(t, "acme", resp.GetAction().GetId(), action.StatusSucceeded)
	sysID := r.sn.Records()[0].SysID()
	payload, err := r.sn.SetState(sysID, servicenow.StateResolved, "jane.operator")
	require.NoError(t, err)
	_, err = b.client.ReceiveTicketEvent(as("acme"), &actionsv1.ReceiveTicketEventRequest{System: actionsv1.TicketSystem_TICKET_SYSTEM_SERVICENOW, Payload: payload})
	require.Equal(t, codes.Unavailable, status.Code(err), err)
}
