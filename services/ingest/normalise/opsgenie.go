package normalise

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// OpsgenieSource is the source name of Opsgenie webhooks.
const OpsgenieSource = "opsgenie"

// Opsgenie normalises the alert action data that Opsgenie's outgoing
// Webhook integration posts: {"action", "alert": {alertId, alias, tinyId,
// message, description, tags, details, entity, source, priority,
// createdAt, updatedAt, username, userId, note, ...}, "source": {name,
// type}, "integrationId", "integrationName"}. One payload is one alert.
//
// Status, from action: Create and UnAcknowledge → FIRING; Acknowledge →
// ACKNOWLEDGED; Close and Delete → RESOLVED (a deleted alert no longer
// exists at the source, so nothing is left to fire). Actions that do not
// change where the alert stands (AddNote, AddTags, AssignOwnership,
// Escalate, custom actions, ...) carry no status and are refused with an
// error that names the actions ingested; untick them in the integration.
//
// Severity, from the alert's priority (Opsgenie's P1 Critical .. P5
// Informational), case and surrounding space ignored:
//
//	P1                 → CRITICAL
//	P2                 → ERROR
//	P3                 → WARNING
//	P4, P5             → INFO
//	missing or another → WARNING (P3 is Opsgenie's default)
//
// Fields: the title is message, else "Opsgenie alert <tinyId or alertId>";
// the description is description; the resource is entity, else the host
// or service detail; labels are the tags ("key:value" split at the first
// colon, a bare tag kept as a key with an empty value) and the details
// (which win); annotations are tinyId, the alert's source, the acting user
// (username), the action, the note, and the integration's name where
// given; createdAt (epoch milliseconds) gives the start; updatedAt gives
// the end of a resolved alert (Opsgenie sends it in nanoseconds; a value
// small enough to be milliseconds is read as such). The webhook carries no
// URL of the alert and Opsgenie's host depends on the account and region,
// so no link is made up. The raw payload is the whole body.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a new recipe version): the alias is Opsgenie's own
// de-duplication key, and Opsgenie sets it to the alertId when the alert's
// creator gave none. The fingerprint is "og:" followed by HashFields of
// {"alias": alias}, where a payload without an alias is given its alertId
// as Opsgenie would have. Hashing keeps the fingerprint short and free of
// separators, since an alias is free text of up to 512 characters. Every
// action on one alert carries the same alias, so Create, Acknowledge and
// Close share the fingerprint, while alerts with different aliases, which
// Opsgenie keeps apart, differ. The alertId is the external id.
type Opsgenie struct{}

// ogMessage is the webhook body.
type ogMessage struct {
	Action          string          `json:"action"`
	Alert           *ogAlert        `json:"alert"`
	Source          json.RawMessage `json:"source"`
	IntegrationName string          `json:"integrationName"`
}

// ogAlert is the subset of the alert Opsgenie puts in a webhook. tinyId,
// createdAt and updatedAt are read as strings or numbers, since Opsgenie's
// samples write tinyId as a string and the times as numbers.
type ogAlert struct {
	AlertID     stringOrNumber    `json:"alertId"`
	Alias       string            `json:"alias"`
	TinyID      stringOrNumber    `json:"tinyId"`
	Message     string            `json:"message"`
	Description string            `json:"description"`
	Tags        []string          `json:"tags"`
	Details     map[string]string `json:"details"`
	Entity      string            `json:"entity"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
	CreatedAt   stringOrNumber    `json:"createdAt"`
	UpdatedAt   stringOrNumber    `json:"updatedAt"`
	Username    string            `json:"username"`
	Note        string            `json:"note"`
}

// ogActionSource says where the action came from (web, API, ...). It is
// decoded apart from the body, and only for an annotation, so that a
// source of another shape never costs the alert.
type ogActionSource struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

func (m ogMessage) actionSource() string {
	var src ogActionSource
	if json.Unmarshal(m.Source, &src) != nil {
		return ""
	}
	return cmp.Or(src.Type, src.Name)
}

// opsgenieRecipe is the Opsgenie recipe (see Opsgenie).
var opsgenieRecipe = Recipe{Name: OpsgenieSource, Prefix: "og", Version: 1}

// ogAlertIDPattern accepts Opsgenie's alert ids (UUIDs) and keeps free
// text out of the external id.
var ogAlertIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,128}$`)

// ogAliasLimit is Opsgenie's own limit on an alias.
const ogAliasLimit = 512

// ogIngestedActions lists, for error messages, the actions that map to a
// status.
const ogIngestedActions = "Create, Acknowledge, UnAcknowledge, Close and Delete"

// Normalise implements Normaliser. Headers are not used: Opsgenie sends
// only the custom headers the user configured, which carry no alert data.
func (Opsgenie) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	var m ogMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("%w: not a JSON Opsgenie webhook body: %v", ErrInvalidPayload, err)
	}
	sig, err := normaliseOpsgenie(m, received)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	sig.RawPayload = bytes.Clone(payload)
	return []*signalv1.Signal{sig}, nil
}

func normaliseOpsgenie(m ogMessage, received time.Time) (*signalv1.Signal, error) {
	status, err := opsgenieStatus(m.Action)
	if err != nil {
		return nil, err
	}
	if m.Alert == nil {
		return nil, fmt.Errorf("Opsgenie webhook body has no alert")
	}
	a := m.Alert
	alertID := strings.TrimSpace(string(a.AlertID))
	if alertID != "" && !ogAlertIDPattern.MatchString(alertID) {
		return nil, fmt.Errorf("alert.alertId is not an Opsgenie alert id")
	}
	alias := cmp.Or(a.Alias, alertID)
	switch {
	case alias == "":
		return nil, fmt.Errorf("Opsgenie alert has neither an alias nor an alertId")
	case len(alias) > ogAliasLimit:
		return nil, fmt.Errorf("alert.alias is longer than Opsgenie's %d characters", ogAliasLimit)
	}
	createdAt, err := opsgenieTime(a.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("alert.createdAt: %w", err)
	}
	updatedAt, err := opsgenieTime(a.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("alert.updatedAt: %w", err)
	}
	labels := make(map[string]string, len(a.Tags)+len(a.Details))
	addTagLabels(labels, a.Tags)
	for name, value := range a.Details {
		labels[name] = value
	}
	sig := &signalv1.Signal{
		Source:      OpsgenieSource,
		Status:      status,
		Severity:    opsgenieSeverity(a.Priority),
		Title:       cmp.Or(strings.TrimSpace(a.Message), "Opsgenie alert "+cmp.Or(string(a.TinyID), alertID, alias)),
		Description: a.Description,
		Resource:    cmp.Or(strings.TrimSpace(a.Entity), a.Details["host"], a.Details["service"]),
		Labels:      labels,
		Annotations: opsgenieAnnotations(m),
		StartsAt:    createdAt,
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  alertID,
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = updatedAt
	}
	if len(sig.Labels) == 0 {
		sig.Labels = nil
	}
	opsgenieRecipe.Apply(sig, HashFields(map[string]string{"alias": alias}))
	return sig, nil
}

// opsgenieStatus maps an action (see Opsgenie).
func opsgenieStatus(action string) (signalv1.Status, error) {
	switch action {
	case "Create", "UnAcknowledge":
		return signalv1.Status_STATUS_FIRING, nil
	case "Acknowledge":
		return signalv1.Status_STATUS_ACKNOWLEDGED, nil
	case "Close", "Delete":
		return signalv1.Status_STATUS_RESOLVED, nil
	case "":
		return 0, fmt.Errorf("Opsgenie webhook body has no action, want one of %s", ogIngestedActions)
	default:
		return 0, fmt.Errorf("Opsgenie action %.32q does not change an alert's status and is not ingested; Alexus ingests %s", action, ogIngestedActions)
	}
}

// opsgenieSeverity applies the table in Opsgenie's doc comment.
func opsgenieSeverity(priority string) signalv1.Severity {
	if sev, ok := priorityLevelSeverity(priority); ok {
		return sev
	}
	return signalv1.Severity_SEVERITY_WARNING
}

// opsgenieTime reads an epoch time that Opsgenie writes in milliseconds
// (createdAt) or nanoseconds (updatedAt). A value above 1e15 cannot be
// milliseconds of any year Alexus will see (it is past the year 33000), so
// it is read as nanoseconds. Absent, zero or negative is no time.
func opsgenieTime(v stringOrNumber) (*timestamppb.Timestamp, error) {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("not a whole number of epoch milliseconds or nanoseconds")
	}
	if n > 1e15 {
		return epochTime(n, time.Nanosecond)
	}
	return epochTime(n, time.Millisecond)
}

func opsgenieAnnotations(m ogMessage) map[string]string {
	return nonEmptyTrimmed(map[string]string{
		"tiny_id":          string(m.Alert.TinyID),
		"alert_source":     m.Alert.Source,
		"username":         m.Alert.Username,
		"action":           m.Action,
		"action_source":    m.actionSource(),
		"note":             m.Alert.Note,
		"integration_name": m.IntegrationName,
	})
}
