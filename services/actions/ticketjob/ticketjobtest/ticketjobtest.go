// Package ticketjobtest is a test bed for the action plane's ticket
// packages: a database of its own with tenants whose Jira and ServiceNow
// integrations point at stand-ins (jiratest, sntest), the stores, and
// the ticket executors, called directly rather than through River.
package ticketjobtest

import (
	"context"
	"net/netip"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/store/storetest"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/jira/jiratest"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow/sntest"
	"github.com/alexus-platform/alexus/internal/ticket/tickettest"
	"github.com/alexus-platform/alexus/services/actions/action"
	"github.com/alexus-platform/alexus/services/actions/job"
	"github.com/alexus-platform/alexus/services/actions/ticketjob"
	"github.com/alexus-platform/alexus/services/actions/ticketremote"
	"github.com/alexus-platform/alexus/services/actions/ticketstore"
)

// MaxAttempts is the attempts every job of the bed has.
const MaxAttempts = 5

// Bed is one test's database, stand-ins, stores and workers.
type Bed struct {
	DB      *store.DB
	Keys    *secretbox.Keyring
	Actions *action.Store
	Tickets *ticketstore.Store
	Remotes *ticketremote.Opener
	// Jira and ServiceNow are the stand-ins every tenant's integration
	// points at.
	Jira       *jiratest.Server
	ServiceNow *sntest.Server
	// JiraWorker and ServiceNowWorker execute the tenants' ticket
	// actions.
	JiraWorker       *ticketjob.Worker[ticketjob.JiraArgs]
	ServiceNowWorker *ticketjob.Worker[ticketjob.ServiceNowArgs]
	Policy           *egress.Policy
}

// New returns a bed whose remotes retry with tickettest.Fast and may
// reach loopback, with no tenant yet.
func New(t *testing.T) *Bed {
	t.Helper()
	sb := storetest.New(t)
	key, err := secretbox.GenerateKey()
	require.NoError(t, err)
	keys, err := secretbox.ParseKeyring("t1:" + key)
	require.NoError(t, err)
	b := &Bed{
		DB:         sb.DB,
		Keys:       keys,
		Tickets:    ticketstore.NewStore(sb.DB),
		Jira:       jiratest.New(t),
		ServiceNow: sntest.New(t),
		// The stand-ins listen on loopback.
		Policy: &egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
	}
	// The job queue is not under test: jobs are worked by calling Work.
	b.Actions = action.NewStore(sb.DB, func(context.Context, pgx.Tx, action.Action) error { return nil }, ticketjob.Check)
	b.Remotes = ticketremote.NewOpener(sb.DB, keys, b.Policy, tickettest.Fast)
	b.JiraWorker, b.ServiceNowWorker = b.NewWorkers(t, b.Remotes)
	return b
}

// NewWorkers returns workers opening remotes with remotes.
func (b *Bed) NewWorkers(t *testing.T, remotes *ticketremote.Opener) (*ticketjob.Worker[ticketjob.JiraArgs], *ticketjob.Worker[ticketjob.ServiceNowArgs]) {
	cfg := ticketjob.WorkerConfig{Remotes: remotes, Tickets: b.Tickets}
	log := zaptest.NewLogger(t)
	return ticketjob.NewJiraWorker(cfg, log.Named("jira"), b.Actions), ticketjob.NewServiceNowWorker(cfg, log.Named("servicenow"), b.Actions)
}

// As is a context acting for tenant id as a user.
func As(id tenant.ID) context.Context {
	return tenant.WithIdentity(context.Background(), tenant.Identity{Tenant: id, Subject: "user:alice"})
}

// AddTenant provisions id with no integration.
func (b *Bed) AddTenant(t *testing.T, id tenant.ID) {
	t.Helper()
	_, err := provision.EnsureTenant(As(id), b.DB, provision.TenantOptions{})
	require.NoError(t, err)
}

// JiraConfig is the tenants' Jira, on the stand-in.
func (b *Bed) JiraConfig() *jira.Config {
	return &jira.Config{BaseURL: b.Jira.URL, Email: jiratest.Email, APIToken: jiratest.APIToken,
		Project: jiratest.Project, AccountID: jiratest.AccountID}
}

// ServiceNowConfig is the tenants' ServiceNow, on the stand-in.
func (b *Bed) ServiceNowConfig() *servicenow.Config {
	return &servicenow.Config{BaseURL: b.ServiceNow.URL, Username: sntest.Username, Password: sntest.Password}
}

// Integrate gives tenant id its integrations with systems, on the
// stand-ins.
func (b *Bed) Integrate(t *testing.T, id tenant.ID, systems ...provision.TicketSystem) {
	t.Helper()
	for _, s := range systems {
		in := provision.TicketIntegration{System: s}
		switch s {
		case provision.TicketJira:
			in.Jira = b.JiraConfig()
		case provision.TicketServiceNow:
			in.ServiceNow = b.ServiceNowConfig()
		}
		require.NoError(t, provision.SetTicketIntegration(As(id), b.DB, b.Keys, in))
	}
}

// Execute records a ticket action of kind for the incident as tenant id.
func (b *Bed) Execute(t *testing.T, id tenant.ID, kind action.Kind, incident, key string, p action.TicketParams) action.Action {
	t.Helper()
	a, _, err := b.Actions.Execute(As(id), action.Request{IdempotencyKey: key, IncidentID: incident, Kind: kind, Reason: "test", Ticket: &p})
	require.NoError(t, err)
	return a
}

// Work runs attempt of the job of action a of tenant id with its kind's
// worker.
func (b *Bed) Work(id tenant.ID, a action.Action, attempt int) error {
	row := &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: MaxAttempts}
	ref := job.Ref{Tenant: string(id), ActionID: a.ID, IdempotencyKey: a.IdempotencyKey}
	if a.Kind == action.KindServiceNow {
		return b.ServiceNowWorker.Work(context.Background(), &river.Job[ticketjob.ServiceNowArgs]{JobRow: row, Args: ticketjob.ServiceNowArgs{Ref: ref}})
	}
	return b.JiraWorker.Work(context.Background(), &river.Job[ticketjob.JiraArgs]{JobRow: row, Args: ticketjob.JiraArgs{Ref: ref}})
}

// Action reads tenant id's action.
func (b *Bed) Action(t *testing.T, id tenant.ID, actionID string) action.Action {
	t.Helper()
	a, err := b.Actions.Get(As(id), actionID)
	require.NoError(t, err)
	return a
}

// Ticket reads tenant id's ticket of the incident in system.
func (b *Bed) Ticket(t *testing.T, id tenant.ID, incident string, system provision.TicketSystem) ticketstore.Ticket {
	t.Helper()
	tk, found, err := b.Tickets.ForIncident(As(id), incident, string(system))
	require.NoError(t, err)
	require.True(t, found, "tenant %s has no %s ticket for incident %s", id, system, incident)
	return tk
}

// Open opens the incident's ticket in system for tenant id, through an
// OPEN action worked once, and returns the ticket.
func (b *Bed) Open(t *testing.T, id tenant.ID, system provision.TicketSystem, incident string) ticketstore.Ticket {
	t.Helper()
	a := b.Execute(t, id, action.Kind(system), incident, "open-"+string(system)+"-"+incident,
		action.TicketParams{Operation: action.TicketOpen, Title: "checkout-api is down", Description: "5xx above 20% since 11:31 UTC."})
	require.NoError(t, b.Work(id, a, 1))
	require.Equal(t, action.StatusSucceeded, b.Action(t, id, a.ID).Status)
	return b.Ticket(t, id, incident, system)
}

// SetState moves the incident's ticket in system to state for tenant id,
// through a SET_STATE action worked once, and returns the action.
func (b *Bed) SetState(t *testing.T, id tenant.ID, system provision.TicketSystem, incident string, p action.TicketParams, key string) action.Action {
	t.Helper()
	p.Operation = action.TicketSetState
	a := b.Execute(t, id, action.Kind(system), incident, key, p)
	require.NoError(t, b.Work(id, a, 1))
	return b.Action(t, id, a.ID)
}
