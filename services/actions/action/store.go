package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Audit events written by this package.
const (
	EventRequested     = "action.requested"
	EventSucceeded     = "action.succeeded"
	EventAttemptFailed = "action.attempt_failed"
	EventFailed        = "action.failed"
)

// Store records actions in Postgres, scoped to the context's tenant.
type Store struct {
	db      *store.DB
	enqueue Enqueuer
	checks  []Check
}

// NewStore returns a Store on db that schedules new actions with enqueue
// after vetting them with checks. A nil enqueue is allowed for a Store that
// only reads and records outcomes.
func NewStore(db *store.DB, enqueue Enqueuer, checks ...Check) *Store {
	return &Store{db: db, enqueue: enqueue, checks: checks}
}

const actionColumns = `id::text, idempotency_key, coalesce(incident_id::text, ''), kind, params, reason,
	status, result, attempts, created_at, updated_at`

// Execute records the action req asks for, its audit entry and its job in
// one transaction, and returns it. When the tenant already has an action
// with the same idempotency key it returns that one with replayed set and
// does nothing else, unless the stored action is a different one (another
// kind or incident), which is ErrKeyReused.
//
// Concurrent calls with the same key are safe: the unique key makes every
// insert but one wait for the first to commit and then do nothing, and the
// losers read the winner's row.
func (s *Store) Execute(ctx context.Context, req Request) (a Action, replayed bool, err error) {
	req, err = normalize(req)
	if err != nil {
		return Action{}, false, err
	}
	if s.enqueue == nil {
		return Action{}, false, errors.New("execute action: store has no enqueuer")
	}
	t, err := tenant.Require(ctx)
	if err != nil {
		return Action{}, false, err
	}
	var params []byte
	switch req.Kind {
	case KindNotify:
		params, err = json.Marshal(req.Notify)
	case KindRunbook:
		params, err = json.Marshal(req.Runbook)
	case KindJira, KindServiceNow:
		params, err = json.Marshal(req.Ticket)
	default:
		params, err = json.Marshal(req.Webhook)
	}
	if err != nil {
		return Action{}, false, fmt.Errorf("encode action params: %w", err)
	}
	var incident *string
	if req.IncidentID != "" {
		incident = &req.IncidentID
	}

	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		// The action and its audit entry in one statement; the entry is
		// written only when the action is new, and both roll back with
		// the transaction should a check or the enqueue fail.
		rows, err := tx.Query(ctx, `
			WITH ins AS (
				INSERT INTO actions (tenant_id, idempotency_key, incident_id, kind, params, reason)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
				RETURNING *
			), entry AS (
				INSERT INTO audit_log (tenant_id, actor, event, subject, details)
				SELECT $1, $7, $8, 'action/' || id::text, jsonb_build_object(
					'kind', kind,
					'target', $9::text,
					'incident_id', coalesce(incident_id::text, ''),
					'idempotency_key', idempotency_key)
				FROM ins
			)
			SELECT `+actionColumns+` FROM ins`,
			string(t), req.IdempotencyKey, incident, string(req.Kind), params, req.Reason,
			audit.Actor(ctx), EventRequested, req.Target())
		if err != nil {
			return fmt.Errorf("insert action: %w", err)
		}
		inserted, err := pgx.CollectRows(rows, scanAction)
		if err != nil {
			return fmt.Errorf("insert action: %w", err)
		}
		if len(inserted) == 0 {
			replayed = true
			a, err = getByKey(ctx, tx, req.IdempotencyKey)
			if err != nil {
				return err
			}
			if a.Kind != req.Kind || a.IncidentID != req.IncidentID {
				return ErrKeyReused
			}
			return nil
		}
		a = inserted[0]
		// Checked only for a new action: a replay returns the first
		// action as it was accepted, even if, say, the runbook's schema
		// changed since.
		for _, check := range s.checks {
			if err := check(ctx, tx, req); err != nil {
				return err
			}
		}
		if err := s.enqueue(ctx, tx, a); err != nil {
			return fmt.Errorf("enqueue action %s: %w", a.ID, err)
		}
		return nil
	})
	if err != nil {
		return Action{}, false, classify(err)
	}
	return a, replayed, nil
}

// Get returns the tenant's action with id, in one round trip.
func (s *Store) Get(ctx context.Context, id string) (Action, error) {
	return s.GetWith(ctx, id, nil, nil)
}

// GetWith is Get with more statements in the same round trip: queue adds
// them to the batch after the action's, and read reads their results once
// the action is read. Nil queue and read add nothing.
func (s *Store) GetWith(ctx context.Context, id string, queue func(*pgx.Batch), read func(pgx.BatchResults) error) (Action, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Action{}, ErrNotFound
	}
	var a Action
	b := &pgx.Batch{}
	b.Queue(`SELECT `+actionColumns+` FROM actions WHERE id = $1`, id)
	if queue != nil {
		queue(b)
	}
	err := s.db.Batch(ctx, b, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("load action %s: %w", id, err)
		}
		a, err = pgx.CollectExactlyOneRow(rows, scanAction)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load action %s: %w", id, err)
		}
		if read != nil {
			return read(br)
		}
		return nil
	})
	return a, err
}

// Outcome is what one run of an action's executor reports.
type Outcome struct {
	// Status is the action's status afterwards: pending when the executor
	// will try again, succeeded or failed when it is done.
	Status Status
	// Result says what happened, e.g. "HTTP 204" or "timeout".
	Result string
	// Attempt is the executor's attempt number, for the audit entry.
	Attempt int
}

// Record counts one executor run of the pending action id, stores its
// result and status, and audits it, in one transaction. An action that is
// no longer pending is left alone and ErrNotPending returned, so a
// redelivered job can never overwrite or re-audit a final outcome.
func (s *Store) Record(ctx context.Context, id string, o Outcome) error {
	event := EventAttemptFailed
	switch o.Status {
	case StatusSucceeded:
		event = EventSucceeded
	case StatusFailed:
		event = EventFailed
	case StatusPending:
	default:
		return fmt.Errorf("record outcome of action %s: unknown status %q", id, o.Status)
	}
	t, err := tenant.Require(ctx)
	if err != nil {
		return err
	}
	// One statement, one round trip: the update and its audit entry, which
	// is written only when the update matched (data-modifying CTEs run
	// whether or not the outer query reads them). The details are those
	// of audit.Append, built in SQL from the updated row; jsonb stores them
	// the same either way. The status test is written so that no index
	// can serve it: otherwise the planner may pick actions_status_newest
	// (tenant, status, ...) over the primary key and scan every pending
	// action of the tenant to find this one, which under a backlog costs
	// the whole backlog per outcome.
	b := &pgx.Batch{}
	b.Queue(`
		WITH upd AS (
			UPDATE actions SET status = $2, result = $3, attempts = attempts + 1, updated_at = now()
			WHERE id = $1 AND (status = 'pending') IS TRUE
			RETURNING *
		), entry AS (
			INSERT INTO audit_log (tenant_id, actor, event, subject, details)
			SELECT $4, $5, $6, 'action/' || id::text, jsonb_build_object(
				'kind', kind,
				'target', CASE WHEN kind IN ('jira', 'servicenow') THEN kind ELSE coalesce(params->>'target', '') END,
				'attempt', $7::text,
				'result', $3::text)
			FROM upd
		)
		SELECT count(*) FROM upd`,
		id, string(o.Status), o.Result, string(t), audit.Actor(ctx), event, strconv.Itoa(o.Attempt))
	return s.db.Batch(ctx, b, func(br pgx.BatchResults) error {
		var n int
		if err := br.QueryRow().Scan(&n); err != nil {
			return fmt.Errorf("record outcome of action %s: %w", id, err)
		}
		if n == 0 {
			return ErrNotPending
		}
		return nil
	})
}

func getByKey(ctx context.Context, tx pgx.Tx, key string) (Action, error) {
	rows, err := tx.Query(ctx, `SELECT `+actionColumns+` FROM actions WHERE idempotency_key = $1`, key)
	if err != nil {
		return Action{}, fmt.Errorf("load action by idempotency key: %w", err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanAction)
	if err != nil {
		// The insert conflicted, so the row exists and is committed; not
		// finding it means the winner vanished in between, which a retry
		// of the whole call resolves.
		return Action{}, fmt.Errorf("load action by idempotency key: %w", err)
	}
	return a, nil
}

func scanAction(row pgx.CollectableRow) (Action, error) {
	var (
		a      Action
		kind   string
		status string
		params []byte
	)
	err := row.Scan(&a.ID, &a.IdempotencyKey, &a.IncidentID, &kind, &params, &a.Reason,
		&status, &a.Result, &a.Attempts, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return Action{}, err
	}
	a.Kind, a.Status = Kind(kind), Status(status)
	if len(params) > 0 {
		var dst any = &a.Webhook
		switch a.Kind {
		case KindNotify:
			dst = &a.Notify
		case KindRunbook:
			dst = &a.Runbook
		case KindJira, KindServiceNow:
			dst = &a.Ticket
		}
		if err := json.Unmarshal(params, dst); err != nil {
			return Action{}, fmt.Errorf("decode params of action %s: %w", a.ID, err)
		}
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, nil
}

// foreignKeyViolation is Postgres SQLSTATE 23503.
const foreignKeyViolation = "23503"

// classify turns a foreign-key failure on the tenant into ErrUnknownTenant
// and leaves every other error as it is.
func classify(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == foreignKeyViolation && pg.ConstraintName == "actions_tenant_id_fkey" {
		return fmt.Errorf("%w: %w", ErrUnknownTenant, err)
	}
	return err
}

// TicketOpPending reports whether the tenant has a pending action of kind
// (a ticket kind) for the incident that does op, other than the action
// except: the executors use it so that a SET_STATE or COMMENT that finds no
// ticket yet waits for the OPEN that is still on its way.
func (s *Store) TicketOpPending(ctx context.Context, kind Kind, incidentID string, op TicketOperation, except string) (bool, error) {
	var pending bool
	err := s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT FROM actions
				WHERE status = 'pending' AND kind = $1 AND incident_id = $2 AND params->>'operation' = $3 AND id::text <> $4)`,
			string(kind), incidentID, string(op), except).Scan(&pending)
	})
	if err != nil {
		return false, fmt.Errorf("look for a pending %s %s action of incident %s: %w", kind, op, incidentID, err)
	}
	return pending, nil
}
