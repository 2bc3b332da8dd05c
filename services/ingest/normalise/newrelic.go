package normalise

import (
	"bytes"
	"cmp"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// NewRelicSource is the source name of New Relic workflow webhooks.
const NewRelicSource = "newrelic"

// NewRelic normalises the webhook notifications of a New Relic alerts
// workflow. New Relic has no fixed webhook format: the destination's
// payload is a Handlebars template the user edits. Alexus reads New
// Relic's default workflow template, whose fields keep their names here,
// and a few optional additions. The template Alexus documents for its
// users is:
//
//	{
//	  "issueId": {{ json issueId }},
//	  "issueUrl": {{ json issuePageUrl }},
//	  "title": {{ json annotations.title.[0] }},
//	  "description": {{ json annotations.description.[0] }},
//	  "priority": {{ json priority }},
//	  "state": {{ json state }},
//	  "trigger": {{ json triggerEvent }},
//	  "isCorrelated": {{ json isCorrelated }},
//	  "createdAt": {{ createdAt }},
//	  "updatedAt": {{ updatedAt }},
//	  "activatedAt": {{ json activatedAt }},
//	  "closedAt": {{ json closedAt }},
//	  "sources": {{ json accumulations.source }},
//	  "alertPolicyNames": {{ json accumulations.policyName }},
//	  "alertConditionNames": {{ json accumulations.conditionName }},
//	  "workflowName": {{ json workflowName }},
//	  "entitiesData": {{ json entitiesData }},
//	  "impactedEntities": {{ json entitiesData.names }},
//	  "totalIncidents": {{ json totalIncidents }},
//	  "owner": {{ json owner }},
//	  "labels": {{ json labels }},
//	  "tags": {{ json accumulations.tag }}
//	}
//
// Only the issue's id and state are required. The default template sends
// the id as "id"; it is read when "issueId" is absent. Ids, counts and
// flags may arrive as JSON strings or numbers, lists and objects as null.
// A notification is one issue and becomes one signal.
//
// Status, from state (matched without regard to case): CREATED, ACTIVATED
// → FIRING; ACKNOWLEDGED → ACKNOWLEDGED; CLOSED → RESOLVED.
//
// Severity, from priority (New Relic's issue priorities):
//
//	CRITICAL                         → CRITICAL
//	HIGH                             → ERROR
//	MEDIUM                           → WARNING
//	LOW                              → INFO
//	missing, or any other value      → WARNING
//
// Fields:
//
//   - Title: title (the issue's title annotation), else the first alert
//     condition name, else the first policy name; Description: description.
//   - Resource: the first impacted entity's name (entitiesData.names, else
//     impactedEntities).
//   - Labels: accumulations, labels and tags flattened (lists joined with
//     ","), then priority, workflowName, alertPolicyNames,
//     alertConditionNames, sources, impactedEntities, entityTypes and
//     entityIds.
//   - Annotations: trigger, isCorrelated, totalIncidents, owner.
//   - Link: issueUrl (the issue's page), when it is an absolute http(s)
//     URL.
//   - StartsAt: activatedAt, else createdAt; EndsAt, for closed issues:
//     closedAt, else updatedAt (all milliseconds since the epoch).
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both): "nr:" followed by the issue id
// (issueId, else id), lower-cased. New Relic's issue id is a UUID that stays
// the same from the issue's creation through acknowledgement to its
// closing; a correlated incident joins the existing issue and keeps its id.
// Ids must be 1-128 ASCII letters, digits, '.', '_', '~' or '-'; any other
// is refused. ExternalId is the issue id as sent.
type NewRelic struct{}

var nrRecipe = Recipe{Name: NewRelicSource, Prefix: "nr", Version: 1}

// nrIssue is one notification rendered from the template above.
type nrIssue struct {
	IssueID             jsonText   `json:"issueId"`
	ID                  jsonText   `json:"id"`
	IssueURL            string     `json:"issueUrl"`
	Title               string     `json:"title"`
	Description         string     `json:"description"`
	Priority            string     `json:"priority"`
	State               string     `json:"state"`
	Trigger             jsonText   `json:"trigger"`
	IsCorrelated        jsonText   `json:"isCorrelated"`
	CreatedAt           jsonEpoch  `json:"createdAt"`
	UpdatedAt           jsonEpoch  `json:"updatedAt"`
	ActivatedAt         jsonEpoch  `json:"activatedAt"`
	ClosedAt            jsonEpoch  `json:"closedAt"`
	Sources             []jsonText `json:"sources"`
	AlertPolicyNames    []jsonText `json:"alertPolicyNames"`
	AlertConditionNames []jsonText `json:"alertConditionNames"`
	WorkflowName        string     `json:"workflowName"`
	ImpactedEntities    []jsonText `json:"impactedEntities"`
	EntitiesData        struct {
		Names []jsonText `json:"names"`
		Types []jsonText `json:"types"`
		IDs   []jsonText `json:"ids"`
	} `json:"entitiesData"`
	TotalIncidents jsonText       `json:"totalIncidents"`
	Owner          jsonText       `json:"owner"`
	Accumulations  map[string]any `json:"accumulations"`
	Labels         map[string]any `json:"labels"`
	Tags           map[string]any `json:"tags"`
}

// Normalise implements Normaliser. Headers are not used.
func (NewRelic) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var is nrIssue
	if err := decodeJSONNumbers(payload, &is); err != nil {
		return nil, fmt.Errorf("%w: not a JSON New Relic workflow notification: %v", ErrInvalidPayload, err)
	}
	sig, err := nrSignal(&is)
	if err != nil {
		return nil, fmt.Errorf("%w: New Relic workflow notification: %v", ErrInvalidPayload, err)
	}
	sig.ReceivedAt = timestamppb.New(received)
	sig.RawPayload = bytes.Clone(payload)
	return []*signalv1.Signal{sig}, nil
}

func nrSignal(is *nrIssue) (*signalv1.Signal, error) {
	rawID := cmp.Or(is.IssueID, is.ID)
	id, err := ownAlertID("issueId", string(rawID))
	if err != nil {
		return nil, err
	}
	var status signalv1.Status
	switch strings.ToUpper(is.State) {
	case "CREATED", "ACTIVATED":
		status = signalv1.Status_STATUS_FIRING
	case "ACKNOWLEDGED":
		status = signalv1.Status_STATUS_ACKNOWLEDGED
	case "CLOSED":
		status = signalv1.Status_STATUS_RESOLVED
	default:
		if is.State == "" {
			return nil, fmt.Errorf("state is missing; the workflow's payload template must send {{ json state }}")
		}
		return nil, fmt.Errorf("state %.16q is none of CREATED, ACTIVATED, ACKNOWLEDGED and CLOSED", is.State)
	}
	startsAt, err := cmp.Or(is.ActivatedAt, is.CreatedAt).timestamp(time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("activatedAt or createdAt: %w", err)
	}
	endsAt, err := cmp.Or(is.ClosedAt, is.UpdatedAt).timestamp(time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("closedAt or updatedAt: %w", err)
	}
	entities := is.EntitiesData.Names
	if len(entities) == 0 {
		entities = is.ImpactedEntities
	}
	sig := &signalv1.Signal{
		Source:      NewRelicSource,
		Status:      status,
		Severity:    nrPriority(is.Priority),
		Title:       cmp.Or(is.Title, string(cmp.Or(is.AlertConditionNames...)), string(cmp.Or(is.AlertPolicyNames...)), "New Relic issue "+id),
		Description: is.Description,
		Resource:    string(cmp.Or(entities...)),
		Labels:      nrLabels(is, entities),
		Annotations: nrAnnotations(is),
		StartsAt:    startsAt,
		ExternalId:  string(rawID),
		Link:        httpLink(is.IssueURL),
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = endsAt
	}
	nrRecipe.Apply(sig, strings.ToLower(id))
	return sig, nil
}

// nrPriority maps New Relic's issue priority (see NewRelic for the table).
func nrPriority(priority string) signalv1.Severity {
	switch strings.ToUpper(strings.TrimSpace(priority)) {
	case "CRITICAL":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "HIGH":
		return signalv1.Severity_SEVERITY_ERROR
	case "LOW":
		return signalv1.Severity_SEVERITY_INFO
	default:
		return signalv1.Severity_SEVERITY_WARNING
	}
}

func nrLabels(is *nrIssue, entities []jsonText) map[string]string {
	labels := map[string]string{}
	addJSONLabels(labels, "", is.Accumulations)
	addJSONLabels(labels, "", is.Labels)
	addJSONLabels(labels, "", is.Tags)
	setLabel(labels, "priority", is.Priority)
	setLabel(labels, "workflowName", is.WorkflowName)
	setLabel(labels, "alertPolicyNames", joinNonEmpty(is.AlertPolicyNames, ","))
	setLabel(labels, "alertConditionNames", joinNonEmpty(is.AlertConditionNames, ","))
	setLabel(labels, "sources", joinNonEmpty(is.Sources, ","))
	setLabel(labels, "impactedEntities", joinNonEmpty(entities, ","))
	setLabel(labels, "entityTypes", joinNonEmpty(is.EntitiesData.Types, ","))
	setLabel(labels, "entityIds", joinNonEmpty(is.EntitiesData.IDs, ","))
	return labels
}

func nrAnnotations(is *nrIssue) map[string]string {
	annotations := map[string]string{}
	setLabel(annotations, "trigger", string(is.Trigger))
	setLabel(annotations, "isCorrelated", string(is.IsCorrelated))
	setLabel(annotations, "totalIncidents", string(is.TotalIncidents))
	setLabel(annotations, "owner", string(is.Owner))
	return annotations
}
