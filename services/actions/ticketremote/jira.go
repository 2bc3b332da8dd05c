package ticketremote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alexus-platform/alexus/internal/provision"
	"github.com/alexus-platform/alexus/internal/ticket"
	"github.com/alexus-platform/alexus/internal/ticket/jira"
	"github.com/alexus-platform/alexus/internal/ticket/ticketapi"
)

// jiraRemote is a tenant's Jira.
type jiraRemote struct {
	c    *jira.Client
	base string
}

func newJira(cfg jira.Config, opts ticketapi.Options) (*jiraRemote, error) {
	cfg.Options = opts
	c, err := jira.New(cfg)
	if err != nil {
		return nil, err
	}
	return &jiraRemote{c: c, base: strings.TrimRight(cfg.BaseURL, "/")}, nil
}

func (r *jiraRemote) System() provision.TicketSystem { return provision.TicketJira }

func (r *jiraRemote) ticket(iss jira.Issue) Ticket {
	return Ticket{
		Key: iss.Key, Number: iss.Key, URL: r.base + "/browse/" + iss.Key, Marker: iss.Marker,
		Status: iss.Status, StatusLabel: iss.Status, State: iss.State, Updated: iss.Updated,
	}
}

func (r *jiraRemote) Open(ctx context.Context, in NewTicket) (Ticket, bool, error) {
	iss, created, err := r.c.FindOrCreate(ctx, jira.NewIssue{Hash: in.Hash, Summary: in.Title, Description: in.Description})
	if err != nil {
		return Ticket{}, false, err
	}
	t := r.ticket(iss)
	if created {
		// The create answers with the key alone; the issue starts in its
		// workflow's initial status, which maps to open.
		t.Written = ticket.Written{State: iss.State, At: time.Now().UTC()}
	}
	return t, created, nil
}

func (r *jiraRemote) Comment(ctx context.Context, key, noteID, text string) (bool, error) {
	return r.c.Comment(ctx, key, noteID, text)
}

func (r *jiraRemote) SetState(ctx context.Context, key string, state ticket.State, _ string) (Ticket, bool, error) {
	moved, err := r.c.SetState(ctx, key, state)
	if err != nil {
		return Ticket{}, false, err
	}
	// The transition answers with nothing; the issue is read back for the
	// status it reached and Jira's time of the change, which is what the
	// webhook of the change carries.
	iss, err := r.c.Get(ctx, key)
	if err != nil {
		if !moved {
			return Ticket{}, false, err
		}
		// The move is done and must be remembered as Alexus's own, or its
		// webhook would not be known as an echo; what status it reached is
		// left to the next read.
		return Ticket{Key: key, Number: key, URL: r.base + "/browse/" + key, State: state,
			Written: ticket.Written{State: state, At: time.Now().UTC()}}, true, nil
	}
	t := r.ticket(iss)
	if moved {
		at := iss.Updated
		if at.IsZero() {
			at = time.Now().UTC()
		}
		t.Written = ticket.Written{State: state, At: at}
	}
	return t, moved, nil
}

func (r *jiraRemote) Get(ctx context.Context, key string) (Ticket, error) {
	iss, err := r.c.Get(ctx, key)
	if err != nil {
		return Ticket{}, err
	}
	return r.ticket(iss), nil
}

func (r *jiraRemote) Parse(payload []byte) (ticket.Update, error) {
	u, err := r.c.ParseWebhook(payload)
	switch {
	case errors.Is(err, jira.ErrIgnoredEvent):
		return ticket.Update{}, fmt.Errorf("%w: %w", ErrIgnoredEvent, err)
	case err != nil:
		return ticket.Update{}, fmt.Errorf("%w: %w", ErrBadPayload, err)
	}
	return u, nil
}

func (r *jiraRemote) Self() ticket.Self { return r.c.Self() }
