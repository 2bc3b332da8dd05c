package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// Append writes an entry for the context's tenant inside tx, which must be a
// transaction opened by store.DB.WithTenant. The actor is Actor(ctx), so
// callers cannot write an entry on someone else's behalf. Event names what
// happened (e.g. "action.requested"), subject what it happened to (e.g.
// "action/<id>"); nil details are stored as an empty object.
func Append(ctx context.Context, tx pgx.Tx, event, subject string, details map[string]string) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	if details == nil {
		details = map[string]string{}
	}
	raw, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("encode audit details for %s: %w", event, err)
	}
	_, err = tx.Exec(ctx,
		`INSERT INTO audit_log (tenant_id, actor, event, subject, details) VALUES ($1, $2, $3, $4, $5)`,
		string(t), Actor(ctx), event, subject, raw)
	if err != nil {
		return fmt.Errorf("append audit entry %s for %s: %w", event, subject, err)
	}
	return nil
}

// Actor is the audit actor for ctx: the verified subject, or "system" when
// the identity carries none.
func Actor(ctx context.Context) string {
	if id, ok := tenant.FromContext(ctx); ok && id.Subject != "" {
		return id.Subject
	}
	return "system"
}
