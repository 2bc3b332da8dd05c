package ticketstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/pagetoken"
)

const (
	// DefaultPageSize is used when a query asks for 0 tickets.
	DefaultPageSize = 50
	// MaxPageSize bounds one page.
	MaxPageSize = 500
	// EventsPerTicket bounds the events listed with each ticket.
	EventsPerTicket = 20
)

// Errors of List a caller can act on.
var (
	// ErrBadQuery reports a page size out of range or an incident id that
	// is not a UUID.
	ErrBadQuery = errors.New("invalid ticket query")
	// ErrBadPageToken reports a page token this package did not issue, or
	// one issued for another incident.
	ErrBadPageToken = pagetoken.ErrInvalid
)

// Query selects one page of the tenant's tickets, newest first.
type Query struct {
	// PageSize is the most tickets to return; 0 means DefaultPageSize.
	PageSize int
	// PageToken continues from a previous page; empty starts at the newest.
	PageToken string
	// IncidentID keeps only that incident's tickets.
	IncidentID string
}

// Page is one page of tickets, each with its latest events.
type Page struct {
	Tickets []Ticket
	// NextPageToken continues after the last ticket; empty on the last
	// page.
	NextPageToken string
}

// List returns one page of the context's tenant's tickets, each with its
// latest EventsPerTicket events, newest first.
func (s *Store) List(ctx context.Context, q Query) (Page, error) {
	if q.PageSize < 0 || q.PageSize > MaxPageSize {
		return Page{}, fmt.Errorf("%w: page size must be between 0 and %d", ErrBadQuery, MaxPageSize)
	}
	size := q.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	if q.IncidentID != "" {
		id, err := uuid.Parse(q.IncidentID)
		if err != nil {
			return Page{}, fmt.Errorf("%w: incident_id is not a UUID", ErrBadQuery)
		}
		q.IncidentID = id.String()
	}
	where := []string{"true"}
	args := []any{}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.IncidentID != "" {
		where = append(where, "incident_id = "+arg(q.IncidentID)+"::uuid")
	}
	if q.PageToken != "" {
		at, id, err := pagetoken.Decode(q.PageToken, tokenVersion, q.IncidentID)
		if err != nil {
			return Page{}, err
		}
		where = append(where, "(created_at, id) < ("+arg(at)+", "+arg(id)+"::uuid)")
	}
	query := `SELECT ` + ticketColumns + ` FROM tickets WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY created_at DESC, id DESC LIMIT ` + arg(size+1)

	var page Page
	err := s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list tickets: %w", err)
		}
		if page.Tickets, err = pgx.CollectRows(rows, scanTicket); err != nil {
			return fmt.Errorf("list tickets: %w", err)
		}
		if len(page.Tickets) > size {
			page.Tickets = page.Tickets[:size]
			last := page.Tickets[size-1]
			page.NextPageToken = pagetoken.Encode(tokenVersion, last.CreatedAt, last.ID, q.IncidentID)
		}
		return events(ctx, tx, page.Tickets)
	})
	if err != nil {
		return Page{}, err
	}
	return page, nil
}

// events fills in the latest events of tickets.
func events(ctx context.Context, tx pgx.Tx, tickets []Ticket) error {
	if len(tickets) == 0 {
		return nil
	}
	ids := make([]string, len(tickets))
	byID := make(map[string]*Ticket, len(tickets))
	for i := range tickets {
		ids[i] = tickets[i].ID
		byID[tickets[i].ID] = &tickets[i]
	}
	rows, err := tx.Query(ctx, `
		SELECT ticket_id::text, at, direction, outcome, remote_status, changed_by, reason
		FROM (
			SELECT e.*, row_number() OVER (PARTITION BY ticket_id ORDER BY id DESC) AS n
			FROM ticket_sync_events e WHERE ticket_id = ANY($1::uuid[])
		) latest
		WHERE n <= $2
		ORDER BY ticket_id, id DESC`, ids, EventsPerTicket)
	if err != nil {
		return fmt.Errorf("list ticket sync events: %w", err)
	}
	type row struct {
		ticketID string
		Event
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var e row
		err := r.Scan(&e.ticketID, &e.At, &e.Direction, &e.Outcome, &e.RemoteStatus, &e.ChangedBy, &e.Reason)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return fmt.Errorf("list ticket sync events: %w", err)
	}
	for _, e := range got {
		t := byID[e.ticketID]
		t.Events = append(t.Events, e.Event)
	}
	return nil
}

// tokenVersion names this list's page tokens (internal/pagetoken).
const tokenVersion = "t1"
