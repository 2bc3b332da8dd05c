package ticketjob

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/services/actions/action"
)

// Check is an action.Check: it refuses a jira or servicenow request when
// the tenant has no integration with that system, with an error wrapping
// action.ErrInvalid; the action is then not stored. Requests of other
// kinds pass.
func Check(ctx context.Context, tx pgx.Tx, req action.Request) error {
	if !req.Kind.IsTicket() {
		return nil
	}
	var found bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM ticket_integrations WHERE system = $1)`, string(req.Kind)).Scan(&found); err != nil {
		return fmt.Errorf("look up the %s integration: %w", req.Kind, err)
	}
	if !found {
		return fmt.Errorf("%w: the tenant has no %s integration", action.ErrInvalid, req.Kind)
	}
	return nil
}
