package action

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/pagetoken"
)

const (
	// DefaultPageSize is used when a query asks for 0 actions.
	DefaultPageSize = 50
	// MaxPageSize bounds one page.
	MaxPageSize = 500
)

// ErrBadPageToken reports a page token this package did not issue, or one
// issued for different filters.
var ErrBadPageToken = pagetoken.ErrInvalid

// Query selects one page of the tenant's actions, newest first. Every
// filter that is set must match; a zero filter matches everything.
type Query struct {
	// PageSize is the most actions to return; 0 means DefaultPageSize.
	PageSize int
	// PageToken continues from a previous page; empty starts at the newest.
	PageToken string
	// Statuses keeps only actions in one of them; StatusFailed lists the
	// dead actions, whose jobs used up their attempts or were refused.
	Statuses []Status
	// Kind keeps only actions of that kind.
	Kind Kind
	// IncidentID keeps only actions for that incident.
	IncidentID string
}

// Page is one page of actions.
type Page struct {
	Actions []Action
	// NextPageToken continues after the last action; empty on the last page.
	NextPageToken string
}

// List returns one page of the context's tenant's actions.
func (s *Store) List(ctx context.Context, q Query) (Page, error) {
	if q.PageSize < 0 || q.PageSize > MaxPageSize {
		return Page{}, fmt.Errorf("%w: page size must be between 0 and %d", ErrInvalid, MaxPageSize)
	}
	size := q.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	statuses := make([]string, 0, len(q.Statuses))
	for _, st := range q.Statuses {
		switch st {
		case StatusPending, StatusSucceeded, StatusFailed:
			statuses = append(statuses, string(st))
		default:
			return Page{}, fmt.Errorf("%w: unknown status %q", ErrInvalid, st)
		}
	}
	slices.Sort(statuses)
	statuses = slices.Compact(statuses)
	if q.IncidentID != "" {
		id, err := uuid.Parse(q.IncidentID)
		if err != nil {
			return Page{}, fmt.Errorf("%w: incident_id is not a UUID", ErrInvalid)
		}
		q.IncidentID = id.String()
	}
	filters := strings.Join(statuses, ",") + "|" + string(q.Kind) + "|" + q.IncidentID

	where := []string{"true"}
	args := []any{}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(statuses) > 0 {
		where = append(where, "status = ANY("+arg(statuses)+")")
	}
	if q.Kind != "" {
		where = append(where, "kind = "+arg(string(q.Kind)))
	}
	if q.IncidentID != "" {
		where = append(where, "incident_id = "+arg(q.IncidentID))
	}
	if q.PageToken != "" {
		at, id, err := pagetoken.Decode(q.PageToken, tokenVersion, filters)
		if err != nil {
			return Page{}, err
		}
		where = append(where, "(created_at, id) < ("+arg(at)+", "+arg(id)+"::uuid)")
	}
	query := `SELECT ` + actionColumns + ` FROM actions WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY created_at DESC, id DESC LIMIT ` + arg(size+1)

	var page Page
	err := s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list actions: %w", err)
		}
		page.Actions, err = pgx.CollectRows(rows, scanAction)
		if err != nil {
			return fmt.Errorf("list actions: %w", err)
		}
		return nil
	})
	if err != nil {
		return Page{}, err
	}
	if len(page.Actions) > size {
		page.Actions = page.Actions[:size]
		last := page.Actions[size-1]
		page.NextPageToken = pagetoken.Encode(tokenVersion, last.CreatedAt, last.ID, filters)
	}
	return page, nil
}

// tokenVersion names this list's page tokens (internal/pagetoken).
const tokenVersion = "a1"
