package normalise

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// PagerDutySource is the source name of PagerDuty webhooks.
const PagerDutySource = "pagerduty"

// PagerDuty normalises PagerDuty V3 webhooks (webhook subscriptions): one
// event per payload, {"event": {id, event_type, resource_type,
// occurred_at, agent, client, data}}, whose data is an incident object
// {id, type, html_url, number, status, incident_key, created_at, title,
// service, assignees, escalation_policy, teams, priority, urgency, ...}.
// V1 and V2 webhooks (the "messages" envelope) are not read.
//
// Status, from event_type:
//
//	incident.triggered, incident.reopened,
//	incident.unacknowledged                  → FIRING
//	incident.acknowledged                    → ACKNOWLEDGED
//	incident.resolved                        → RESOLVED
//	incident.escalated, incident.reassigned,
//	incident.delegated,
//	incident.priority_updated                → the incident's status:
//	                                           triggered → FIRING,
//	                                           acknowledged → ACKNOWLEDGED,
//	                                           resolved → RESOLVED
//
// Every other event type is refused, naming the ones ingested: notes,
// responder requests, status updates and service.* events are not about
// where an incident stands, and pagey.ping only tests the subscription.
//
// Severity, from the incident's priority when it is a P-level (PagerDuty's
// default priority names), else from its urgency:
//
//	priority P1          → CRITICAL
//	priority P2          → ERROR
//	priority P3          → WARNING
//	priority P4, P5      → INFO
//	urgency high         → ERROR
//	urgency low          → WARNING
//	none of these        → WARNING
//
// Fields: the title is the incident's title, else its summary, else
// "PagerDuty incident <number or id>"; the description is the incident's
// description where the payload has one; the resource is the service's
// name (summary); labels are service, service_id, urgency, priority,
// escalation_policy and teams (names joined with ","); annotations are the
// incident number, incident_key, the assignees' names, the agent who acted,
// the event type and the event id; the link is the incident's html_url
// when it is an absolute http(s) URL; created_at gives the start;
// occurred_at gives the end of a resolved incident. The raw payload is the
// whole body, which is one incident.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a new recipe version): "pd:" followed by the incident's
// id (e.g. "pd:PGR0VU2"), which PagerDuty never reuses and which every
// event about the incident carries; it is also the external id. An id
// that is not 1-64 ASCII letters, digits, "_" or "-" is refused rather than
// hashed, since every PagerDuty incident has one of that form.
type PagerDuty struct{}

// pdWebhook is the V3 envelope.
type pdWebhook struct {
	Event *pdEvent `json:"event"`
}

type pdEvent struct {
	ID           stringOrNumber  `json:"id"`
	EventType    string          `json:"event_type"`
	ResourceType string          `json:"resource_type"`
	OccurredAt   string          `json:"occurred_at"`
	Agent        *pdReference    `json:"agent"`
	Data         json.RawMessage `json:"data"`
}

// pdIncident is the incident object of incident.* events.
type pdIncident struct {
	ID               stringOrNumber `json:"id"`
	Type             string         `json:"type"`
	Summary          string         `json:"summary"`
	HTMLURL          string         `json:"html_url"`
	Number           stringOrNumber `json:"number"`
	Status           string         `json:"status"`
	IncidentKey      string         `json:"incident_key"`
	CreatedAt        string         `json:"created_at"`
	Title            string         `json:"title"`
	Description      string         `json:"description"`
	Service          *pdReference   `json:"service"`
	Assignees        []pdReference  `json:"assignees"`
	EscalationPolicy *pdReference   `json:"escalation_policy"`
	Teams            []pdReference  `json:"teams"`
	Priority         *pdReference   `json:"priority"`
	Urgency          string         `json:"urgency"`
}

// pdReference is PagerDuty's reference to another object: its id and a
// human summary (a name).
type pdReference struct {
	ID      stringOrNumber `json:"id"`
	Summary string         `json:"summary"`
}

// pagerDutyRecipe is the PagerDuty recipe (see PagerDuty).
var pagerDutyRecipe = Recipe{Name: PagerDutySource, Prefix: "pd", Version: 1}

var pdIncidentIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

// pdEventStatus lists the event types ingested and the status each
// implies. STATUS_UNSPECIFIED marks the events that say nothing of the
// status, whose status is then the incident's own.
var pdEventStatus = map[string]signalv1.Status{
	"incident.triggered":        signalv1.Status_STATUS_FIRING,
	"incident.reopened":         signalv1.Status_STATUS_FIRING,
	"incident.unacknowledged":   signalv1.Status_STATUS_FIRING,
	"incident.acknowledged":     signalv1.Status_STATUS_ACKNOWLEDGED,
	"incident.resolved":         signalv1.Status_STATUS_RESOLVED,
	"incident.escalated":        signalv1.Status_STATUS_UNSPECIFIED,
	"incident.reassigned":       signalv1.Status_STATUS_UNSPECIFIED,
	"incident.delegated":        signalv1.Status_STATUS_UNSPECIFIED,
	"incident.priority_updated": signalv1.Status_STATUS_UNSPECIFIED,
}

// pdIngestedTypes names pdEventStatus's keys for error messages.
const pdIngestedTypes = "incident.triggered, incident.acknowledged, incident.unacknowledged, incident.resolved, incident.reopened, incident.escalated, incident.reassigned, incident.delegated and incident.priority_updated"

// Normalise implements Normaliser. Headers are not used here: the
// X-PagerDuty-Signature header is checked by source authentication before
// a payload reaches a normaliser.
func (PagerDuty) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var w pdWebhook
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, fmt.Errorf("%w: not a JSON PagerDuty webhook: %v", ErrInvalidPayload, err)
	}
	if w.Event == nil {
		return nil, fmt.Errorf("%w: PagerDuty webhook has no event; only V3 webhook subscriptions are supported", ErrInvalidPayload)
	}
	sig, err := normalisePagerDuty(w.Event, received)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	sig.RawPayload = bytes.Clone(payload)
	return []*signalv1.Signal{sig}, nil
}

func normalisePagerDuty(e *pdEvent, received time.Time) (*signalv1.Signal, error) {
	implied, ok := pdEventStatus[e.EventType]
	if !ok {
		if e.EventType == "" {
			return nil, fmt.Errorf("PagerDuty event has no event_type")
		}
		return nil, fmt.Errorf("PagerDuty event type %.40q is not ingested; Alexus ingests %s", e.EventType, pdIngestedTypes)
	}
	var inc pdIncident
	if err := json.Unmarshal(e.Data, &inc); err != nil {
		return nil, fmt.Errorf("event data is not a JSON incident object: %v", err)
	}
	if inc.Type != "" && inc.Type != "incident" {
		return nil, fmt.Errorf("event data is of type %.32q, want \"incident\"", inc.Type)
	}
	id := strings.TrimSpace(string(inc.ID))
	if !pdIncidentIDPattern.MatchString(id) {
		return nil, fmt.Errorf("incident has no id of 1-64 letters, digits, '_' or '-'")
	}
	status, err := pagerDutyStatus(implied, inc.Status)
	if err != nil {
		return nil, err
	}
	createdAt, err := rfc3339Time(inc.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("incident created_at: %w", err)
	}
	occurredAt, err := rfc3339Time(e.OccurredAt)
	if err != nil {
		return nil, fmt.Errorf("event occurred_at: %w", err)
	}
	sig := &signalv1.Signal{
		Source:      PagerDutySource,
		Status:      status,
		Severity:    pagerDutySeverity(inc),
		Title:       cmp.Or(strings.TrimSpace(inc.Title), strings.TrimSpace(inc.Summary), "PagerDuty incident "+cmp.Or(string(inc.Number), id)),
		Description: inc.Description,
		Resource:    inc.Service.name(),
		Labels:      pagerDutyLabels(inc),
		Annotations: pagerDutyAnnotations(e, inc),
		StartsAt:    createdAt,
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  id,
		Link:        httpLink(inc.HTMLURL),
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = occurredAt
	}
	pagerDutyRecipe.Apply(sig, id)
	return sig, nil
}

// pagerDutyStatus returns the status an event type implies, or for the
// events that only move an incident around, the incident's own status.
func pagerDutyStatus(implied signalv1.Status, incidentStatus string) (signalv1.Status, error) {
	if implied != signalv1.Status_STATUS_UNSPECIFIED {
		return implied, nil
	}
	switch incidentStatus {
	case "triggered":
		return signalv1.Status_STATUS_FIRING, nil
	case "acknowledged":
		return signalv1.Status_STATUS_ACKNOWLEDGED, nil
	case "resolved":
		return signalv1.Status_STATUS_RESOLVED, nil
	default:
		return 0, fmt.Errorf("incident status %.16q is not triggered, acknowledged or resolved", incidentStatus)
	}
}

// pagerDutySeverity applies the table in PagerDuty's doc comment.
func pagerDutySeverity(inc pdIncident) signalv1.Severity {
	if sev, ok := priorityLevelSeverity(inc.Priority.name()); ok {
		return sev
	}
	switch strings.ToLower(strings.TrimSpace(inc.Urgency)) {
	case "high":
		return signalv1.Severity_SEVERITY_ERROR
	default:
		return signalv1.Severity_SEVERITY_WARNING
	}
}

func pagerDutyLabels(inc pdIncident) map[string]string {
	return nonEmptyTrimmed(map[string]string{
		"service":           inc.Service.name(),
		"service_id":        inc.Service.id(),
		"urgency":           inc.Urgency,
		"priority":          inc.Priority.name(),
		"escalation_policy": inc.EscalationPolicy.name(),
		"teams":             pdNames(inc.Teams),
	})
}

func pagerDutyAnnotations(e *pdEvent, inc pdIncident) map[string]string {
	return nonEmptyTrimmed(map[string]string{
		"incident_number": string(inc.Number),
		"incident_key":    inc.IncidentKey,
		"assignees":       pdNames(inc.Assignees),
		"agent":           e.Agent.name(),
		"event_type":      e.EventType,
		"event_id":        string(e.ID),
	})
}

// name is the reference's summary, or empty for a missing reference.
func (r *pdReference) name() string {
	if r == nil {
		return ""
	}
	return r.Summary
}

// id is the reference's id, or empty for a missing reference.
func (r *pdReference) id() string {
	if r == nil {
		return ""
	}
	return string(r.ID)
}

// pdNames joins the names of the references that have one with ",".
func pdNames(refs []pdReference) string {
	names := make([]string, len(refs))
	for i := range refs {
		names[i] = refs[i].name()
	}
	return joinNonEmpty(names, ",")
}
