package ticketstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/store"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/ticket"
)

// EventSynced is the audit event of an inbound or reconcile comparison.
const EventSynced = "ticket.synced"

// Directions of a sync event.
const (
	// Inbound: a webhook (Jira) or outbound message (ServiceNow) arrived.
	Inbound = "inbound"
	// Outbound: Alexus wrote the ticket.
	Outbound = "outbound"
	// Reconcile: the periodic job read the ticket.
	Reconcile = "reconcile"
)

// Outcomes of a sync event: a TicketSyncOutcome's name in lower case, or
// Written for an outbound write.
const (
	Applied       = "applied"
	Echo          = "echo"
	InSync        = "in_sync"
	LocalWon      = "local_won"
	UnknownTicket = "unknown_ticket"
	Unmapped      = "unmapped"
	Written       = "written"
)

// Ticket is a ticket Alexus opened for an incident, as the action plane
// last knew it.
type Ticket struct {
	ID         string
	IncidentID string
	// System is "jira" or "servicenow".
	System string
	// RemoteKey is what the remote API addresses the ticket by (the Jira
	// issue key, the ServiceNow sys_id); Number what people call it.
	RemoteKey, Number string
	URL               string
	Marker            string
	// RemoteStatus and RemoteState are the remote's status (the Jira
	// status name, the ServiceNow state code) and its incident state as
	// last seen, RemoteChangedAt when the remote changed to it (zero when
	// unknown).
	RemoteStatus    string
	RemoteState     ticket.State
	RemoteChangedAt time.Time
	// LocalState is the incident's state as the action plane last learnt
	// it, LocalChangedAt when the incident took it: zero when unknown, as
	// for a ticket just opened (the incident has been open since before
	// the OPEN was requested), which ticket.Decide counts as older than
	// any change the remote stamps.
	LocalState     ticket.State
	LocalChangedAt time.Time
	// Written is what Alexus last wrote to the ticket.
	Written   ticket.Written
	SyncedAt  time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	// Events are the latest sync events, newest first; filled by List.
	Events []Event
}

// Subject is the ticket's name in the audit log.
func (t Ticket) Subject() string { return "ticket/" + t.ID }

// Local is the incident's side, for ticket.Decide.
func (t Ticket) Local() ticket.Change {
	return ticket.Change{State: t.LocalState, At: t.LocalChangedAt}
}

// Seen is the remote's state as read now (status, its state, and the
// time the remote last changed the ticket), stamped with when it took
// that state: a state the row already knows keeps the time it was known
// from, so that a later edit of something else (a comment bumps Jira's
// updated time) does not make an old state look new to ticket.Decide.
func (t Ticket) Seen(status string, state ticket.State, updated time.Time) Remote {
	at := updated
	if state == t.RemoteState && !t.RemoteChangedAt.IsZero() {
		at = t.RemoteChangedAt
	}
	return Remote{Status: status, State: state, At: at}
}

// Event is one comparison of a ticket with its incident.
type Event struct {
	At time.Time
	// Direction is Inbound, Outbound or Reconcile.
	Direction string
	// Outcome is one of the outcomes above.
	Outcome string
	// RemoteStatus is the remote status seen or written.
	RemoteStatus string
	// ChangedBy is who made the remote change (Jira accountId, ServiceNow
	// user name).
	ChangedBy string
	// Reason says which rule decided, in words.
	Reason string
}

// Remote is the remote's state as seen.
type Remote struct {
	Status string
	State  ticket.State
	// At is when the remote changed to it; zero when unknown.
	At time.Time
}

// Change is what one write or comparison learnt about a ticket; nil parts
// change nothing.
type Change struct {
	// Remote is the remote's state as seen. It is kept unless it is older
	// than what the row already knows (a late webhook).
	Remote *Remote
	// Local is the incident's state as learnt. It is kept unless it is
	// older than what the row knows; its time moves only when the state
	// does. A zero time means now by the database's clock, which stamps
	// the actions too, so that the two compare without skew.
	Local *ticket.Change
	// Written replaces what Alexus last wrote.
	Written *ticket.Written
	// Event, when set, is recorded; with Audit it is audited too, as
	// EventSynced about the ticket.
	Event *Event
	Audit bool
}

// ErrNotFound reports a ticket the tenant does not have.
var ErrNotFound = errors.New("ticket not found")

// Store keeps the tenants' tickets in Postgres.
type Store struct {
	db *store.DB
}

// NewStore returns a Store on db.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

const ticketColumns = `id::text, incident_id::text, system, remote_key, number, url, marker,
	remote_status, remote_state, remote_changed_at, local_state, local_changed_at,
	written_state, written_version, written_at, synced_at, created_at, updated_at`

func scanTicket(row pgx.CollectableRow) (Ticket, error) {
	var (
		t                          Ticket
		remoteState, localState    string
		writtenState               string
		remoteChanged, writtenAt   *time.Time
		localChanged               time.Time
		synced, created, updatedAt time.Time
	)
	err := row.Scan(&t.ID, &t.IncidentID, &t.System, &t.RemoteKey, &t.Number, &t.URL, &t.Marker,
		&t.RemoteStatus, &remoteState, &remoteChanged, &localState, &localChanged,
		&writtenState, &t.Written.Version, &writtenAt, &synced, &created, &updatedAt)
	if err != nil {
		return Ticket{}, err
	}
	t.RemoteState, t.LocalState, t.Written.State = ticket.State(remoteState), ticket.State(localState), ticket.State(writtenState)
	if remoteChanged != nil {
		t.RemoteChangedAt = remoteChanged.UTC()
	}
	if writtenAt != nil {
		t.Written.At = writtenAt.UTC()
	}
	t.LocalChangedAt, t.SyncedAt, t.CreatedAt, t.UpdatedAt = knownTime(localChanged), synced.UTC(), created.UTC(), updatedAt.UTC()
	return t, nil
}

// unknownTime stands for "unknown" in local_changed_at, which is NOT
// NULL: the Unix epoch, read back as the zero time.
var unknownTime = time.Unix(0, 0).UTC()

// knownTime reads a time that may be unknownTime.
func knownTime(t time.Time) time.Time {
	if t.Equal(unknownTime) {
		return time.Time{}
	}
	return t.UTC()
}

// localTime is t for local_changed_at.
func localTime(t time.Time) time.Time {
	if t.IsZero() {
		return unknownTime
	}
	return t
}

// nullTime is t for a nullable column: NULL when zero.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Opened is a ticket an OPEN action opened or found.
type Opened struct {
	IncidentID string
	System     string
	RemoteKey  string
	Number     string
	URL        string
	Marker     string
	// Remote is the ticket's state as the open left it.
	Remote Remote
	// Written is what the open wrote; zero when it found the ticket
	// rather than opening it.
	Written ticket.Written
	// Reason is the sync event's reason, e.g. "opened OPS-42".
	Reason string
}

// Open records the incident's ticket of o.System, or updates the row it
// already has (a repeated OPEN, or one that opened a new ticket after the
// old one was deleted at the remote end), with an outbound sync event, in
// one transaction.
func (s *Store) Open(ctx context.Context, o Opened) (Ticket, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Ticket{}, err
	}
	outcome := InSync
	if o.Written.State != "" {
		outcome = Written
	}
	var tk Ticket
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		// A row for another remote key is another ticket: what the row
		// knew of the old one no longer holds.
		rows, err := tx.Query(ctx, `
			INSERT INTO tickets (tenant_id, incident_id, system, remote_key, number, url, marker,
				remote_status, remote_state, remote_changed_at, written_state, written_version, written_at, local_changed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, now()), $11, $12, $13, $14)
			ON CONFLICT (tenant_id, incident_id, system) DO UPDATE SET
				remote_key = EXCLUDED.remote_key, number = EXCLUDED.number, url = EXCLUDED.url, marker = EXCLUDED.marker,
				remote_status = CASE WHEN tickets.remote_key = EXCLUDED.remote_key THEN tickets.remote_status ELSE EXCLUDED.remote_status END,
				remote_state = CASE WHEN tickets.remote_key = EXCLUDED.remote_key THEN tickets.remote_state ELSE EXCLUDED.remote_state END,
				remote_changed_at = CASE WHEN tickets.remote_key = EXCLUDED.remote_key THEN tickets.remote_changed_at ELSE EXCLUDED.remote_changed_at END,
				written_state = CASE WHEN tickets.remote_key = EXCLUDED.remote_key THEN tickets.written_state ELSE EXCLUDED.written_state END,
				written_version = CASE WHEN tickets.remote_key = EXCLUDED.remote_key THEN tickets.written_version ELSE EXCLUDED.written_version END,
				written_at = CASE WHEN tickets.remote_key = EXCLUDED.remote_key THEN tickets.written_at ELSE EXCLUDED.written_at END,
				synced_at = now(), updated_at = now()
			RETURNING `+ticketColumns,
			string(t), o.IncidentID, o.System, o.RemoteKey, o.Number, o.URL, o.Marker,
			o.Remote.Status, string(o.Remote.State), nullTime(o.Remote.At),
			string(o.Written.State), o.Written.Version, nullTime(o.Written.At), unknownTime)
		if err != nil {
			return fmt.Errorf("record %s ticket %s of incident %s: %w", o.System, o.Number, o.IncidentID, err)
		}
		tk, err = pgx.CollectExactlyOneRow(rows, scanTicket)
		if err != nil {
			return fmt.Errorf("record %s ticket %s of incident %s: %w", o.System, o.Number, o.IncidentID, err)
		}
		return insertEvent(ctx, tx, t, tk.ID, Event{Direction: Outbound, Outcome: outcome, RemoteStatus: o.Remote.Status, Reason: o.Reason})
	})
	return tk, err
}

// ForIncident returns the incident's ticket in system, or false.
func (s *Store) ForIncident(ctx context.Context, incidentID, system string) (Ticket, bool, error) {
	return s.one(ctx, `incident_id = $1::uuid AND system = $2`, incidentID, system)
}

// ByRemote returns the ticket in system with remote key key or, failing
// that, carrying marker (a Jira issue moved to another project changes
// its key, not its labels), or false.
func (s *Store) ByRemote(ctx context.Context, system, key, marker string) (Ticket, bool, error) {
	if key != "" {
		t, ok, err := s.one(ctx, `system = $1 AND remote_key = $2`, system, key)
		if err != nil || ok {
			return t, ok, err
		}
	}
	if marker == "" {
		return Ticket{}, false, nil
	}
	return s.one(ctx, `system = $1 AND marker = $2 ORDER BY created_at LIMIT 1`, system, marker)
}

// Get returns the tenant's ticket with id.
func (s *Store) Get(ctx context.Context, id string) (Ticket, error) {
	t, ok, err := s.one(ctx, `id::text = $1`, id)
	if err == nil && !ok {
		err = ErrNotFound
	}
	return t, err
}

func (s *Store) one(ctx context.Context, where string, args ...any) (Ticket, bool, error) {
	var (
		t     Ticket
		found bool
	)
	err := s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE `+where, args...)
		if err != nil {
			return fmt.Errorf("read ticket: %w", err)
		}
		got, err := pgx.CollectRows(rows, scanTicket)
		if err != nil {
			return fmt.Errorf("read ticket: %w", err)
		}
		if len(got) > 0 {
			t, found = got[0], true
		}
		return nil
	})
	return t, found, err
}

// Apply records c on the ticket with id, with its event and audit entry,
// in one transaction, and returns the ticket as it is afterwards. The row
// is read under a lock and written back, so that concurrent changes (a
// webhook and the reconcile job) apply one after the other.
func (s *Store) Apply(ctx context.Context, id string, c Change) (Ticket, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return Ticket{}, err
	}
	var tk Ticket
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id::text = $1 FOR UPDATE`, id)
		if err != nil {
			return fmt.Errorf("lock ticket %s: %w", id, err)
		}
		tk, err = pgx.CollectExactlyOneRow(rows, scanTicket)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock ticket %s: %w", id, err)
		}
		if c.Local != nil && c.Local.At.IsZero() {
			local := *c.Local
			if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&local.At); err != nil {
				return fmt.Errorf("read the time: %w", err)
			}
			local.At = local.At.UTC()
			c.Local = &local
		}
		c.applyTo(&tk)
		rows, err = tx.Query(ctx, `
			UPDATE tickets SET remote_status = $2, remote_state = $3, remote_changed_at = $4,
				local_state = $5, local_changed_at = $6,
				written_state = $7, written_version = $8, written_at = $9,
				synced_at = now(), updated_at = now()
			WHERE id::text = $1
			RETURNING `+ticketColumns,
			id, tk.RemoteStatus, string(tk.RemoteState), nullTime(tk.RemoteChangedAt),
			string(tk.LocalState), localTime(tk.LocalChangedAt),
			string(tk.Written.State), tk.Written.Version, nullTime(tk.Written.At))
		if err != nil {
			return fmt.Errorf("update ticket %s: %w", id, err)
		}
		if tk, err = pgx.CollectExactlyOneRow(rows, scanTicket); err != nil {
			return fmt.Errorf("update ticket %s: %w", id, err)
		}
		if c.Event == nil {
			return nil
		}
		if err := insertEvent(ctx, tx, t, id, *c.Event); err != nil {
			return err
		}
		if !c.Audit {
			return nil
		}
		// Last, as in every audited transaction of the plane.
		return audit.Append(ctx, tx, EventSynced, tk.Subject(), map[string]string{
			"system":        tk.System,
			"ticket":        tk.Number,
			"incident_id":   tk.IncidentID,
			"direction":     c.Event.Direction,
			"outcome":       c.Event.Outcome,
			"remote_status": c.Event.RemoteStatus,
			"changed_by":    c.Event.ChangedBy,
			"reason":        c.Event.Reason,
		})
	})
	return tk, err
}

// applyTo changes t as c says.
func (c Change) applyTo(t *Ticket) {
	if r := c.Remote; r != nil && (r.At.IsZero() || t.RemoteChangedAt.IsZero() || !r.At.Before(t.RemoteChangedAt)) {
		t.RemoteStatus, t.RemoteState = r.Status, r.State
		if !r.At.IsZero() {
			t.RemoteChangedAt = r.At
		}
	}
	if l := c.Local; l != nil && l.State.Valid() && l.State != t.LocalState && !l.At.Before(t.LocalChangedAt) {
		t.LocalState, t.LocalChangedAt = l.State, l.At
	}
	if c.Written != nil {
		t.Written = *c.Written
	}
}

func insertEvent(ctx context.Context, tx pgx.Tx, t tenant.ID, ticketID string, e Event) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO ticket_sync_events (tenant_id, ticket_id, direction, outcome, remote_status, changed_by, reason)
		VALUES ($1, $2::uuid, $3, $4, $5, $6, $7)`,
		string(t), ticketID, e.Direction, e.Outcome, e.RemoteStatus, e.ChangedBy, e.Reason)
	if err != nil {
		return fmt.Errorf("record %s sync event of ticket %s: %w", e.Direction, ticketID, err)
	}
	return nil
}
