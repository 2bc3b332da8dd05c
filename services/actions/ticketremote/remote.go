package ticketremote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alexus-platform/alexus/internal/egress"
	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/secretbox"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
)

// DefaultResolveNote is the resolution note of a resolve that carries
// none: ServiceNow's data policy requires close notes.
const DefaultResolveNote = "Resolved in Alexus."

// Errors of Parse, for errors.Is.
var (
	// ErrBadPayload: the body is not an event of the system Alexus can
	// read.
	ErrBadPayload = errors.New("malformed ticket event")
	// ErrIgnoredEvent: the body is an event Alexus does not act on (a Jira
	// webhook other than jira:issue_updated); the receiver accepts and
	// drops it.
	ErrIgnoredEvent = errors.New("ticket event ignored")
)

// Ticket is what Alexus reads of a remote ticket.
type Ticket struct {
	// Key is what the remote API addresses the ticket by: the Jira issue
	// key, the ServiceNow sys_id.
	Key string
	// Number is what people call it: the Jira key, the ServiceNow number.
	Number string
	// URL links to the ticket in the remote's UI.
	URL string
	// Marker is the "alexus-<hash>" the ticket carries, if any.
	Marker string
	// Status is the remote status: the Jira status name, the ServiceNow
	// state code; StatusLabel is its name for people (the ServiceNow state
	// label). Status is empty when unknown (a Jira issue just created).
	Status, StatusLabel string
	// State is Status mapped onto an incident state; empty if unmapped.
	State ticket.State
	// Updated is when the remote last changed the ticket; zero when
	// unknown.
	Updated time.Time
	// Written is what this call's write left on the ticket, for the
	// echo-loop rule: set by an Open that created the ticket and a
	// SetState that moved it.
	Written ticket.Written
}

// NewTicket is the ticket to open for an incident.
type NewTicket struct {
	// Hash is the incident's hash; the ticket carries its marker.
	Hash string
	// Title is the summary (Jira) or short description (ServiceNow).
	Title string
	// Description is plain text.
	Description string
}

// Remote is one tenant's ticketing system.
type Remote interface {
	// System is the system's name, "jira" or "servicenow".
	System() provision.TicketSystem
	// Open returns the incident's ticket, opening it if none carries the
	// incident's marker, and reports whether this call opened it. It
	// never opens a second ticket for a marker.
	Open(ctx context.Context, in NewTicket) (Ticket, bool, error)
	// Comment adds text as a comment (Jira) or work note (ServiceNow) to
	// the ticket with key, once per noteID, and reports whether this call
	// added it.
	Comment(ctx context.Context, key, noteID, text string) (bool, error)
	// SetState moves the ticket with key to state, with note as the
	// resolution's close notes (ServiceNow; DefaultResolveNote when
	// empty), and returns the ticket afterwards and whether this call
	// moved it. A ticket already in state is left alone.
	SetState(ctx context.Context, key string, state ticket.State, note string) (Ticket, bool, error)
	// Get reads the ticket with key.
	Get(ctx context.Context, key string) (Ticket, error)
	// Parse reads an inbound change (a Jira webhook, a ServiceNow outbound
	// message), with the tenant's status mappings. Its errors wrap
	// ErrBadPayload or ErrIgnoredEvent.
	Parse(payload []byte) (ticket.Update, error)
	// Self is the integration's own accounts, for ticket.IsEcho.
	Self() ticket.Self
}

// New returns the Remote of an integration, its requests made with opts
// (retry policy and HTTP client).
func New(in provision.TicketIntegration, opts ticketapi.Options) (Remote, error) {
	switch {
	case in.System == provision.TicketJira && in.Jira != nil:
		return newJira(*in.Jira, opts)
	case in.System == provision.TicketServiceNow && in.ServiceNow != nil:
		return newServiceNow(*in.ServiceNow, opts)
	}
	return nil, fmt.Errorf("ticket integration %q has no configuration of its system", in.System)
}

// Opener opens the tenants' Remotes from their stored integrations.
type Opener struct {
	db   *store.DB
	keys *secretbox.Keyring
	http *egress.Clients
	opts ticketapi.Options
}

// NewOpener returns an Opener that reads integrations through db, opens
// their credentials with keys, and calls the remotes with opts, through
// an HTTP client per tenant that dials through policy (nil refuses every
// non-public address). opts.HTTPClient is ignored.
func NewOpener(db *store.DB, keys *secretbox.Keyring, policy *egress.Policy, opts ticketapi.Options) *Opener {
	return &Opener{db: db, keys: keys, http: egress.NewClients(policy, opts.WithDefaults().Timeout), opts: opts}
}

// Options are the retry policy and transport options the Opener's
// remotes use.
func (o *Opener) Options() ticketapi.Options { return o.opts }

// Open returns the context's tenant's Remote of system, or false when the
// tenant has no integration with it.
func (o *Opener) Open(ctx context.Context, system provision.TicketSystem) (Remote, bool, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, false, err
	}
	in, found, err := provision.GetTicketIntegration(ctx, o.db, o.keys, system)
	if err != nil || !found {
		return nil, false, err
	}
	opts := o.opts
	opts.HTTPClient = o.http.For(t)
	r, err := New(in, opts)
	if err != nil {
		return nil, false, fmt.Errorf("open the %s integration: %w", system, err)
	}
	return r, true, nil
}
