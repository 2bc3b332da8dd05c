package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// Append writes an entry for the context's tenant inside tx, which must be a
// transaction opened by store.DB.WithTenant. The actor is Actor(ctx), so
// callers cannot write an entry on someone else's behalf. Event names what
// happened (e.g. "action.requested"), subject what it happened to (e.g.
// "action/<id>"); nil details are stored as an empty object.
//
// The entry is linked into the tenant's hash chain: Append locks the
// tenant's chain head until tx ends, so a second transaction appending for
// the same tenant waits for this one (keep audited transactions short), and
// it fails rather than write a row off the chain.
func Append(ctx context.Context, tx pgx.Tx, event, subject string, details map[string]string) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	rec := Record{
		Tenant:  string(t),
		Actor:   Actor(ctx),
		Event:   event,
		Subject: subject,
		Details: CanonicalStrings(details),
	}

	// Create the head on the tenant's first entry and lock it, in one round
	// trip. The insert waits for a concurrent first insert and then does
	// nothing; the locking read, a statement of its own, sees the head that
	// transaction committed.
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO audit_chain_heads (tenant_id) VALUES ($1) ON CONFLICT (tenant_id) DO NOTHING`, rec.Tenant)
	b.Queue(`SELECT seq, hash, now() FROM audit_chain_heads WHERE tenant_id = $1 FOR UPDATE`, rec.Tenant)
	var (
		headSeq int64
		at      time.Time
	)
	br := tx.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&headSeq, &rec.PrevHash, &at)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("lock audit chain head for %s: %w", event, err)
	}
	rec.Seq = headSeq + 1
	// now() is the transaction's start, as the column's default was; it has
	// microsecond precision, which is what the encoding keeps.
	rec.At = at
	hash := rec.Hash()

	_, err = tx.Exec(ctx, `
		WITH entry AS (
			INSERT INTO audit_log (tenant_id, seq, at, actor, event, subject, details, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		)
		UPDATE audit_chain_heads SET seq = $2, hash = $9 WHERE tenant_id = $1`,
		rec.Tenant, rec.Seq, rec.At, rec.Actor, rec.Event, rec.Subject, rec.Details, rec.PrevHash, hash[:])
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
