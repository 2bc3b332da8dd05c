package normalise

import (
	"bytes"
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// DatadogSource is the source name of Datadog webhooks.
const DatadogSource = "datadog"

// Datadog normalises notifications of Datadog's Webhooks integration. A
// Datadog webhook body is a template the user writes from $VARIABLES, so
// there is no fixed format; Alexus reads the template below, to be pasted
// into the webhook's Payload field (with "Encode as form" off). Every field
// but alert_id is optional, values may be written quoted (as here) or, for
// the numeric ones, bare, and unknown fields are ignored:
//
//	{
//	  "id": "$ID",
//	  "alert_id": "$ALERT_ID",
//	  "alert_cycle_key": "$ALERT_CYCLE_KEY",
//	  "alert_transition": "$ALERT_TRANSITION",
//	  "alert_type": "$ALERT_TYPE",
//	  "alert_title": "$ALERT_TITLE",
//	  "alert_status": "$ALERT_STATUS",
//	  "alert_scope": "$ALERT_SCOPE",
//	  "alert_metric": "$ALERT_METRIC",
//	  "alert_query": "$ALERT_QUERY",
//	  "alert_priority": "$ALERT_PRIORITY",
//	  "title": "$EVENT_TITLE",
//	  "body": "$EVENT_MSG",
//	  "event_type": "$EVENT_TYPE",
//	  "priority": "$PRIORITY",
//	  "date": "$DATE",
//	  "last_updated": "$LAST_UPDATED",
//	  "hostname": "$HOSTNAME",
//	  "tags": "$TAGS",
//	  "link": "$LINK",
//	  "org": {"id": "$ORG_ID", "name": "$ORG_NAME"}
//	}
//
// Status, from alert_transition (case and surrounding space ignored):
// Triggered, Re-Triggered, Warn, Re-Warn, No Data, Re-No Data and Renotify
// → FIRING; Recovered → RESOLVED. Datadog monitors have no acknowledgement,
// so it never yields ACKNOWLEDGED. When alert_transition is empty the
// alert_type stands in: success → RESOLVED, error, warning or info →
// FIRING. Any other transition is refused, naming the ones understood.
//
// Severity, from alert_type refined by the monitor's priority (taken from
// alert_priority, else from priority when that holds a P-level rather than
// the event priority normal/low):
//
//	alert_type error,   priority P1           → CRITICAL
//	alert_type error,   other or no priority  → ERROR
//	alert_type warning                        → WARNING
//	alert_type info or success                → INFO
//	no or another alert_type, priority P1..P5 → P1 CRITICAL, P2 ERROR,
//	                                            P3 WARNING, P4 and P5 INFO
//	no or another alert_type, no P-level      → WARNING
//
// Fields: the title is title ($EVENT_TITLE), else alert_title, else
// "Datadog monitor <alert_id>"; the description is body ($EVENT_MSG); the
// resource is hostname, else the scope's or tags' host, service or
// kube_service tag; labels are the tags ($TAGS) and the scope's tags
// (which win), each "key:value" tag split at its first colon and a tag
// without one kept as a key with an empty value; annotations are
// alert_status, alert_title, alert_query, alert_metric, alert_transition,
// alert_cycle_key, event_type, the event id, priority and the org's id and
// name where given; the link is link ($LINK) when it is an absolute
// http(s) URL. Datadog reports only the time of the notification (date,
// else last_updated, in epoch milliseconds): it is the start of a firing
// signal and the end of a resolved one. The raw payload is the whole body,
// which is one alert.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a new recipe version): a Datadog alert is one monitor
// (alert_id) evaluated over one group (alert_scope, e.g.
// "host:web-1,env:prod"; empty for simple monitors). The fingerprint is
// "dd:" followed by HashFields of {"alert_id": the monitor id,
// "alert_scope": the scope's tags trimmed of space, empty ones dropped,
// sorted byte-wise and joined with ","}. Normalising the scope keeps it
// equal however Datadog spaces or orders the tags, so the Triggered,
// Re-Triggered and Recovered notifications of one monitor group share it,
// while other groups of the same monitor, and other monitors, differ. The
// monitor id is also the external id.
type Datadog struct{}

// ddMessage is the body of the template documented on Datadog.
type ddMessage struct {
	ID              stringOrNumber `json:"id"`
	AlertID         stringOrNumber `json:"alert_id"`
	AlertCycleKey   stringOrNumber `json:"alert_cycle_key"`
	AlertTransition string         `json:"alert_transition"`
	AlertType       string         `json:"alert_type"`
	AlertTitle      string         `json:"alert_title"`
	AlertStatus     string         `json:"alert_status"`
	AlertScope      string         `json:"alert_scope"`
	AlertMetric     string         `json:"alert_metric"`
	AlertQuery      string         `json:"alert_query"`
	AlertPriority   string         `json:"alert_priority"`
	Title           string         `json:"title"`
	Body            string         `json:"body"`
	EventType       string         `json:"event_type"`
	Priority        string         `json:"priority"`
	Date            stringOrNumber `json:"date"`
	LastUpdated     stringOrNumber `json:"last_updated"`
	Hostname        string         `json:"hostname"`
	Tags            string         `json:"tags"`
	Link            string         `json:"link"`
	Org             struct {
		ID   stringOrNumber `json:"id"`
		Name string         `json:"name"`
	} `json:"org"`
}

// datadogRecipe is the Datadog recipe (see Datadog).
var datadogRecipe = Recipe{Name: DatadogSource, Prefix: "dd", Version: 1}

// Normalise implements Normaliser. Headers are not used: Datadog sends
// only the custom headers the user configured, which carry no alert data.
func (Datadog) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var m ddMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("%w: not a JSON Datadog webhook body (is \"Encode as form\" on?): %v", ErrInvalidPayload, err)
	}
	sig, err := normaliseDatadog(m, received)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	sig.RawPayload = bytes.Clone(payload)
	return []*signalv1.Signal{sig}, nil
}

func normaliseDatadog(m ddMessage, received time.Time) (*signalv1.Signal, error) {
	monitor := strings.TrimSpace(string(m.AlertID))
	if monitor == "" {
		return nil, fmt.Errorf("Datadog webhook body has no alert_id: put \"alert_id\": \"$ALERT_ID\" in the webhook's payload template")
	}
	status, err := datadogStatus(m.AlertTransition, m.AlertType)
	if err != nil {
		return nil, err
	}
	at, err := datadogTime(cmp.Or(m.Date, m.LastUpdated))
	if err != nil {
		return nil, err
	}
	// The scope's tags in canonical form, as the fingerprint hashes them.
	scope := sortedTags(strings.Split(m.AlertScope, ","))
	labels := make(map[string]string)
	addTagLabels(labels, strings.Split(m.Tags, ","))
	addTagLabels(labels, scope)
	sig := &signalv1.Signal{
		Source:      DatadogSource,
		Status:      status,
		Severity:    datadogSeverity(m.AlertType, cmp.Or(m.AlertPriority, m.Priority)),
		Title:       cmp.Or(strings.TrimSpace(m.Title), strings.TrimSpace(m.AlertTitle), "Datadog monitor "+monitor),
		Description: m.Body,
		Resource:    cmp.Or(strings.TrimSpace(m.Hostname), labels["host"], labels["service"], labels["kube_service"]),
		Labels:      labels,
		Annotations: datadogAnnotations(m),
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  monitor,
		Link:        httpLink(m.Link),
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = at
	} else {
		sig.StartsAt = at
	}
	datadogRecipe.Apply(sig, HashFields(map[string]string{
		"alert_id":    monitor,
		"alert_scope": strings.Join(scope, ","),
	}))
	if len(sig.Labels) == 0 {
		sig.Labels = nil
	}
	return sig, nil
}

// datadogStatus maps $ALERT_TRANSITION, or $ALERT_TYPE when the template
// leaves the transition out (see Datadog).
func datadogStatus(transition, alertType string) (signalv1.Status, error) {
	switch strings.ToLower(strings.TrimSpace(transition)) {
	case "triggered", "re-triggered", "warn", "re-warn", "no data", "re-no data", "renotify":
		return signalv1.Status_STATUS_FIRING, nil
	case "recovered":
		return signalv1.Status_STATUS_RESOLVED, nil
	case "":
	default:
		return 0, fmt.Errorf("alert_transition %.24q is not one of Triggered, Re-Triggered, Warn, Re-Warn, No Data, Re-No Data, Renotify or Recovered", transition)
	}
	switch strings.ToLower(strings.TrimSpace(alertType)) {
	case "success":
		return signalv1.Status_STATUS_RESOLVED, nil
	case "error", "warning", "info":
		return signalv1.Status_STATUS_FIRING, nil
	default:
		return 0, fmt.Errorf("Datadog webhook body has neither an alert_transition nor an alert_type of error, warning, info or success")
	}
}

// datadogSeverity applies the table in Datadog's doc comment.
func datadogSeverity(alertType, priority string) signalv1.Severity {
	level, hasLevel := priorityLevelSeverity(priority)
	switch strings.ToLower(strings.TrimSpace(alertType)) {
	case "error":
		if level == signalv1.Severity_SEVERITY_CRITICAL {
			return level
		}
		return signalv1.Severity_SEVERITY_ERROR
	case "warning":
		return signalv1.Severity_SEVERITY_WARNING
	case "info", "success":
		return signalv1.Severity_SEVERITY_INFO
	}
	if hasLevel {
		return level
	}
	return signalv1.Severity_SEVERITY_WARNING
}

// datadogTime reads $DATE (epoch milliseconds). Absent, zero or negative
// is no time; a value that is not a whole number of milliseconds, or lies
// beyond the year 9999, is refused, since the template put something else
// there.
func datadogTime(v stringOrNumber) (*timestamppb.Timestamp, error) {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return nil, nil
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("date is not epoch milliseconds")
	}
	// Zero or less is how a template says "unset", and yields nil.
	ts, err := epochTime(ms, time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("date is out of range")
	}
	return ts, nil
}

func datadogAnnotations(m ddMessage) map[string]string {
	return nonEmptyTrimmed(map[string]string{
		"alert_status":     m.AlertStatus,
		"alert_title":      m.AlertTitle,
		"alert_query":      m.AlertQuery,
		"alert_metric":     m.AlertMetric,
		"alert_transition": m.AlertTransition,
		"alert_cycle_key":  string(m.AlertCycleKey),
		"event_type":       m.EventType,
		"event_id":         string(m.ID),
		"priority":         cmp.Or(m.AlertPriority, m.Priority),
		"org_id":           string(m.Org.ID),
		"org_name":         m.Org.Name,
	})
}
