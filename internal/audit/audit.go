package audit

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// Append writes an entry for the context's tenant inside tx, which must be a
// transaction opened by store.DB.WithTenant. The actor is Actor(ctx), so
// callers cannot write an entry on someone else's behalf. Event names what
// happened (e.g. "action.requested"), subject what it happened to (e.g.
// "action/<id>"); nil details are stored as an empty object. The entry's
// time is the transaction's start (now()).
//
// The entry is written without its link in the tenant's hash chain (seq,
// prev_hash and hash are NULL) and Append takes no lock, so audited
// transactions of one tenant run side by side. Chain links it later, in id
// order: the action plane's leader does so about every second, and Verify
// before it checks.
func Append(ctx context.Context, tx pgx.Tx, event, subject string, details map[string]string) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (tenant_id, actor, event, subject, details) VALUES ($1, $2, $3, $4, $5)`,
		string(t), Actor(ctx), event, subject, CanonicalStrings(details))
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
