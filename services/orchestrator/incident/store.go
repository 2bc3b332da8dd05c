package incident

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/tenantcache"
)

// Store reads and writes the tenant's signals, incidents and transitions.
//
// Every write that adds a transition first locks the incident row, so the
// next sequence number is computed by one writer at a time even when two
// replicas handle events of the same incident at once.
type Store struct {
	db *store.DB
	// onResolve, when set, runs in the transaction of each resolution.
	onResolve ResolveHook
	// tickets, when set, queues the calls that keep incidents' tickets in
	// step, in the transactions that store what they follow.
	tickets Tickets
	// settings are the tenants' triage settings, read on every decision
	// (the ticket system) and escalation (the default route).
	settings *tenantcache.Cache[TriageSettings]
}

// settingsTTL is how long a replica routes escalations and opens tickets
// by a tenant's triage settings as it last read them; this replica's own
// changes apply at once.
const settingsTTL = 5 * time.Second

// ResolveHook runs inside the transaction that resolves an incident, with
// the incident as resolved, and reports whether it scheduled a quality
// gate for it; its error rolls the resolution back. The orchestrator
// schedules the quality gate with it, so a resolution is never stored
// without its gate, nor a gate without its resolution.
type ResolveHook func(ctx context.Context, tx pgx.Tx, inc Incident) (scheduled bool, err error)

// Option configures a Store.
type Option func(*Store)

// OnResolve runs hook in the transaction of every resolution the Store
// stores; the incidents it schedules a gate for get resolution quality
// pending.
func OnResolve(hook ResolveHook) Option { return func(s *Store) { s.onResolve = hook } }

// NewStore returns a Store over db.
func NewStore(db *store.DB, opts ...Option) *Store {
	s := &Store{db: db}
	s.settings = tenantcache.New(settingsTTL, s.readSettings)
	for _, o := range opts {
		o(s)
	}
	return s
}

// incidentNamespace seeds the deterministic incident IDs, so a signal opens
// the same incident ID however often its event is delivered.
var incidentNamespace = uuid.MustParse("5b1f7f0e-9f35-4c43-9d0e-2f6c1a7b9a11")

// IDFor returns the incident ID of the signal signalID of tenant t.
func IDFor(t tenant.ID, signalID string) string {
	return uuid.NewSHA1(incidentNamespace, []byte(string(t)+"/"+signalID)).String()
}

// Opened is the result of Open.
type Opened struct {
	// Incident is the incident as it stands.
	Incident Incident
	// Transitions are all of the incident's transitions, oldest first,
	// including those stored by earlier deliveries.
	Transitions []Transition
	// New is true when this call stored the received transition.
	New bool
}

// Open stores a new signal and its incident with a received transition. It
// is idempotent: a signal already stored is left as it is, and the
// incident's existing transitions are returned so the caller can resume
// after them.
func (s *Store) Open(ctx context.Context, sig *signalv1.Signal) (Opened, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Opened{}, err
	}
	if _, err := uuid.Parse(sig.GetId()); err != nil {
		return Opened{}, fmt.Errorf("open incident: signal id %q is not a UUID", sig.GetId())
	}
	rows, err := newSignalRows([]*signalv1.Signal{sig})
	if err != nil {
		return Opened{}, err
	}
	id := IDFor(t, sig.GetId())
	received := receivedUpdate(sig)
	receivedDetails, err := jsonMap(received.Details)
	if err != nil {
		return Opened{}, fmt.Errorf("encode received details of signal %s: %w", sig.GetId(), err)
	}
	var out Opened
	// One round trip: every statement is idempotent, so a redelivered
	// signal finds its rows and gets back the transitions stored so far.
	// A new incident starts at stage "received" by the column's default.
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(insertSignals, rows.args(t)...)
		b.Queue(`
			INSERT INTO incidents (tenant_id, id, signal_id, severity) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`,
			string(t), id, sig.GetId(), SeverityText(sig.GetSeverity()))
		b.Queue(`SELECT id::text FROM incidents WHERE tenant_id = $1 AND signal_id = $2 FOR UPDATE`, string(t), sig.GetId())
		b.Queue(`
			INSERT INTO incident_transitions (tenant_id, incident_id, sequence, stage, summary, details)
			SELECT $1, $2, coalesce((SELECT max(sequence) FROM incident_transitions WHERE tenant_id = $1 AND incident_id = $2), 0) + 1, $3, $4, $5
			`+onceConflict,
			string(t), id, string(StageReceived), received.Summary, receivedDetails)
		b.Queue(selectIncident+` WHERE i.tenant_id = $1 AND i.id = $2`, string(t), id)
		b.Queue(selectTransition+` WHERE tenant_id = $1 AND incident_id = $2 ORDER BY sequence`, string(t), id)
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		for _, what := range []string{"insert signal", "insert incident"} {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("%s %s: %w", what, sig.GetId(), err)
			}
		}
		var locked string
		if err := br.QueryRow().Scan(&locked); errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("signal %s: %w", sig.GetId(), ErrSignalNotFound)
		} else if err != nil {
			return fmt.Errorf("lock incident of signal %s: %w", sig.GetId(), err)
		}
		if locked != id {
			return fmt.Errorf("signal %s belongs to incident %s, not %s", sig.GetId(), locked, id)
		}
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("insert received transition of incident %s: %w", id, err)
		}
		out.New = tag.RowsAffected() == 1
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("load incident %s: %w", id, err)
		}
		if out.Incident, err = pgx.CollectExactlyOneRow(rows, scanIncident); err != nil {
			return fmt.Errorf("load incident %s: %w", id, err)
		}
		rows, err = br.Query()
		if err != nil {
			return fmt.Errorf("load transitions of incident %s: %w", id, err)
		}
		out.Transitions, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Transition, error) { return scanTransition(r) })
		if err != nil {
			return fmt.Errorf("load transitions of incident %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Opened{}, err
	}
	return out, nil
}

// StageUpdate is one transition to add and the incident fields it sets.
type StageUpdate struct {
	Stage   Stage
	Summary string
	Details map[string]string
	// Intent, Severity and Decision, when set, are written to the incident.
	Intent   *reasoningv1.Intent
	Severity *signalv1.Severity
	Decision *reasoningv1.Decision
	// Triage, when set, is queued with the stage (AddStages only).
	Triage *NewTriageItem
	// Ticket, when set, asks for the incident's ticket with the stage,
	// unless it was asked for before (AddStages only, and only with a
	// Store that has Tickets).
	Ticket *TicketOpen
}

// Repeat counts one more occurrence of the signal for the stream entry
// entryID and adds a repeated transition. Each entry counts once, in
// whatever order entries are processed: the applied entries are recorded
// in signal_events, so a redelivered entry changes nothing and returns New
// false, while an entry processed after a newer one still counts. A signal
// not stored yet is ErrSignalNotFound.
func (s *Store) Repeat(ctx context.Context, signalID, entryID string, seenAt time.Time) (Result, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Result{}, err
	}
	if _, err := uuid.Parse(signalID); err != nil {
		return Result{}, fmt.Errorf("repeat signal %q: %w", signalID, ErrSignalNotFound)
	}
	if entryID == "" {
		return Result{}, fmt.Errorf("repeat signal %s: empty stream entry id", signalID)
	}
	var out Result
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		id, err := lockBySignal(ctx, tx, t, signalID)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO signal_events (tenant_id, signal_id, stream_id, kind) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`,
			string(t), signalID, entryID, string(StageRepeated))
		if err != nil {
			return fmt.Errorf("record repeat %s of signal %s: %w", entryID, signalID, err)
		}
		if tag.RowsAffected() == 0 {
			// Already applied by an earlier delivery of this entry.
			out.Incident, err = loadIncident(ctx, tx, t, id)
			return err
		}
		var count int64
		err = tx.QueryRow(ctx, `
			UPDATE signals SET occurrence_count = occurrence_count + 1,
			                   last_seen_at = greatest(last_seen_at, $3)
			WHERE tenant_id = $1 AND id = $2
			RETURNING occurrence_count`,
			string(t), signalID, seenAt).Scan(&count)
		if err != nil {
			return fmt.Errorf("count repeat of signal %s: %w", signalID, err)
		}
		out, err = addTransition(ctx, tx, t, id, StageUpdate{
			Stage:   StageRepeated,
			Summary: fmt.Sprintf("the alert arrived again (%d times in all)", count),
			Details: map[string]string{"occurrence_count": strconv.FormatInt(count, 10)},
		})
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return out, nil
}

// Resolve applies the source's resolution of a signal: the signal
// signalID, or, when signalID is empty, every signal with fingerprint the
// source has not resolved yet. Each signal is resolved once: a signal
// resolved already is left alone, so a redelivered or repeated resolution
// changes nothing, even when a person reopened the incident since. The
// incident of each newly resolved signal is resolved with it unless it is
// resolved already (by a person). Resolve returns one Result per incident
// it resolved. A signalID not stored yet is ErrSignalNotFound.
func (s *Store) Resolve(ctx context.Context, signalID, fingerprint string, at time.Time) ([]Result, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	var out []Result
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		var ids []string
		if signalID != "" {
			if _, err := uuid.Parse(signalID); err != nil {
				return fmt.Errorf("resolve signal %q: %w", signalID, ErrSignalNotFound)
			}
			id, err := lockBySignal(ctx, tx, t, signalID)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		} else {
			rows, err := tx.Query(ctx, `
				SELECT i.id::text FROM incidents i
				JOIN signals s ON s.tenant_id = i.tenant_id AND s.id = i.signal_id
				WHERE i.tenant_id = $1 AND s.fingerprint = $2 AND s.status <> 'resolved'
				ORDER BY i.id
				FOR UPDATE OF i`, string(t), fingerprint)
			if err != nil {
				return fmt.Errorf("find unresolved signals with fingerprint %q: %w", fingerprint, err)
			}
			ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return fmt.Errorf("find unresolved signals with fingerprint %q: %w", fingerprint, err)
			}
		}
		for _, id := range ids {
			res, ok, err := s.resolveOne(ctx, tx, t, id, at)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, res)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// resolveOne applies the source's resolution to the locked incident id
// and its signal. The signal's UPDATE is the guard that makes it happen
// once per signal (see Resolve).
func (s *Store) resolveOne(ctx context.Context, tx pgx.Tx, t tenant.ID, id string, at time.Time) (Result, bool, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE signals s SET status = 'resolved', resolved_at = $3, last_seen_at = greatest(s.last_seen_at, $3)
		FROM incidents i
		WHERE i.tenant_id = $1 AND i.id = $2 AND s.tenant_id = i.tenant_id AND s.id = i.signal_id AND s.status <> 'resolved'`,
		string(t), id, at)
	if err != nil {
		return Result{}, false, fmt.Errorf("resolve signal of incident %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return Result{}, false, nil
	}
	tag, err = tx.Exec(ctx, `
		UPDATE incidents SET status = 'resolved', resolved_at = $3, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND status <> 'resolved'`, string(t), id, at)
	if err != nil {
		return Result{}, false, fmt.Errorf("resolve incident %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		// A person resolved the incident before its alert stopped.
		return Result{}, false, nil
	}
	res, err := addTransition(ctx, tx, t, id, StageUpdate{
		Stage:   StageResolved,
		Summary: "the source resolved the alert",
		Details: map[string]string{"resolved_at": at.UTC().Format(time.RFC3339Nano), "by": "source"},
	})
	if err != nil {
		return Result{}, false, err
	}
	if res, err = s.afterResolve(ctx, tx, t, res); err != nil {
		return Result{}, false, err
	}
	return res, true, nil
}

// afterResolve does what every resolution of the locked incident does in
// its transaction, res being the resolved transition just stored: it
// closes the incident's open triage items, schedules the quality gate
// (marking the resolution's quality pending when one was) and queues the
// ticket's update.
func (s *Store) afterResolve(ctx context.Context, tx pgx.Tx, t tenant.ID, res Result) (Result, error) {
	id := res.Incident.ID
	if err := closeTriage(ctx, tx, t, id); err != nil {
		return Result{}, err
	}
	if s.onResolve != nil {
		scheduled, err := s.onResolve(ctx, tx, res.Incident)
		if err != nil {
			return Result{}, fmt.Errorf("after resolving incident %s: %w", id, err)
		}
		if scheduled {
			_, err = tx.Exec(ctx, `UPDATE incidents SET resolution_quality = 'pending' WHERE tenant_id = $1 AND id = $2`, string(t), id)
			if err != nil {
				return Result{}, fmt.Errorf("mark the quality gate of incident %s pending: %w", id, err)
			}
			res.Incident.ResolutionQuality = QualityPending
		}
	}
	if err := s.followTicket(ctx, tx, t, res.Incident, res.Transition); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Get returns the incident id with its transitions, oldest first.
func (s *Store) Get(ctx context.Context, id string) (Incident, []Transition, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Incident{}, nil, err
	}
	if _, err := uuid.Parse(id); err != nil {
		return Incident{}, nil, fmt.Errorf("get incident %q: %w", id, ErrNotFound)
	}
	var (
		inc Incident
		trs []Transition
	)
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		// One statement, so the incident and its transitions come from one
		// snapshot: under READ COMMITTED two statements could straddle a
		// concurrent write and show a transition the incident lacks.
		rows, err := tx.Query(ctx, `
			SELECT i.id::text, i.signal_id::text, s.fingerprint, s.source, s.title, s.resource, i.status, i.severity,
			       i.intent, i.decision, i.stage, s.occurrence_count, i.created_at, s.last_seen_at, i.resolved_at,
			       i.resolution_quality,
			       coalesce((SELECT jsonb_agg(jsonb_build_object('sequence', t.sequence, 'stage', t.stage,
			                   'summary', t.summary, 'details', t.details, 'at', t.at) ORDER BY t.sequence)
			                 FROM incident_transitions t
			                 WHERE t.tenant_id = i.tenant_id AND t.incident_id = i.id), '[]')
			FROM incidents i
			JOIN signals s ON s.tenant_id = i.tenant_id AND s.id = i.signal_id
			WHERE i.tenant_id = $1 AND i.id = $2`, string(t), id)
		if err != nil {
			return fmt.Errorf("get incident %s: %w", id, err)
		}
		var raw []storedTransition
		inc, err = pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (Incident, error) {
			return scanIncidentWith(row, &raw)
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("get incident %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get incident %s: %w", id, err)
		}
		for _, r := range raw {
			trs = append(trs, Transition{IncidentID: inc.ID, Sequence: r.Sequence, Stage: Stage(r.Stage), Summary: r.Summary, Details: r.Details, At: r.At})
		}
		return nil
	})
	if err != nil {
		return Incident{}, nil, err
	}
	return inc, trs, nil
}

// storedTransition is a transition as Get's JSON aggregate returns it.
type storedTransition struct {
	Sequence int64             `json:"sequence"`
	Stage    string            `json:"stage"`
	Summary  string            `json:"summary"`
	Details  map[string]string `json:"details"`
	At       time.Time         `json:"at"`
}

// DefaultPageSize is the page size of List when none is asked for.
const DefaultPageSize = 50

// MaxPageSize caps the page size of List.
const MaxPageSize = 500

// List returns one page of incidents, newest first (by creation time, then
// ID), after the position pageToken names, and the token of the next page,
// empty on the last.
func (s *Store) List(ctx context.Context, pageSize int, pageToken string) ([]Incident, string, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, "", err
	}
	pageSize, after, err := pageOf(pageSize, DefaultPageSize, MaxPageSize, pageToken)
	if err != nil {
		return nil, "", err
	}
	var out []Incident
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		// The row comparison matches the incidents_newest index order, so
		// each page is an index range scan however deep it is.
		var (
			rows pgx.Rows
			err  error
		)
		if after == nil {
			rows, err = tx.Query(ctx, selectIncident+`
				WHERE i.tenant_id = $1
				ORDER BY i.created_at DESC, i.id DESC
				LIMIT $2`, string(t), pageSize+1)
		} else {
			rows, err = tx.Query(ctx, selectIncident+`
				WHERE i.tenant_id = $1 AND (i.created_at, i.id) < ($2, $3::uuid)
				ORDER BY i.created_at DESC, i.id DESC
				LIMIT $4`, string(t), after.at, after.id, pageSize+1)
		}
		if err != nil {
			return fmt.Errorf("list incidents: %w", err)
		}
		out, err = pgx.CollectRows(rows, scanIncident)
		if err != nil {
			return fmt.Errorf("list incidents: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, pageSize, func(inc Incident) cursor { return cursor{at: inc.CreatedAt, id: inc.ID} })
	return out, next, nil
}

// pageOf reads a page request: the page size (def when not positive, at
// most max) and the position the token names (nil for the first page).
func pageOf(pageSize, def, max int, token string) (int, *cursor, error) {
	if pageSize <= 0 {
		pageSize = def
	}
	after, err := decodeCursor(token)
	return min(pageSize, max), after, err
}

// page cuts rows, read with LIMIT pageSize+1, to one page, and returns the
// token of the next page: empty when the extra row was not there.
func page[T any](rows []T, pageSize int, pos func(T) cursor) ([]T, string) {
	if len(rows) <= pageSize {
		return rows, ""
	}
	rows = rows[:pageSize]
	return rows, encodeCursor(pos(rows[len(rows)-1]))
}

// cursor is a position in the newest-first order.
type cursor struct {
	at time.Time
	id string
}

// Page tokens are opaque to callers: a version tag, the creation time in
// microseconds (Postgres's precision, so the comparison is exact) and the
// incident ID, base64url-encoded. They carry no tenant; the tenant always
// comes from the caller's identity.
const cursorVersion = "v1"

func encodeCursor(c cursor) string {
	raw := cursorVersion + "." + strconv.FormatInt(c.at.UnixMicro(), 10) + "." + c.id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(token string) (*cursor, error) {
	if token == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, ErrBadPageToken
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != cursorVersion {
		return nil, ErrBadPageToken
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, ErrBadPageToken
	}
	id, err := uuid.Parse(parts[2])
	if err != nil {
		return nil, ErrBadPageToken
	}
	return &cursor{at: time.UnixMicro(micros), id: id.String()}, nil
}

// lockBySignal locks the incident of signalID and returns its ID.
func lockBySignal(ctx context.Context, tx pgx.Tx, t tenant.ID, signalID string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `SELECT id::text FROM incidents WHERE tenant_id = $1 AND signal_id = $2 FOR UPDATE`,
		string(t), signalID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("signal %s: %w", signalID, ErrSignalNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("lock incident of signal %s: %w", signalID, err)
	}
	return id, nil
}

func lockByID(ctx context.Context, tx pgx.Tx, t tenant.ID, id string) error {
	var got string
	err := tx.QueryRow(ctx, `SELECT id::text FROM incidents WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, string(t), id).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("lock incident %s: %w", id, err)
	}
	return nil
}

// addTransition stores u for the locked incident id. The caller holds the
// incident's row lock.
func addTransition(ctx context.Context, tx pgx.Tx, t tenant.ID, id string, u StageUpdate) (Result, error) {
	if u.Stage.Once() {
		tr, err := scanTransition(tx.QueryRow(ctx, selectTransition+` WHERE tenant_id = $1 AND incident_id = $2 AND stage = $3`,
			string(t), id, string(u.Stage)))
		if err == nil {
			inc, err := loadIncident(ctx, tx, t, id)
			return Result{Incident: inc, Transition: tr}, err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Result{}, fmt.Errorf("look up %s transition of incident %s: %w", u.Stage, id, err)
		}
	}
	details, err := jsonMap(u.Details)
	if err != nil {
		return Result{}, fmt.Errorf("encode %s details of incident %s: %w", u.Stage, id, err)
	}
	tr, err := scanTransition(tx.QueryRow(ctx, `
		INSERT INTO incident_transitions (tenant_id, incident_id, sequence, stage, summary, details)
		SELECT $1, $2, coalesce(max(sequence), 0) + 1, $3, $4, $5
		FROM incident_transitions WHERE tenant_id = $1 AND incident_id = $2
		RETURNING incident_id::text, sequence, stage, summary, details, at`,
		string(t), id, string(u.Stage), u.Summary, details))
	if err != nil {
		return Result{}, fmt.Errorf("insert %s transition of incident %s: %w", u.Stage, id, err)
	}
	_, err = tx.Exec(ctx, updateIncident, updateIncidentArgs(t, id, u)...)
	if err != nil {
		return Result{}, fmt.Errorf("update incident %s after %s: %w", id, u.Stage, err)
	}
	inc, err := loadIncident(ctx, tx, t, id)
	if err != nil {
		return Result{}, err
	}
	return Result{Incident: inc, Transition: tr, New: true}, nil
}

// updateIncident moves an incident to a stage and sets the fields the
// stage decided. A resolved incident keeps "resolved" as its stage even
// when a late pipeline stage finishes after the resolution; repeats are
// not a stage the incident moves to, they are counted on it.
const updateIncident = `
	UPDATE incidents SET
	  stage = CASE WHEN $3 = 'repeated' OR (status = 'resolved' AND $3 <> 'resolved') THEN stage ELSE $3 END,
	  intent = coalesce($4, intent),
	  severity = coalesce($5, severity),
	  decision = coalesce($6, decision),
	  updated_at = now()
	WHERE tenant_id = $1 AND id = $2`

// updateIncidentArgs are updateIncident's arguments for stage update u.
func updateIncidentArgs(t tenant.ID, id string, u StageUpdate) []any {
	return []any{string(t), id, string(u.Stage), optText(u.Intent, IntentText), optText(u.Severity, SeverityText), optText(u.Decision, DecisionText)}
}

const selectIncident = `
	SELECT i.id::text, i.signal_id::text, s.fingerprint, s.source, s.title, s.resource, i.status, i.severity,
	       i.intent, i.decision, i.stage, s.occurrence_count, i.created_at, s.last_seen_at, i.resolved_at,
	       i.resolution_quality
	FROM incidents i
	JOIN signals s ON s.tenant_id = i.tenant_id AND s.id = i.signal_id`

func loadIncident(ctx context.Context, tx pgx.Tx, t tenant.ID, id string) (Incident, error) {
	rows, err := tx.Query(ctx, selectIncident+` WHERE i.tenant_id = $1 AND i.id = $2`, string(t), id)
	if err != nil {
		return Incident{}, fmt.Errorf("load incident %s: %w", id, err)
	}
	inc, err := pgx.CollectExactlyOneRow(rows, scanIncident)
	if errors.Is(err, pgx.ErrNoRows) {
		return Incident{}, fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Incident{}, fmt.Errorf("load incident %s: %w", id, err)
	}
	return inc, nil
}

func scanIncident(row pgx.CollectableRow) (Incident, error) {
	return scanIncidentWith(row)
}

// scanIncidentWith scans selectIncident's columns and then extra ones.
func scanIncidentWith(row pgx.CollectableRow, extra ...any) (Incident, error) {
	var (
		inc                                  Incident
		status, sev, intent, decision, stage string
	)
	dest := []any{&inc.ID, &inc.SignalID, &inc.Fingerprint, &inc.Source, &inc.Title, &inc.Resource, &status, &sev,
		&intent, &decision, &stage, &inc.OccurrenceCount, &inc.CreatedAt, &inc.LastSeenAt, &inc.ResolvedAt,
		&inc.ResolutionQuality}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return Incident{}, err
	}
	inc.Status, inc.Stage = Status(status), Stage(stage)
	inc.Severity, inc.Intent, inc.Decision = parseSeverity(sev), parseIntent(intent), parseDecision(decision)
	return inc, nil
}

const selectTransition = `SELECT incident_id::text, sequence, stage, summary, details, at FROM incident_transitions`

func transitions(ctx context.Context, tx pgx.Tx, t tenant.ID, id string) ([]Transition, error) {
	rows, err := tx.Query(ctx, selectTransition+` WHERE tenant_id = $1 AND incident_id = $2 ORDER BY sequence`, string(t), id)
	if err != nil {
		return nil, fmt.Errorf("load transitions of incident %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Transition, error) { return scanTransition(r) })
	if err != nil {
		return nil, fmt.Errorf("load transitions of incident %s: %w", id, err)
	}
	return out, nil
}

func scanTransition(row pgx.Row) (Transition, error) {
	var (
		tr    Transition
		stage string
	)
	if err := row.Scan(&tr.IncidentID, &tr.Sequence, &stage, &tr.Summary, &tr.Details, &tr.At); err != nil {
		return Transition{}, err
	}
	tr.Stage = Stage(stage)
	return tr, nil
}

// jsonMap encodes m as a JSON object; nil becomes {} because the columns
// hold objects, never JSON null.
func jsonMap(m map[string]string) ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(m)
}

func optTime(ok bool, t time.Time) *time.Time {
	if !ok {
		return nil
	}
	return &t
}

func optText[E any](v *E, text func(E) string) *string {
	if v == nil {
		return nil
	}
	s := text(*v)
	return &s
}
