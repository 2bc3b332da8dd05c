package ticketstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// UnsettledTenants returns the tenants that have tickets not resolved on
// both sides, for the reconcile job, which runs for no tenant in
// particular: the SECURITY DEFINER function alexus_ticket_unsettled_tenants
// answers with tenant ids and nothing else.
func (s *Store) UnsettledTenants(ctx context.Context) ([]tenant.ID, error) {
	rows, err := s.db.Pool().Query(ctx, `SELECT t FROM alexus_ticket_unsettled_tenants() AS t ORDER BY t`)
	if err != nil {
		return nil, fmt.Errorf("find tenants with unsettled tickets: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find tenants with unsettled tickets: %w", err)
	}
	out := make([]tenant.ID, 0, len(ids))
	for _, id := range ids {
		t, err := tenant.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("tenant with unsettled tickets: %w", err)
		}
		out = append(out, t)
	}
	return out, nil
}

// Unsettled returns up to limit of the context's tenant's tickets that are
// not resolved on both sides, least recently synced first.
func (s *Store) Unsettled(ctx context.Context, limit int) ([]Ticket, error) {
	var out []Ticket
	err := s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+ticketColumns+` FROM tickets
			WHERE NOT (local_state = 'resolved' AND remote_state = 'resolved')
			ORDER BY synced_at, id LIMIT $1`, limit)
		if err != nil {
			return fmt.Errorf("list unsettled tickets: %w", err)
		}
		out, err = pgx.CollectRows(rows, scanTicket)
		if err != nil {
			return fmt.Errorf("list unsettled tickets: %w", err)
		}
		return nil
	})
	return out, err
}
