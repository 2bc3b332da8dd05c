package incident

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
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

// MaxResumeSweeps is how many times the sweep queues one answer's resume.
// An answer whose resume keeps failing ends in the dead-letter stream like
// any entry; the sweep does not bring it back for ever.
const MaxResumeSweeps = 3

// resumeSweepBatch bounds the answers one sweep claims per tenant; the
// next sweep takes the rest.
const resumeSweepBatch = 500

// unresumed is the condition on triage_items q joined with incidents i of
// an answer the sweep may claim, its parameters being the grace period
// ($2) and MaxResumeSweeps ($3); alexus_unresumed_answer_tenants (migration
// 00023) states the same condition for every tenant. An answer given before
// the incident's latest resolution is void, even once it is reopened.
const unresumed = `q.kind = 'clarify' AND q.state = 'answered'
	AND q.answered_at < now() - $2::interval AND q.answered_at > now() - interval '7 days'
	AND q.resume_sweeps < $3 AND (q.resume_swept_at IS NULL OR q.resume_swept_at < now() - $2::interval)
	AND i.status <> 'resolved'
	AND NOT EXISTS (SELECT FROM incident_transitions tr
	                WHERE tr.tenant_id = q.tenant_id AND tr.incident_id = q.incident_id
	                  AND (tr.stage = 'answered' OR (tr.stage = 'resolved' AND tr.at > q.answered_at)))`

// UnresumedTenants returns the tenants with answers the resume sweep may
// claim (see ClaimUnresumed), for the sweep, which runs for no tenant in
// particular: the SECURITY DEFINER function alexus_unresumed_answer_tenants
// answers with tenant ids and nothing else.
func (s *Store) UnresumedTenants(ctx context.Context, grace time.Duration) ([]tenant.ID, error) {
	rows, err := s.db.Pool().Query(ctx, `SELECT t FROM alexus_unresumed_answer_tenants($1, $2) AS t ORDER BY t`, grace, MaxResumeSweeps)
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

// ClaimUnresumed claims, for the context tenant, up to limit clarify
// questions answered more than grace ago (and within the last week) whose
// incident is neither resolved (nor resolved since the answer) nor resumed
// (it has no answered stage), and
// which were not swept MaxResumeSweeps times nor within grace; it counts
// the sweep on each and returns them, oldest answer first. A replica
// sweeping at the same time skips the rows claimed here, and after the
// claim commits finds them swept too recently.
func (s *Store) ClaimUnresumed(ctx context.Context, grace time.Duration, limit int) ([]Unresumed, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	var out []Unresumed
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			WITH claim AS (
				SELECT q.id, i.signal_id, q.answered_at FROM triage_items q
				JOIN incidents i ON i.tenant_id = q.tenant_id AND i.id = q.incident_id
				WHERE q.tenant_id = $1 AND `+unresumed+`
				ORDER BY q.answered_at, q.id LIMIT $4
				FOR UPDATE OF q SKIP LOCKED
			)
			UPDATE triage_items q SET resume_sweeps = q.resume_sweeps + 1, resume_swept_at = now()
			FROM claim WHERE q.tenant_id = $1 AND q.id = claim.id
			RETURNING claim.signal_id::text, q.id::text, claim.answered_at`, string(t), grace, MaxResumeSweeps, limit)
		if err != nil {
			return fmt.Errorf("claim unresumed answers: %w", err)
		}
		type claimed struct {
			Unresumed
			at time.Time
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
			var c claimed
			return c, r.Scan(&c.SignalID, &c.ItemID, &c.at)
		})
		if err != nil {
			return fmt.Errorf("claim unresumed answers: %w", err)
		}
		// RETURNING keeps no order; the oldest answer goes first.
		slices.SortFunc(got, func(a, b claimed) int { return cmp.Or(a.at.Compare(b.at), strings.Compare(a.ItemID, b.ItemID)) })
		out = make([]Unresumed, len(got))
		for k, c := range got {
			out[k] = c.Unresumed
		}
		return nil
	})
	return out, err
}

// SweepUnresumed queues the resume event again for every clarify answer the
// context-free sweep may claim (ClaimUnresumed with grace): its process
// died between storing the answer and queueing the event, and its caller
// did not retry. grace must outlast the pipeline's own redelivery of a
// resume (the consumer's claim idle time times its deliveries), so that a
// resume that is only slow is not queued again; one queued twice anyway is
// harmless, as the pipeline runs an answered incident's stages once (see
// pipeline.Processor). It returns how many events it queued; one tenant's
// failure is logged and does not stop the others.
func SweepUnresumed(ctx context.Context, s *Store, f *Feed, grace time.Duration, log *zap.Logger) (int, error) {
	tenants, err := s.UnresumedTenants(ctx, grace)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, t := range tenants {
		tctx := tenant.WithIdentity(ctx, tenant.Identity{Tenant: t, Subject: "system:resume-sweep"})
		answers, err := s.ClaimUnresumed(tctx, grace, resumeSweepBatch)
		if err != nil {
			log.Warn("resume sweep: claiming answers failed", zap.String("tenant_id", string(t)), zap.Error(err))
			continue
		}
		for _, a := range answers {
			if err := f.Resume(tctx, a.SignalID, a.ItemID); err != nil {
				// Claimed but not queued: the next sweep after grace tries
				// again, while its sweeps last.
				log.Warn("resume sweep: queueing a resume failed", zap.String("tenant_id", string(t)), zap.String("triage_item_id", a.ItemID), zap.Error(err))
				break
			}
			queued++
			log.Info("resume sweep: queued the resume of an answered question", zap.String("tenant_id", string(t)), zap.String("triage_item_id", a.ItemID))
		}
	}
	return queued, nil
}
