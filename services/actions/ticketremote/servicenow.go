package ticketremote

import (
	"context"
	"fmt"
	"strings"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/servicenow"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
)

// serviceNowRemote is a tenant's ServiceNow instance.
type serviceNowRemote struct {
	c    *servicenow.Client
	base string
}

func newServiceNow(cfg servicenow.Config, opts ticketapi.Options) (*serviceNowRemote, error) {
	cfg.Options = opts
	c, err := servicenow.New(cfg)
	if err != nil {
		return nil, err
	}
	return &serviceNowRemote{c: c, base: strings.TrimRight(cfg.BaseURL, "/")}, nil
}

func (r *serviceNowRemote) System() provision.TicketSystem { return provision.TicketServiceNow }

func (r *serviceNowRemote) ticket(inc servicenow.Incident) Ticket {
	return Ticket{
		Key: inc.SysID, Number: inc.Number, URL: r.base + "/nav_to.do?uri=incident.do?sys_id=" + inc.SysID, Marker: inc.Marker,
		Status: inc.State, StatusLabel: inc.StateLabel, State: inc.AlexusState, Updated: inc.Updated,
	}
}

func (r *serviceNowRemote) Open(ctx context.Context, in NewTicket) (Ticket, bool, error) {
	inc, created, err := r.c.FindOrCreate(ctx, servicenow.NewIncident{Hash: in.Hash, ShortDescription: in.Title, Description: in.Description})
	if err != nil {
		return Ticket{}, false, err
	}
	t := r.ticket(inc)
	if created {
		t.Written = inc.Written()
	}
	return t, created, nil
}

func (r *serviceNowRemote) Comment(ctx context.Context, key, noteID, text string) (bool, error) {
	return r.c.WorkNote(ctx, key, noteID, text)
}

func (r *serviceNowRemote) SetState(ctx context.Context, key string, state ticket.State, note string) (Ticket, bool, error) {
	if state == ticket.Resolved && strings.TrimSpace(note) == "" {
		note = DefaultResolveNote
	}
	inc, moved, err := r.c.SetState(ctx, key, state, note)
	if err != nil {
		return Ticket{}, false, err
	}
	t := r.ticket(inc)
	if moved {
		t.Written = inc.Written()
	}
	return t, moved, nil
}

func (r *serviceNowRemote) Get(ctx context.Context, key string) (Ticket, error) {
	inc, err := r.c.Get(ctx, key)
	if err != nil {
		return Ticket{}, err
	}
	return r.ticket(inc), nil
}

func (r *serviceNowRemote) Parse(payload []byte) (ticket.Update, error) {
	u, err := servicenow.ParseOutbound(payload)
	if err != nil {
		return ticket.Update{}, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	return u, nil
}

func (r *serviceNowRemote) Self() ticket.Self { return r.c.Self() }
