package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// Entry is one row of the audit log.
type Entry struct {
	// ID is the entry's position in the tenant's log; it only grows.
	ID int64
	// At is when the entry was written.
	At time.Time
	// Actor is the verified subject or a plane's system identity.
	Actor string
	// Event names what happened, e.g. "action.requested".
	Event string
	// Subject names what it happened to, e.g. "action/<id>".
	Subject string
	// Details are the event's key/value pairs.
	Details map[string]string
}

// Append writes an entry for the context's tenant inside tx, which must be a
// transaction opened by store.DB.WithTenant. The actor is the context's
// subject, so callers cannot write an entry on someone else's behalf.
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

// decodeDetails turns the stored jsonb object into string pairs. Other
// planes may store numbers, booleans or nested values; those keep their JSON
// text rather than being dropped, so nothing recorded is hidden from a
// reader.
func decodeDetails(raw []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(raw) == 0 {
		return out, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("decode audit details: %w", err)
	}
	for k, v := range fields {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		out[k] = string(v)
	}
	return out, nil
}
