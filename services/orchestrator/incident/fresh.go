package incident

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
	"github.com/alexus-platform/alexus/internal/tenant"
)

// Fresh is a new signal whose first pipeline stages ran before anything of
// it was stored: the signal, and the stages decided for it after received.
type Fresh struct {
	Signal *signalv1.Signal
	Stages []StageUpdate
}

// Stored is what OpenFresh did with one Fresh.
type Stored struct {
	// New is false when the signal had been stored before (an earlier
	// delivery of its entry); then nothing of the Fresh was stored, and the
	// caller resumes from what is stored (Open).
	New bool
	// Results are the transitions stored, received first, each with the
	// incident as that transition left it.
	Results []Result
}

// OpenFresh stores each of fs whose signal is not stored yet: the signal,
// its incident at its last stage, the received transition, the stages, and
// their triage items and ticket requests. All of fs go in one transaction
// of two round trips whatever their number, which is what makes a tenant's
// concurrent new signals cheap to store together. A signal stored before
// is left as it is and reported with New false. An error means nothing of
// fs was stored.
//
// For a signal nobody has seen it is Open followed by AddStages, written
// at once. Answered stages are never part of a fresh run; they are stored
// with AddStages. A result's Transition.Details is the stage's own Details
// map (not a copy read back), so the caller must not change it afterwards.
func (s *Store) OpenFresh(ctx context.Context, fs []Fresh) ([]Stored, error) {
	t, err := tenant.Require(ctx)
	if err != nil {
		return nil, err
	}
	sigs := make([]*signalv1.Signal, len(fs))
	for i, f := range fs {
		if _, err := uuid.Parse(f.Signal.GetId()); err != nil {
			return nil, fmt.Errorf("open incident: signal id %q is not a UUID", f.Signal.GetId())
		}
		for _, u := range f.Stages {
			if !u.Stage.Once() || u.Stage == StageAnswered {
				return nil, fmt.Errorf("open incident of signal %s: %s is not a stage of a fresh run", f.Signal.GetId(), u.Stage)
			}
		}
		sigs[i] = f.Signal
	}
	sr, err := newSignalRows(sigs)
	if err != nil {
		return nil, err
	}
	var out []Stored
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		out = make([]Stored, len(fs))
		rows, err := tx.Query(ctx, insertSignals+` RETURNING id::text`, sr.args(t)...)
		if err != nil {
			return fmt.Errorf("insert %d signals: %w", len(fs), err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("insert %d signals: %w", len(fs), err)
		}
		newIDs := make(map[string]bool, len(ids))
		for _, id := range ids {
			newIDs[id] = true
		}

		var (
			incs    incidentRows
			trs     transitionRows
			fresh   []int
			lasts   []StageUpdate
			tickets = map[int]*TicketOpen{}
			extra   = &pgx.Batch{}
		)
		for i, f := range fs {
			// Postgres answers the canonical form; the event may spell the
			// UUID otherwise.
			if !newIDs[uuid.MustParse(f.Signal.GetId()).String()] {
				continue
			}
			fresh = append(fresh, i)
			id := IDFor(t, f.Signal.GetId())
			sev := f.Signal.GetSeverity()
			last := StageUpdate{Severity: &sev}
			for k, u := range append([]StageUpdate{receivedUpdate(f.Signal)}, f.Stages...) {
				if err := trs.add(id, int64(k+1), u); err != nil {
					return err
				}
				last = last.then(u)
				if u.Triage != nil {
					if err := queueTriage(extra, t, u.Triage, false); err != nil {
						return err
					}
				}
				if u.Ticket != nil && s.tickets != nil {
					tickets[i] = u.Ticket
				}
			}
			if tk := tickets[i]; tk != nil {
				queueTicketOpen(extra, t, id, tk)
			}
			lasts = append(lasts, last)
			incs.add(id, f.Signal.GetId(), last)
		}
		if len(fresh) == 0 {
			return nil
		}

		// Incidents first: the transitions, triage items and ticket
		// requests refer to them.
		b := &pgx.Batch{}
		b.Queue(`
			INSERT INTO incidents (tenant_id, id, signal_id, stage, severity, intent, decision)
			SELECT $1, u.id::uuid, u.signal_id::uuid, u.stage, u.severity, u.intent, u.decision
			FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
			  AS u(id, signal_id, stage, severity, intent, decision)
			RETURNING id::text, status, created_at, resolution_quality`,
			string(t), incs.id, incs.signalID, incs.stage, incs.severity, incs.intent, incs.decision)
		b.Queue(`
			INSERT INTO incident_transitions (tenant_id, incident_id, sequence, stage, summary, details)
			SELECT $1, u.incident_id, u.sequence, u.stage, u.summary, u.details::jsonb
			FROM unnest($2::text[]::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[])
			  AS u(incident_id, sequence, stage, summary, details)
			RETURNING incident_id::text, sequence, at`,
			string(t), trs.incidentID, trs.sequence, trs.stage, trs.summary, trs.details)
		b.QueuedQueries = append(b.QueuedQueries, extra.QueuedQueries...)
		br := tx.SendBatch(ctx, b)
		defer br.Close()

		type incRow struct {
			status    string
			createdAt time.Time
			quality   string
		}
		stored := make(map[string]incRow, len(fresh))
		rows, err = br.Query()
		if err != nil {
			return fmt.Errorf("insert %d incidents: %w", len(fresh), err)
		}
		var (
			id string
			r  incRow
		)
		if _, err := pgx.ForEachRow(rows, []any{&id, &r.status, &r.createdAt, &r.quality}, func() error {
			stored[id] = r
			return nil
		}); err != nil {
			return fmt.Errorf("insert %d incidents: %w", len(fresh), err)
		}
		rows, err = br.Query()
		if err != nil {
			return fmt.Errorf("insert the transitions of %d incidents: %w", len(fresh), err)
		}
		// Only the time is read back: the rest of each transition is what
		// was sent (trs.transition), as Postgres stored it.
		all := make([]Transition, 0, len(trs.stage))
		var (
			seq int64
			at  time.Time
		)
		if _, err := pgx.ForEachRow(rows, []any{&id, &seq, &at}, func() error {
			tr, ok := trs.transition(id, seq)
			if !ok {
				return fmt.Errorf("stored transition %d of incident %s, which was not sent", seq, id)
			}
			tr.At = at
			all = append(all, tr)
			return nil
		}); err != nil {
			return fmt.Errorf("insert the transitions of %d incidents: %w", len(fresh), err)
		}
		if len(all) != len(trs.stage) {
			return fmt.Errorf("insert the transitions of %d incidents: stored %d of %d", len(fresh), len(all), len(trs.stage))
		}
		slices.SortStableFunc(all, func(a, b Transition) int {
			if a.IncidentID != b.IncidentID {
				return cmp.Compare(a.IncidentID, b.IncidentID)
			}
			return int(a.Sequence - b.Sequence)
		})
		byIncident := make(map[string][]Transition, len(fresh))
		for _, tr := range all {
			byIncident[tr.IncidentID] = append(byIncident[tr.IncidentID], tr)
		}
		for range extra.Len() {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("queue the triage items and ticket requests of %d incidents: %w", len(fresh), err)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("store %d new incidents: %w", len(fresh), err)
		}

		for k, i := range fresh {
			sig, last := fs[i].Signal, lasts[k]
			id := IDFor(t, sig.GetId())
			row, ok := stored[id]
			if !ok {
				return fmt.Errorf("incident %s was not stored", id)
			}
			inc := Incident{
				ID: id, SignalID: sig.GetId(), Fingerprint: sig.GetFingerprint(), Source: sig.GetSource(),
				Title: sig.GetTitle(), Resource: sig.GetResource(), Status: Status(row.status),
				Severity: *last.Severity, Stage: last.Stage, OccurrenceCount: 1,
				CreatedAt: row.createdAt, LastSeenAt: sr.receivedAt[i], ResolutionQuality: Quality(row.quality),
			}
			if last.Intent != nil {
				inc.Intent = *last.Intent
			}
			if last.Decision != nil {
				inc.Decision = *last.Decision
			}
			// The received transition shows the incident as it was opened.
			atReceived := inc
			atReceived.Stage, atReceived.Severity, atReceived.Intent, atReceived.Decision = StageReceived, sig.GetSeverity(), 0, 0
			got := byIncident[id]
			res := make([]Result, len(got))
			for n, tr := range got {
				res[n] = Result{Incident: inc, Transition: tr, New: true}
				if tr.Stage == StageReceived {
					res[n].Incident = atReceived
				}
			}
			out[i] = Stored{New: true, Results: res}
			if tk := tickets[i]; tk != nil {
				if err := s.tickets.Open(ctx, tx, inc, *tk); err != nil {
					return fmt.Errorf("queue the ticket of incident %s: %w", id, err)
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

// insertSignals inserts the signals of signalRows.args that are not
// stored yet.
const insertSignals = `
	INSERT INTO signals (tenant_id, id, source, fingerprint, external_id, status, severity, title, description,
	                     resource, labels, annotations, link, starts_at, ends_at, received_at, last_seen_at,
	                     raw_payload, raw_truncated, fingerprint_recipe, fingerprint_recipe_version)
	SELECT $1, u.id::uuid, u.source, u.fingerprint, u.external_id, u.status, u.severity, u.title, u.description,
	       u.resource, u.labels::jsonb, u.annotations::jsonb, u.link, u.starts_at, u.ends_at, u.received_at, u.received_at,
	       u.raw_payload, u.raw_truncated, u.recipe, u.recipe_version
	FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
	            $10::text[], $11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[],
	            $16::timestamptz[], $17::bytea[], $18::bool[], $19::text[], $20::int[])
	  AS u(id, source, fingerprint, external_id, status, severity, title, description, resource, labels,
	       annotations, link, starts_at, ends_at, received_at, raw_payload, raw_truncated, recipe, recipe_version)
	ON CONFLICT (tenant_id, id) DO NOTHING`

// signalRows are signals as the columns of insertSignals.
type signalRows struct {
	id, source, fingerprint, externalID, status, severity, title, description, resource, labels, annotations, link []string
	startsAt, endsAt                                                                                               []*time.Time
	receivedAt                                                                                                     []time.Time
	raw                                                                                                            [][]byte
	truncated                                                                                                      []bool
	recipe                                                                                                         []string
	recipeVersion                                                                                                  []int32
}

func newSignalRows(sigs []*signalv1.Signal) (*signalRows, error) {
	r := &signalRows{}
	for _, sig := range sigs {
		labels, err := jsonMap(sig.GetLabels())
		if err != nil {
			return nil, fmt.Errorf("encode labels of signal %s: %w", sig.GetId(), err)
		}
		annotations, err := jsonMap(sig.GetAnnotations())
		if err != nil {
			return nil, fmt.Errorf("encode annotations of signal %s: %w", sig.GetId(), err)
		}
		r.id = append(r.id, sig.GetId())
		r.source = append(r.source, sig.GetSource())
		r.fingerprint = append(r.fingerprint, sig.GetFingerprint())
		r.externalID = append(r.externalID, sig.GetExternalId())
		r.status = append(r.status, statusText(sig.GetStatus()))
		r.severity = append(r.severity, SeverityText(sig.GetSeverity()))
		r.title = append(r.title, sig.GetTitle())
		r.description = append(r.description, sig.GetDescription())
		r.resource = append(r.resource, sig.GetResource())
		r.labels = append(r.labels, string(labels))
		r.annotations = append(r.annotations, string(annotations))
		r.link = append(r.link, sig.GetLink())
		r.startsAt = append(r.startsAt, optTime(sig.GetStartsAt().IsValid(), sig.GetStartsAt().AsTime()))
		r.endsAt = append(r.endsAt, optTime(sig.GetEndsAt().IsValid(), sig.GetEndsAt().AsTime()))
		r.receivedAt = append(r.receivedAt, receivedAt(sig))
		r.raw = append(r.raw, sig.GetRawPayload())
		r.truncated = append(r.truncated, sig.GetRawTruncated())
		r.recipe = append(r.recipe, sig.GetFingerprintRecipe())
		r.recipeVersion = append(r.recipeVersion, int32(sig.GetFingerprintRecipeVersion()))
	}
	return r, nil
}

// args are insertSignals' arguments for tenant t.
func (r *signalRows) args(t tenant.ID) []any {
	return []any{string(t), r.id, r.source, r.fingerprint, r.externalID, r.status, r.severity, r.title,
		r.description, r.resource, r.labels, r.annotations, r.link, r.startsAt, r.endsAt, r.receivedAt,
		r.raw, r.truncated, r.recipe, r.recipeVersion}
}

// receivedAt is when the signal was received: ingest's time, or now for a
// signal without one.
func receivedAt(sig *signalv1.Signal) time.Time {
	if sig.GetReceivedAt().IsValid() {
		return sig.GetReceivedAt().AsTime()
	}
	return time.Now()
}

// receivedUpdate is the received transition of sig.
func receivedUpdate(sig *signalv1.Signal) StageUpdate {
	return StageUpdate{
		Stage:   StageReceived,
		Summary: fmt.Sprintf("received %s signal %q", sig.GetSource(), sig.GetTitle()),
		Details: map[string]string{"signal_id": sig.GetId(), "fingerprint": sig.GetFingerprint(), "source": sig.GetSource()},
	}
}

// incidentRows are new incidents as the columns of OpenFresh's insert.
type incidentRows struct {
	id, signalID, stage, severity, intent, decision []string
}

func (r *incidentRows) add(id, signalID string, last StageUpdate) {
	r.id = append(r.id, id)
	r.signalID = append(r.signalID, signalID)
	r.stage = append(r.stage, string(last.Stage))
	r.severity = append(r.severity, SeverityText(derefOr(last.Severity)))
	r.intent = append(r.intent, IntentText(derefOr(last.Intent)))
	r.decision = append(r.decision, DecisionText(derefOr(last.Decision)))
}

// transitionRows are transitions as the columns of an unnest insert.
type transitionRows struct {
	incidentID []string
	sequence   []int64
	stage      []string
	summary    []string
	details    []string
	// stored are the details as the column holds them, and index finds a
	// transition's row by incident and sequence.
	stored []map[string]string
	index  map[transitionKey]int
}

type transitionKey struct {
	incidentID string
	sequence   int64
}

func (r *transitionRows) add(incidentID string, seq int64, u StageUpdate) error {
	details, err := jsonMap(u.Details)
	if err != nil {
		return fmt.Errorf("encode %s details of incident %s: %w", u.Stage, incidentID, err)
	}
	stored, err := storedDetails(u.Details, details)
	if err != nil {
		return fmt.Errorf("encode %s details of incident %s: %w", u.Stage, incidentID, err)
	}
	if r.index == nil {
		r.index = map[transitionKey]int{}
	}
	r.index[transitionKey{incidentID, seq}] = len(r.incidentID)
	r.incidentID = append(r.incidentID, incidentID)
	r.sequence = append(r.sequence, seq)
	r.stage = append(r.stage, string(u.Stage))
	r.summary = append(r.summary, u.Summary)
	r.details = append(r.details, string(details))
	r.stored = append(r.stored, stored)
	return nil
}

// transition is the transition sent for incidentID's sequence seq, without
// its time.
func (r *transitionRows) transition(incidentID string, seq int64) (Transition, bool) {
	i, ok := r.index[transitionKey{incidentID, seq}]
	if !ok {
		return Transition{}, false
	}
	return Transition{IncidentID: incidentID, Sequence: seq, Stage: Stage(r.stage[i]), Summary: r.summary[i], Details: r.stored[i]}, true
}

// storedDetails is m as a jsonb column that was sent encoded holds it: m
// itself (never nil), unless a key or value is not valid UTF-8, which the
// encoding replaced.
func storedDetails(m map[string]string, encoded []byte) (map[string]string, error) {
	valid := true
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			valid = false
			break
		}
	}
	if valid {
		if m == nil {
			return map[string]string{}, nil
		}
		return m, nil
	}
	var out map[string]string
	if err := json.Unmarshal(encoded, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// then is the incident's fields after last and then u: the stage is u's,
// and each field u sets replaces last's.
func (last StageUpdate) then(u StageUpdate) StageUpdate {
	last.Stage = u.Stage
	last.Intent = cmpPtr(u.Intent, last.Intent)
	last.Severity = cmpPtr(u.Severity, last.Severity)
	last.Decision = cmpPtr(u.Decision, last.Decision)
	return last
}

func derefOr[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
