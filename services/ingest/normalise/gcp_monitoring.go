package normalise

import (
	"bytes"
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// GCPMonitoringSource is the source name of Google Cloud Monitoring webhook
// notification channels.
const GCPMonitoringSource = "gcp-monitoring"

// GCPMonitoring normalises Google Cloud Monitoring webhook notifications,
// schema version "1.2" ({"incident": {...}, "version": "1.2"}); other 1.x
// versions are read the same way, and "test", the payload of the console's
// Test Connection button, is accepted so that the button shows a signal. A
// notification is one incident and becomes one signal.
//
// Status, from incident.state (matched without regard to case; real
// notifications send lower case, the test payload upper case): open →
// FIRING, acknowledged → ACKNOWLEDGED, closed → RESOLVED.
//
// Severity, from incident.severity (the alerting policy's severity, sent
// as "Critical", "Error", "Warning" or "No severity"), matched without
// regard to case:
//
//	critical                         → CRITICAL
//	error                            → ERROR
//	warning                          → WARNING
//	no severity, or missing          → the policy's user label "severity"
//	                                   read with SeverityWord (WARNING when
//	                                   there is none)
//
// Fields:
//
//   - Title: policy_name (the policy's display name), else condition_name,
//     else summary; Description: summary (the sentence Cloud Monitoring
//     writes, e.g. "CPU usage ... is above the threshold of 0.8 with a value
//     of 0.93.").
//   - Resource: resource_display_name, else resource_name, else
//     resource_id, else resource.type.
//   - Labels: policy_user_labels and metadata.user_labels as they are,
//     metadata.system_labels as "system.<name>", resource.labels as
//     "resource.<name>", metric.labels as "metric.<name>", then
//     resource.type, metric.type, policy_name, condition_name,
//     scoping_project_id and severity.
//   - Annotations: documentation (the content, whether sent as the
//     documented object or as the test payload's plain string), subject,
//     observed_value, threshold_value, metric (its display name),
//     resource_type_display_name and apigee_url.
//   - Link: url (the incident's page in the console), when it is an
//     absolute http(s) URL.
//   - StartsAt: started_at; EndsAt, for closed incidents: ended_at (both
//     seconds since the epoch).
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both): "gcpmon:" followed by
// incident.incident_id unchanged (e.g. "0.lj2va6zdkemq"). Cloud Monitoring
// sends the same incident_id when an incident opens and when it closes, and
// a new one for each new incident of a policy. Ids must be 1-128 ASCII
// letters, digits, '.', '_', '~' or '-'; any other is refused. ExternalId is
// incident_id.
type GCPMonitoring struct{}

var gcpmonRecipe = Recipe{Name: GCPMonitoringSource, Prefix: "gcpmon", Version: 1}

// gcpmonMessage is the notification envelope.
type gcpmonMessage struct {
	Version  jsonText        `json:"version"`
	Incident *gcpmonIncident `json:"incident"`
}

// gcpmonIncident is the incident. The condition object (a copy of the
// policy's condition) is not decoded: condition_name names it, and its
// shape differs for every condition type.
type gcpmonIncident struct {
	IncidentID              jsonText  `json:"incident_id"`
	ScopingProjectID        string    `json:"scoping_project_id"`
	URL                     string    `json:"url"`
	StartedAt               jsonEpoch `json:"started_at"`
	EndedAt                 jsonEpoch `json:"ended_at"`
	State                   string    `json:"state"`
	Summary                 string    `json:"summary"`
	ApigeeURL               string    `json:"apigee_url"`
	ObservedValue           jsonText  `json:"observed_value"`
	ThresholdValue          jsonText  `json:"threshold_value"`
	ResourceTypeDisplayName string    `json:"resource_type_display_name"`
	ResourceID              jsonText  `json:"resource_id"`
	ResourceDisplayName     string    `json:"resource_display_name"`
	ResourceName            string    `json:"resource_name"`
	Resource                struct {
		Type   string         `json:"type"`
		Labels map[string]any `json:"labels"`
	} `json:"resource"`
	Metric struct {
		Type        string         `json:"type"`
		DisplayName string         `json:"displayName"`
		Labels      map[string]any `json:"labels"`
	} `json:"metric"`
	Metadata struct {
		SystemLabels map[string]any `json:"system_labels"`
		UserLabels   map[string]any `json:"user_labels"`
	} `json:"metadata"`
	PolicyName       string          `json:"policy_name"`
	PolicyUserLabels map[string]any  `json:"policy_user_labels"`
	Documentation    json.RawMessage `json:"documentation"`
	ConditionName    string          `json:"condition_name"`
	Severity         string          `json:"severity"`
}

// gcpmonDocumentation is the policy's documentation as notifications send
// it.
type gcpmonDocumentation struct {
	Content string `json:"content"`
	Subject string `json:"subject"`
}

// Normalise implements Normaliser. Headers are not used.
func (GCPMonitoring) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var msg gcpmonMessage
	if err := decodeJSONNumbers(payload, &msg); err != nil {
		return nil, fmt.Errorf("%w: not a JSON Cloud Monitoring notification: %v", ErrInvalidPayload, err)
	}
	if v := string(msg.Version); v != "test" && !strings.HasPrefix(v, "1.") {
		if v == "" {
			return nil, fmt.Errorf("%w: Cloud Monitoring notification has no version, want \"1.2\"", ErrInvalidPayload)
		}
		return nil, fmt.Errorf("%w: Cloud Monitoring notification version %.16q is not supported, want \"1.2\"", ErrInvalidPayload, v)
	}
	if msg.Incident == nil {
		return nil, fmt.Errorf("%w: Cloud Monitoring notification has no incident", ErrInvalidPayload)
	}
	sig, err := gcpmonSignal(msg.Incident)
	if err != nil {
		return nil, fmt.Errorf("%w: Cloud Monitoring incident: %v", ErrInvalidPayload, err)
	}
	sig.ReceivedAt = timestamppb.New(received)
	sig.RawPayload = bytes.Clone(payload)
	return []*signalv1.Signal{sig}, nil
}

func gcpmonSignal(inc *gcpmonIncident) (*signalv1.Signal, error) {
	id, err := ownAlertID("incident_id", string(inc.IncidentID))
	if err != nil {
		return nil, err
	}
	var status signalv1.Status
	switch strings.ToLower(inc.State) {
	case "open":
		status = signalv1.Status_STATUS_FIRING
	case "acknowledged":
		status = signalv1.Status_STATUS_ACKNOWLEDGED
	case "closed":
		status = signalv1.Status_STATUS_RESOLVED
	default:
		return nil, fmt.Errorf("state %.16q is none of \"open\", \"acknowledged\" and \"closed\"", inc.State)
	}
	startsAt, err := inc.StartedAt.timestamp(time.Second)
	if err != nil {
		return nil, fmt.Errorf("started_at: %w", err)
	}
	endsAt, err := inc.EndedAt.timestamp(time.Second)
	if err != nil {
		return nil, fmt.Errorf("ended_at: %w", err)
	}
	sig := &signalv1.Signal{
		Source:      GCPMonitoringSource,
		Status:      status,
		Severity:    gcpmonSeverity(inc.Severity, inc.PolicyUserLabels),
		Title:       cmp.Or(inc.PolicyName, inc.ConditionName, inc.Summary, "Cloud Monitoring incident "+id),
		Description: inc.Summary,
		Resource:    cmp.Or(inc.ResourceDisplayName, inc.ResourceName, string(inc.ResourceID), inc.Resource.Type),
		Labels:      gcpmonLabels(inc),
		Annotations: gcpmonAnnotations(inc),
		StartsAt:    startsAt,
		ExternalId:  id,
		Link:        httpLink(inc.URL),
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = endsAt
	}
	gcpmonRecipe.Apply(sig, id)
	return sig, nil
}

// gcpmonSeverity maps the policy's severity, falling back on a "severity"
// user label for policies without one (see GCPMonitoring for the table).
func gcpmonSeverity(severity string, policyLabels map[string]any) signalv1.Severity {
	switch strings.ToLower(strings.TrimSpace(severity)) {
	case "critical":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "error":
		return signalv1.Severity_SEVERITY_ERROR
	case "warning":
		return signalv1.Severity_SEVERITY_WARNING
	}
	label, _ := decodedScalarText(policyLabels["severity"])
	return SeverityWord(label)
}

func gcpmonLabels(inc *gcpmonIncident) map[string]string {
	labels := map[string]string{}
	addJSONLabels(labels, "", inc.PolicyUserLabels)
	addJSONLabels(labels, "", inc.Metadata.UserLabels)
	addJSONLabels(labels, "system", inc.Metadata.SystemLabels)
	addJSONLabels(labels, "resource", inc.Resource.Labels)
	addJSONLabels(labels, "metric", inc.Metric.Labels)
	setLabel(labels, "resource.type", inc.Resource.Type)
	setLabel(labels, "metric.type", inc.Metric.Type)
	setLabel(labels, "policy_name", inc.PolicyName)
	setLabel(labels, "condition_name", inc.ConditionName)
	setLabel(labels, "scoping_project_id", inc.ScopingProjectID)
	setLabel(labels, "severity", inc.Severity)
	return labels
}

func gcpmonAnnotations(inc *gcpmonIncident) map[string]string {
	annotations := map[string]string{}
	doc := gcpmonReadDocumentation(inc.Documentation)
	setLabel(annotations, "documentation", doc.Content)
	setLabel(annotations, "subject", doc.Subject)
	setLabel(annotations, "observed_value", string(inc.ObservedValue))
	setLabel(annotations, "threshold_value", string(inc.ThresholdValue))
	setLabel(annotations, "metric", inc.Metric.DisplayName)
	setLabel(annotations, "resource_type_display_name", inc.ResourceTypeDisplayName)
	setLabel(annotations, "apigee_url", inc.ApigeeURL)
	return annotations
}

// gcpmonReadDocumentation reads the documentation object, or the plain
// string the test payload sends in its place. Documentation only describes,
// so any other shape is passed over rather than refused.
func gcpmonReadDocumentation(raw json.RawMessage) gcpmonDocumentation {
	var doc gcpmonDocumentation
	if len(raw) == 0 {
		return doc
	}
	if raw[0] == '"' {
		_ = json.Unmarshal(raw, &doc.Content)
		return doc
	}
	if json.Unmarshal(raw, &doc) != nil {
		return gcpmonDocumentation{}
	}
	return doc
}
