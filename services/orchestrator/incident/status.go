package incident

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/alexus-platform/alexus/internal/audit"
	"github.com/alexus-platform/alexus/internal/tenant"
	"github.com/alexus-platform/alexus/internal/textlimit"
)

// StatusChange is a move of an incident's status by a person or by its
// ticket (SetIncidentStatus).
type StatusChange struct {
	// To is the status to set.
	To Status
	// Reason says why, in words.
	Reason string
	// Source is what moved it when not the caller itself, e.g.
	// "jira:OPS-42"; empty for the caller.
	Source string
	// At is when; zero means now.
	At time.Time
}

// EventStatusChanged audits a status change made through SetIncidentStatus
// (by a person, or by the action plane for a ticket), with the same
// details as its transition.
const EventStatusChanged = "incident.status_changed"

// The details keys of a status change's transition.
const (
	// DetailBy is who made the change: the caller's subject.
	DetailBy = "by"
	// DetailSource is what moved the incident when not the caller itself,
	// e.g. "jira:OPS-42".
	DetailSource = "source"
	// DetailReason is why, in words.
	DetailReason = "reason"
)

// SetStatus moves the incident id to ch.To and stores the move as a
// transition: acknowledged (from open), resolved (from open or
// acknowledged; resolved_at is set and the quality gate scheduled as for
// the source's resolution), or reopened (to open, from resolved or
// acknowledged; resolved_at and the resolution quality are cleared, so the
// gate scheduled for the resolution lets it be). The signal is left as the
// source last reported it. changed is false, and nothing is written, when
// the incident has the status already. Acknowledging a resolved incident
// is ErrStatusChange: a resolved incident is reopened, not acknowledged.
// An incident the tenant does not have is ErrNotFound.
func (s *Store) SetStatus(ctx context.Context, id string, ch StatusChange) (res Result, changed bool, err error) {
	idn, err := tenant.Require(ctx)
	if err != nil {
		return Result{}, false, err
	}
	caller, _ := tenant.FromContext(ctx)
	if _, err := uuid.Parse(id); err != nil {
		return Result{}, false, fmt.Errorf("set status of incident %q: %w", id, ErrNotFound)
	}
	at := ch.At
	if at.IsZero() {
		at = time.Now()
	}
	err = s.db.WithTenant(ctx, func(tx pgx.Tx) error {
		if err := lockByID(ctx, tx, idn, id); err != nil {
			return err
		}
		inc, err := loadIncident(ctx, tx, idn, id)
		if err != nil {
			return err
		}
		if inc.Status == ch.To {
			res = Result{Incident: inc}
			return nil
		}
		stage, err := statusMove(inc.Status, ch.To)
		if err != nil {
			return fmt.Errorf("incident %s: %w", id, err)
		}
		// The status fields first; addTransition then moves the stage.
		_, err = tx.Exec(ctx, `
			UPDATE incidents SET status = $3,
			  resolved_at = CASE WHEN $3 = 'resolved' THEN $4::timestamptz WHEN $3 = 'open' THEN NULL ELSE resolved_at END,
			  resolution_quality = CASE WHEN $3 = 'open' THEN '' ELSE resolution_quality END,
			  updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, string(idn), id, string(ch.To), at)
		if err != nil {
			return fmt.Errorf("set status of incident %s to %s: %w", id, ch.To, err)
		}
		details := map[string]string{DetailBy: caller.Subject, "from": string(inc.Status)}
		if ch.Source != "" {
			details[DetailSource] = ch.Source
		}
		if ch.Reason != "" {
			details[DetailReason] = ch.Reason
		}
		if ch.To == StatusResolved {
			details["resolved_at"] = at.UTC().Format(time.RFC3339Nano)
		}
		res, err = addTransition(ctx, tx, idn, id, StageUpdate{Stage: stage, Summary: statusSummary(stage, caller.Subject, ch), Details: details})
		if err != nil {
			return err
		}
		audited := maps.Clone(details)
		audited["to"] = string(ch.To)
		if err := audit.Append(ctx, tx, EventStatusChanged, "incident/"+id, audited); err != nil {
			return err
		}
		changed = true
		if ch.To == StatusResolved {
			res, err = s.afterResolve(ctx, tx, idn, res)
			return err
		}
		if inc.Status == StatusResolved {
			if err := reopenTriage(ctx, tx, idn, id); err != nil {
				return err
			}
		}
		return s.followTicket(ctx, tx, idn, res.Incident, res.Transition)
	})
	if err != nil {
		return Result{}, false, err
	}
	return res, changed, nil
}

// statusMove is the stage that moves an incident from one status to
// another, or ErrStatusChange.
func statusMove(from, to Status) (Stage, error) {
	switch {
	case to == StatusResolved && (from == StatusOpen || from == StatusAcknowledged):
		return StageResolved, nil
	case to == StatusAcknowledged && from == StatusOpen:
		return StageAcknowledged, nil
	case to == StatusOpen && (from == StatusResolved || from == StatusAcknowledged):
		return StageReopened, nil
	case to == StatusAcknowledged && from == StatusResolved:
		return "", fmt.Errorf("a resolved incident is reopened, not acknowledged: %w", ErrStatusChange)
	}
	return "", fmt.Errorf("from %s to %s: %w", cmp.Or(string(from), "no status"), cmp.Or(string(to), "no status"), ErrStatusChange)
}

// statusSummary is the one line of a status change, e.g. "resolved by
// user:alice (jira:OPS-42): rolled back".
func statusSummary(stage Stage, by string, ch StatusChange) string {
	var b strings.Builder
	b.WriteString(string(stage))
	b.WriteString(" by ")
	b.WriteString(cmp.Or(by, "an unknown caller"))
	if ch.Source != "" {
		b.WriteString(" (" + ch.Source + ")")
	}
	if ch.Reason != "" {
		b.WriteString(": " + ch.Reason)
	}
	return textlimit.Truncate(b.String(), 300)
}
