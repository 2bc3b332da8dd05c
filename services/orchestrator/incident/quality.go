package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// How a recurrence matched the resolved incident.
const (
	// MatchFingerprint: the same alert came back (same fingerprint).
	MatchFingerprint = "fingerprint"
	// MatchResource: another incident on the same resource.
	MatchResource = "resource"
)

// Recurrence is an incident that came back after another was resolved.
type Recurrence struct {
	IncidentID string
	Title      string
	// By is MatchFingerprint or MatchResource.
	By string
	// ReceivedAt is when its signal arrived.
	ReceivedAt time.Time
}

// Recurrence returns the first incident of the context's tenant, other
// than inc, whose signal arrived after from and no later than to and
// either has inc's fingerprint or concerns inc's (non-empty) resource. An
// incident on the same resource counts unless it was classified as
// something other than an incident (a CMDB question, a change notice,
// noise); the same fingerprint counts whatever it was classified as. ok is
// false when there is none. Row-level security and the tenant filter keep
// other tenants' incidents out.
func (s *Store) Recurrence(ctx context.Context, inc Incident, from, to time.Time) (Recurrence, bool, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Recurrence{}, false, err
	}
	var (
		out   Recurrence
		found bool
	)
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT i.id::text, s.title, CASE WHEN $3 <> '' AND s.fingerprint = $3 THEN 'fingerprint' ELSE 'resource' END, s.received_at
			FROM incidents i
			JOIN signals s ON s.tenant_id = i.tenant_id AND s.id = i.signal_id
			WHERE i.tenant_id = $1 AND i.id <> $2
			  AND s.received_at > $5 AND s.received_at <= $6
			  AND (($3 <> '' AND s.fingerprint = $3)
			       OR ($4 <> '' AND s.resource = $4 AND i.intent NOT IN ('cmdb_question', 'change_notice', 'noise')))
			ORDER BY s.received_at, i.id
			LIMIT 1`,
			string(t), inc.ID, inc.Fingerprint, inc.Resource, from, to).Scan(&out.IncidentID, &out.Title, &out.By, &out.ReceivedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("look for a recurrence of incident %s: %w", inc.ID, err)
		}
		found = true
		return nil
	})
	if err != nil {
		return Recurrence{}, false, err
	}
	return out, found, nil
}

// Verdict is the quality gate's finding on a resolution.
type Verdict struct {
	// Quality is QualityValidated or QualityIneffective.
	Quality Quality
	Summary string
	Details map[string]string
	// Triage, when set, is queued with the verdict.
	Triage *NewTriageItem
	// ResolvedAt is when the resolution the verdict judges happened: the
	// incident's resolved_at as the gate read it.
	ResolvedAt time.Time
}

// RecordVerdict stores v as the incident's quality_gate transition, sets
// its resolution quality and stage, and queues v's triage item, all in one
// transaction. The verdict is stored once per resolution: when the
// incident has one after its latest resolution already, that one is
// returned with New false and nothing changes. An incident no longer
// resolved at v.ResolvedAt (it was reopened since the gate read it) is
// ErrResolutionChanged; one the tenant does not have is ErrNotFound.
func (s *Store) RecordVerdict(ctx context.Context, id string, v Verdict) (Result, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Result{}, err
	}
	if v.Quality != QualityValidated && v.Quality != QualityIneffective {
		return Result{}, fmt.Errorf("record quality gate of incident %s: quality %q is not a verdict", id, v.Quality)
	}
	var out Result
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		if err := lockByID(ctx, tx, t, id); err != nil {
			return err
		}
		inc, err := loadIncident(ctx, tx, t, id)
		if err != nil {
			return err
		}
		if inc.Status != StatusResolved || inc.ResolvedAt == nil || !inc.ResolvedAt.Equal(v.ResolvedAt) {
			return fmt.Errorf("record quality gate of incident %s resolved at %s: %w", id, v.ResolvedAt.UTC().Format(time.RFC3339Nano), ErrResolutionChanged)
		}
		tr, err := scanTransition(tx.QueryRow(ctx, selectTransition+`
			WHERE tenant_id = $1 AND incident_id = $2 AND stage = 'quality_gate'
			  AND sequence > (SELECT coalesce(max(sequence), 0) FROM incident_transitions
			                  WHERE tenant_id = $1 AND incident_id = $2 AND stage = 'resolved')
			ORDER BY sequence DESC LIMIT 1`, string(t), id))
		if err == nil {
			out = Result{Incident: inc, Transition: tr}
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("look up the quality gate of incident %s: %w", id, err)
		}
		res, err := addTransition(ctx, tx, t, id, StageUpdate{Stage: StageQualityGate, Summary: v.Summary, Details: v.Details})
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		if v.Triage != nil {
			if err := queueTriage(b, t, v.Triage, false); err != nil {
				return err
			}
		}
		// The verdict is the incident's latest step, so it becomes its
		// stage even though the incident is resolved.
		b.Queue(`
			UPDATE incidents SET stage = $3, resolution_quality = $4, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, string(t), id, string(StageQualityGate), string(v.Quality))
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("record quality gate of incident %s: %w", id, err)
		}
		if res.Incident, err = loadIncident(ctx, tx, t, id); err != nil {
			return err
		}
		out = res
		return s.followTicket(ctx, tx, t, res.Incident, res.Transition)
	})
	if err != nil {
		return Result{}, err
	}
	return out, nil
}
