package incident

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Triage item kinds and states, as stored.
const (
	TriageClarify  = "clarify"
	TriageEscalate = "escalate"
	triageOpen     = "open"
	triageAnswered = "answered"
)

// Audit events of the triage queue: a person's answer, and a change of
// the tenant's settings.
const (
	EventTriageAnswered    = "triage_item.answered"
	EventTriageSettingsSet = "triage_settings.set"
)

// Errors of the triage queue.
var (
	// ErrTriageNotFound: the tenant has no such triage item.
	ErrTriageNotFound = errors.New("triage item not found")
	// ErrAlreadyAnswered: the item was answered with another text.
	ErrAlreadyAnswered = errors.New("triage item already answered")
	// ErrTriageClosed: the item's incident was resolved before the item
	// was answered.
	ErrTriageClosed = errors.New("triage item closed: its incident was resolved")
)

// NewTriageItem is what the pipeline puts in the triage queue.
type NewTriageItem struct {
	IncidentID string
	Kind       string
	// Key names the item among its incident's items and derives its ID
	// (TriageItemID); empty means Kind. An incident holds one item per key.
	Key      string
	Question string
	Route    string
	// RouteReason says how Route was chosen.
	RouteReason string
	Diagnosis   *reasoningv1.Diagnosis
}

// TriageItem returns one item of the context's tenant.
func (s *Store) TriageItem(ctx context.Context, id string) (*orchestratorv1.TriageItem, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, fmt.Errorf("triage item %q: %w", id, ErrTriageNotFound)
	}
	var out *orchestratorv1.TriageItem
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		out, err = scanTriage(tx.QueryRow(ctx, selectTriage+` WHERE q.tenant_id = $1 AND q.id = $2`, string(t), id))
		return err
	})
	return out, err
}

// Answer records a person's answer to an item. It reports whether the
// item changed: answering again with the same text changes nothing (so a
// retried call is safe), with another text is ErrAlreadyAnswered. An item
// closed because its incident was resolved is ErrTriageClosed.
func (s *Store) Answer(ctx context.Context, id, answer string) (*orchestratorv1.TriageItem, bool, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, false, err
	}
	idn, _ := tenant.FromContext(ctx)
	answer = strings.TrimSpace(answer)
	if _, err := uuid.Parse(id); err != nil {
		return nil, false, fmt.Errorf("triage item %q: %w", id, ErrTriageNotFound)
	}
	var (
		out     *orchestratorv1.TriageItem
		changed bool
	)
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE triage_items SET state = 'answered', answer = $3, answered_by = $4, answered_at = now()
			WHERE tenant_id = $1 AND id = $2 AND state = 'open'`, string(t), id, answer, idn.Subject)
		if err != nil {
			return fmt.Errorf("answer triage item %s: %w", id, err)
		}
		changed = tag.RowsAffected() == 1
		out, err = scanTriage(tx.QueryRow(ctx, selectTriage+` WHERE q.tenant_id = $1 AND q.id = $2`, string(t), id))
		if err != nil {
			return err
		}
		if !changed && out.GetState() == orchestratorv1.TriageState_TRIAGE_STATE_CLOSED {
			return fmt.Errorf("triage item %s: %w", id, ErrTriageClosed)
		}
		if !changed && out.GetAnswer() != answer {
			return fmt.Errorf("triage item %s was answered by %s: %w", id, out.GetAnsweredBy(), ErrAlreadyAnswered)
		}
		if !changed {
			return nil
		}
		return audit.Append(ctx, tx, EventTriageAnswered, "triage_item/"+id, map[string]string{
			"incident_id": out.GetIncidentId(), "kind": EnumText(out.GetKind().String(), "TRIAGE_KIND_"), "answer": answer,
		})
	})
	if err != nil {
		return nil, false, err
	}
	return out, changed, nil
}

// TriageFilter narrows ListTriage; empty fields match everything.
type TriageFilter struct {
	Kind, State string
}

// ListTriage returns one page of the tenant's triage items, newest first.
func (s *Store) ListTriage(ctx context.Context, f TriageFilter, pageSize int, pageToken string) ([]*orchestratorv1.TriageItem, string, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, "", err
	}
	pageSize, after, err := pageOf(pageSize, DefaultPageSize, MaxPageSize, pageToken)
	if err != nil {
		return nil, "", err
	}
	var out []*orchestratorv1.TriageItem
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		args := []any{string(t), f.Kind, f.State, pageSize + 1}
		where := `WHERE q.tenant_id = $1 AND ($2 = '' OR q.kind = $2) AND ($3 = '' OR q.state = $3)`
		if after != nil {
			args = append(args, after.at, after.id)
			where += ` AND (q.created_at, q.id) < ($5, $6::uuid)`
		}
		rows, err := tx.Query(ctx, selectTriage+where+` ORDER BY q.created_at DESC, q.id DESC LIMIT $4`, args...)
		if err != nil {
			return fmt.Errorf("list triage items: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*orchestratorv1.TriageItem, error) { return scanTriage(r) })
		if err != nil {
			return fmt.Errorf("list triage items: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, pageSize, func(it *orchestratorv1.TriageItem) cursor {
		return cursor{at: it.GetCreatedAt().AsTime(), id: it.GetId()}
	})
	return out, next, nil
}

// TriageSettings are a tenant's triage settings.
type TriageSettings struct {
	// DefaultRoute is where escalations go when the affected CI has no
	// owner; empty for nowhere.
	DefaultRoute string
	// TicketSystem is TicketJira, TicketServiceNow, or empty for no
	// tickets.
	TicketSystem string
	// TicketEveryIncident opens a ticket for every decided incident, not
	// only for escalated ones; it does nothing without a TicketSystem.
	TicketEveryIncident bool
}

// Settings returns the tenant's triage settings, as this replica last read
// them (within a few seconds).
func (s *Store) Settings(ctx context.Context) (TriageSettings, error) { return s.settings.Get(ctx) }

// DefaultRoute is where the tenant's escalations go when the affected CI
// has no owner; empty when the tenant set none.
func (s *Store) DefaultRoute(ctx context.Context) (string, error) {
	st, err := s.settings.Get(ctx)
	return st.DefaultRoute, err
}

func (s *Store) readSettings(ctx context.Context) (TriageSettings, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return TriageSettings{}, err
	}
	var st TriageSettings
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT default_route, ticket_system, ticket_every_incident FROM tenant_triage_settings WHERE tenant_id = $1`,
			string(t)).Scan(&st.DefaultRoute, &st.TicketSystem, &st.TicketEveryIncident)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return TriageSettings{}, fmt.Errorf("read the triage settings: %w", err)
	}
	return st, nil
}

// SetDefaultRoute replaces the tenant's default escalation route and
// leaves its other settings as they are.
func (s *Store) SetDefaultRoute(ctx context.Context, route string) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	// Forgotten once the change is committed (or not), so no read of the
	// old route is cached after it.
	defer s.settings.Forget(t)
	return s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO tenant_triage_settings (tenant_id, default_route) VALUES ($1, $2)
			ON CONFLICT (tenant_id) DO UPDATE SET default_route = excluded.default_route, updated_at = now()`,
			string(t), route)
		if err != nil {
			return fmt.Errorf("set the default escalation route: %w", err)
		}
		return audit.Append(ctx, tx, EventTriageSettingsSet, "triage_settings", map[string]string{"default_route": route})
	})
}

// SetSettings replaces the tenant's triage settings. A TicketSystem other
// than TicketJira, TicketServiceNow or empty is refused.
func (s *Store) SetSettings(ctx context.Context, st TriageSettings) error {
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	if st.TicketSystem != "" && st.TicketSystem != TicketJira && st.TicketSystem != TicketServiceNow {
		return fmt.Errorf("set the triage settings: unknown ticket system %q", st.TicketSystem)
	}
	defer s.settings.Forget(t)
	return s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO tenant_triage_settings (tenant_id, default_route, ticket_system, ticket_every_incident) VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id) DO UPDATE SET default_route = excluded.default_route, ticket_system = excluded.ticket_system,
			  ticket_every_incident = excluded.ticket_every_incident, updated_at = now()`,
			string(t), st.DefaultRoute, st.TicketSystem, st.TicketEveryIncident)
		if err != nil {
			return fmt.Errorf("set the triage settings: %w", err)
		}
		return audit.Append(ctx, tx, EventTriageSettingsSet, "triage_settings", map[string]string{
			"default_route":         st.DefaultRoute,
			"ticket_system":         st.TicketSystem,
			"ticket_every_incident": strconv.FormatBool(st.TicketEveryIncident),
		})
	})
}

const selectTriage = `
	SELECT q.id::text, q.incident_id::text, q.kind, q.state, s.title, i.severity, q.question, q.route, q.route_reason,
	       q.diagnosis, q.recommended_action, q.answer, q.answered_by, q.created_at, q.answered_at, q.closed_at
	FROM triage_items q
	JOIN incidents i ON i.tenant_id = q.tenant_id AND i.id = q.incident_id
	JOIN signals s ON s.tenant_id = i.tenant_id AND s.id = i.signal_id `

func scanTriage(row pgx.Row) (*orchestratorv1.TriageItem, error) {
	var (
		it                    orchestratorv1.TriageItem
		kind, state, severity string
		diag, action          []byte
		created               time.Time
		answered, closed      *time.Time
	)
	err := row.Scan(&it.Id, &it.IncidentId, &kind, &state, &it.Title, &severity, &it.Question, &it.Route, &it.RouteReason,
		&diag, &action, &it.Answer, &it.AnsweredBy, &created, &answered, &closed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrTriageNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read triage item: %w", err)
	}
	it.Kind = orchestratorv1.TriageKind(orchestratorv1.TriageKind_value["TRIAGE_KIND_"+strings.ToUpper(kind)])
	it.State = orchestratorv1.TriageState(orchestratorv1.TriageState_value["TRIAGE_STATE_"+strings.ToUpper(state)])
	it.Severity = parseSeverity(severity)
	it.CreatedAt = timestamppb.New(created)
	if answered != nil {
		it.AnsweredAt = timestamppb.New(*answered)
	}
	if closed != nil {
		it.ClosedAt = timestamppb.New(*closed)
	}
	unmarshal := protojson.UnmarshalOptions{DiscardUnknown: true}
	it.Diagnosis = &reasoningv1.Diagnosis{}
	if err := unmarshal.Unmarshal(diag, it.Diagnosis); err != nil {
		return nil, fmt.Errorf("decode the diagnosis of triage item %s: %w", it.Id, err)
	}
	if action != nil {
		it.RecommendedAction = &reasoningv1.RecommendedAction{}
		if err := unmarshal.Unmarshal(action, it.RecommendedAction); err != nil {
			return nil, fmt.Errorf("decode the action of triage item %s: %w", it.Id, err)
		}
	}
	return &it, nil
}

// closeTriage closes incident id's open triage items as it is resolved,
// so the queue stops asking about it.
func closeTriage(ctx context.Context, tx pgx.Tx, t tenant.ID, id string) error {
	_, err := tx.Exec(ctx, `
		UPDATE triage_items SET state = 'closed', closed_at = now()
		WHERE tenant_id = $1 AND incident_id = $2 AND state = 'open'`, string(t), id)
	if err != nil {
		return fmt.Errorf("close the triage items of incident %s: %w", id, err)
	}
	return nil
}

// reopenTriage opens again the items that incident id's resolution closed,
// as the incident is reopened: its questions and hand-overs stand again.
// Resolution is the only thing that closes an item, so every closed item
// of the incident is one of those.
func reopenTriage(ctx context.Context, tx pgx.Tx, t tenant.ID, id string) error {
	_, err := tx.Exec(ctx, `
		UPDATE triage_items SET state = 'open', closed_at = NULL
		WHERE tenant_id = $1 AND incident_id = $2 AND state = 'closed'`, string(t), id)
	if err != nil {
		return fmt.Errorf("reopen the triage items of incident %s: %w", id, err)
	}
	return nil
}
