package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// Unresumed is an answered clarify question whose incident has not resumed.
type Unresumed struct {
	// SignalID is the incident's signal, which the resume event names.
	SignalID string
	// ItemID is the answered triage item.
	ItemID string
}

// UnresumedTenants returns the tenants with a clarify question answered more
// than olderThan ago whose incident has not resumed, for the resume sweep,
// which runs for no tenant in particular: the SECURITY DEFINER function
// alexus_unresumed_answer_tenants answers with tenant ids and nothing else.
func (s *Store) UnresumedTenants(ctx context.Context, olderThan time.Duration) ([]tenant.ID, error) {
	rows, err := s.db.Pool().Query(ctx, `SELECT t FROM alexus_unresumed_answer_tenants($1) AS t ORDER BY t`, olderThan)
	if err != nil {
		return nil, fmt.Errorf("find tenants with unresumed answers: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find tenants with unresumed answers: %w", err)
	}
	out := make([]tenant.ID, 0, len(ids))
	for _, id := range ids {
		t, err := tenant.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("tenant with unresumed answers: %w", err)
		}
		out = append(out, t)
	}
	return out, nil
}

// UnresumedAnswers returns the context tenant's clarify questions answered
// more than olderThan ago, and within the last week, whose incident has not
// resumed (it has no answered stage), oldest answer first, at most limit.
func (s *Store) UnresumedAnswers(ctx context.Context, olderThan time.Duration, limit int) ([]Unresumed, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	var out []Unresumed
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT i.signal_id::text, q.id::text FROM triage_items q
			JOIN incidents i ON i.tenant_id = q.tenant_id AND i.id = q.incident_id
			WHERE q.tenant_id = $1 AND q.kind = 'clarify' AND q.state = 'answered'
			  AND q.answered_at < now() - $2::interval AND q.answered_at > now() - interval '7 days'
			  AND NOT EXISTS (SELECT FROM incident_transitions tr
			                  WHERE tr.tenant_id = q.tenant_id AND tr.incident_id = q.incident_id AND tr.stage = $3)
			ORDER BY q.answered_at, q.id LIMIT $4`, string(t), olderThan, string(StageAnswered), limit)
		if err != nil {
			return fmt.Errorf("list unresumed answers: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Unresumed, error) {
			var u Unresumed
			return u, r.Scan(&u.SignalID, &u.ItemID)
		})
		if err != nil {
			return fmt.Errorf("list unresumed answers: %w", err)
		}
		return nil
	})
	return out, err
}

// resumeSweepBatch bounds the answers one sweep resumes per tenant; the
// next sweep takes the rest.
const resumeSweepBatch = 500

// SweepUnresumed queues the resume event again for every clarify answer
// stored more than olderThan ago whose incident has not resumed: the
// answer's process died between storing it and queueing the event, and
// its caller did not retry. A resume that is only slow is queued twice,
// which is harmless: the pipeline runs an answered incident's stages once
// (see pipeline.Processor). It returns how many events it queued; one
// tenant's failure is logged and does not stop the others.
func SweepUnresumed(ctx context.Context, s *Store, f *Feed, olderThan time.Duration, log *zap.Logger) (int, error) {
	tenants, err := s.UnresumedTenants(ctx, olderThan)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, t := range tenants {
		tctx := tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: "system:resume-sweep"})
		answers, err := s.UnresumedAnswers(tctx, olderThan, resumeSweepBatch)
		if err != nil {
			log.Warn("resume sweep: listing answers failed", zap.String("tenant_id", string(t)), zap.Error(err))
			continue
		}
		for _, a := range answers {
			if err := f.Resume(tctx, a.SignalID, a.ItemID); err != nil {
				log.Warn("resume sweep: queueing a resume failed", zap.String("tenant_id", string(t)), zap.String("triage_item_id", a.ItemID), zap.Error(err))
				break
			}
			queued++
			log.Info("resume sweep: queued the resume of an answered question", zap.String("tenant_id", string(t)), zap.String("triage_item_id", a.ItemID))
		}
	}
	return queued, nil
}
