package incident

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/alexus-platform/alexus/internal/tenant"
)

// onceConflict names the partial unique index that keeps each pipeline
// stage to once per incident (incident_transitions_once, as the latest
// migration defines it: the stages for which Stage.Once is true), so an
// insert of a stage stored already is skipped.
const onceConflict = `ON CONFLICT (tenant_id, incident_id, stage) WHERE stage IN ('received', 'classify', 'branch', 'confidence', 'execute', 'clarify', 'escalate', 'answered') DO NOTHING`

// ErrStageStored reports that a stage AddStages was given is stored
// already: another delivery of the same entry got there first. Nothing of
// the call was stored; the caller resumes from the stored stages.
var ErrStageStored = errors.New("stage already stored")

// triageNamespace derives triage item IDs from their incident and key, so
// a redelivered stage names the item it queued before.
var triageNamespace = uuid.MustParse("6c1b1d1e-52a1-4c43-9a55-2b7b6c1f0d1a")

// TriageItemID is the ID of the incident's triage item of key: the
// pipeline keys its items by their kind, the quality gate by
// StageQualityGate.
func TriageItemID(incidentID, key string) string {
	return uuid.NewSHA1(triageNamespace, []byte(incidentID+"/"+key)).String()
}

// ID is the item's ID: TriageItemID of its incident and key.
func (it *NewTriageItem) ID() string {
	return TriageItemID(it.IncidentID, cmp.Or(it.Key, it.Kind))
}

// AddStages stores us as the incident's next transitions, in order, and
// updates the incident once, all in one transaction sent in one round
// trip; a stage with a Triage item also queues that item, and one with a
// Ticket asks for the incident's ticket (handed to the Store's Tickets in
// the same transaction, as are answered stages of an incident with a
// ticket). When any stage that happens once is stored already, nothing is
// stored and the error wraps ErrStageStored.
func (s *Store) AddStages(ctx context.Context, incidentID string, us []StageUpdate) ([]Result, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	if len(us) == 0 {
		return nil, nil
	}
	stages := make([]string, len(us))
	summaries := make([]string, len(us))
	details := make([][]byte, len(us))
	var (
		last   StageUpdate
		ticket *TicketOpen
		follow bool
	)
	for i, u := range us {
		if u.Ticket != nil && s.tickets != nil {
			ticket = u.Ticket
		}
		follow = follow || (s.tickets != nil && u.Stage == StageAnswered)
		stages[i], summaries[i] = string(u.Stage), u.Summary
		if details[i], err = jsonMap(u.Details); err != nil {
			return nil, fmt.Errorf("encode %s details of incident %s: %w", u.Stage, incidentID, err)
		}
		last = last.then(u)
	}
	var out []Result
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT id::text FROM incidents WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, string(t), incidentID)
		// The partial unique index turns a stage stored by another delivery
		// into a skipped row; the count of rows returned tells.
		b.Queue(`
			INSERT INTO incident_transitions (tenant_id, incident_id, sequence, stage, summary, details)
			SELECT $1, $2, coalesce((SELECT max(sequence) FROM incident_transitions WHERE tenant_id = $1 AND incident_id = $2), 0) + u.ord, u.stage, u.summary, u.details
			FROM unnest($3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY AS u(stage, summary, details, ord)
			`+onceConflict+`
			RETURNING incident_id::text, sequence, stage, summary, details, at`,
			string(t), incidentID, stages, summaries, details)
		for _, u := range us {
			if it := u.Triage; it != nil {
				if err := queueTriage(b, t, it, true); err != nil {
					return err
				}
			}
		}
		if ticket != nil {
			queueTicketOpen(b, t, incidentID, ticket)
		}
		b.Queue(updateIncident, updateIncidentArgs(t, incidentID, last)...)
		b.Queue(selectIncident+` WHERE i.tenant_id = $1 AND i.id = $2`, string(t), incidentID)
		br := tx.SendBatch(ctx, b)
		defer br.Close()

		var locked string
		if err := br.QueryRow().Scan(&locked); errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("incident %s: %w", incidentID, ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("lock incident %s: %w", incidentID, err)
		}
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("insert transitions of incident %s: %w", incidentID, err)
		}
		trs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Transition, error) { return scanTransition(r) })
		if err != nil {
			return fmt.Errorf("insert transitions of incident %s: %w", incidentID, err)
		}
		if len(trs) != len(us) {
			return fmt.Errorf("store %d stages of incident %s: %w", len(us), incidentID, ErrStageStored)
		}
		for _, u := range us {
			if u.Triage != nil {
				if _, err := br.Exec(); err != nil {
					return fmt.Errorf("queue %s item of incident %s: %w", u.Triage.Kind, incidentID, err)
				}
			}
		}
		opened := false
		if ticket != nil {
			tag, err := br.Exec()
			if err != nil {
				return fmt.Errorf("record the ticket request of incident %s: %w", incidentID, err)
			}
			opened = tag.RowsAffected() == 1
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("update incident %s: %w", incidentID, err)
		}
		rows, err = br.Query()
		if err != nil {
			return fmt.Errorf("load incident %s: %w", incidentID, err)
		}
		inc, err := pgx.CollectExactlyOneRow(rows, scanIncident)
		if err != nil {
			return fmt.Errorf("load incident %s: %w", incidentID, err)
		}
		for _, tr := range trs {
			out = append(out, Result{Incident: inc, Transition: tr, New: true})
		}
		if !opened && !follow {
			return nil
		}
		// The ticket's jobs are queued in this transaction, after the batch.
		if err := br.Close(); err != nil {
			return fmt.Errorf("store stages of incident %s: %w", incidentID, err)
		}
		if opened {
			if err := s.tickets.Open(ctx, tx, inc, *ticket); err != nil {
				return fmt.Errorf("queue the ticket of incident %s: %w", incidentID, err)
			}
			// A person acknowledged or resolved the incident while the
			// pipeline decided: the new ticket follows that status too.
			if inc.Status != StatusOpen {
				tr, err := scanTransition(tx.QueryRow(ctx, selectTransition+`
					WHERE tenant_id = $1 AND incident_id = $2 AND stage IN ('resolved', 'acknowledged', 'reopened')
					ORDER BY sequence DESC LIMIT 1`, string(t), incidentID))
				if err != nil {
					return fmt.Errorf("look up the status change of incident %s: %w", incidentID, err)
				}
				if err := s.followTicket(ctx, tx, t, inc, tr); err != nil {
					return err
				}
			}
		}
		if follow {
			for _, tr := range trs {
				if tr.Stage == StageAnswered {
					if err := s.followTicket(ctx, tx, t, inc, tr); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queueTriage adds the insert of a triage item to b; an item of the same
// incident and key stored before is kept. With closeIfResolved, an item
// whose incident is resolved by then (a person resolved it while a model
// answered a stage) is stored closed, as the resolution would have closed
// it, which costs a look at the incident. A new incident's items
// (OpenFresh) cannot be resolved yet, and the quality gate's escalation,
// which is about a resolution, stays open: both are stored open.
func queueTriage(b *pgx.Batch, t tenant.ID, it *NewTriageItem, closeIfResolved bool) error {
	diag, err := protojson.Marshal(it.Diagnosis)
	if err != nil {
		return fmt.Errorf("encode the diagnosis of incident %s: %w", it.IncidentID, err)
	}
	var action []byte
	if a := it.Diagnosis.GetRecommendedAction(); a != nil {
		if action, err = protojson.Marshal(a); err != nil {
			return fmt.Errorf("encode the action of incident %s: %w", it.IncidentID, err)
		}
	}
	args := []any{string(t), it.ID(), it.IncidentID, it.Kind, it.Question, it.Route, it.RouteReason, diag, action}
	if !closeIfResolved {
		b.Queue(`
			INSERT INTO triage_items (tenant_id, id, incident_id, kind, question, route, route_reason, diagnosis, recommended_action)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (tenant_id, id) DO NOTHING`, args...)
		return nil
	}
	b.Queue(`
		INSERT INTO triage_items (tenant_id, id, incident_id, kind, question, route, route_reason, diagnosis, recommended_action,
		                          state, closed_at)
		SELECT $1, $2, i.id, $4, $5, $6, $7, $8, $9,
		       CASE WHEN i.status = 'resolved' THEN 'closed' ELSE 'open' END,
		       CASE WHEN i.status = 'resolved' THEN now() END
		FROM incidents i WHERE i.tenant_id = $1 AND i.id = $3
		ON CONFLICT (tenant_id, id) DO NOTHING`, args...)
	return nil
}

// cmpPtr is p when set, else def: the later stage's field wins.
func cmpPtr[T any](p, def *T) *T {
	if p != nil {
		return p
	}
	return def
}
