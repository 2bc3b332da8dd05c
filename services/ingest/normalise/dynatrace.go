package normalise

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
	"google.golang.org/protobuf/types/known/timestamppb"

	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// DynatraceSource is the source name of Dynatrace problem notifications.
const DynatraceSource = "dynatrace"

// Dynatrace normalises Dynatrace problem notifications sent by a "Custom
// integration" (webhook) problem-notification integration. Its body is a
// template of Dynatrace placeholders; Alexus expects this one, with
// "Notify closed problems" and "Notify when problems are merged" enabled so
// that problems are also resolved in Alexus:
//
//	{
//	  "PID": "{PID}",
//	  "ProblemID": "{ProblemID}",
//	  "State": "{State}",
//	  "ProblemTitle": "{ProblemTitle}",
//	  "ProblemSeverity": "{ProblemSeverity}",
//	  "ProblemImpact": "{ProblemImpact}",
//	  "ImpactedEntity": "{ImpactedEntity}",
//	  "ImpactedEntityNames": "{ImpactedEntityNames}",
//	  "ImpactedEntities": {ImpactedEntities},
//	  "ProblemURL": "{ProblemURL}",
//	  "Tags": "{Tags}",
//	  "ProblemDetailsText": "{ProblemDetailsText}",
//	  "ProblemDetailsJSON": {ProblemDetailsJSON}
//	}
//
// Only PID and State are required. PID and ProblemID may be strings or
// numbers; ImpactedEntities and ProblemDetailsJSON (or ProblemDetailsJSONv2)
// may be the JSON itself or a string holding it; "Problem URL" (as in
// Dynatrace's own example) is read when ProblemURL is absent.
//
// Status: State OPEN is firing and RESOLVED is resolved. MERGED is resolved
// too: Dynatrace sends it when it folds this problem into another one,
// after which this PID never gets a RESOLVED notification and the events
// live on under the surviving problem's PID (which notifies on its own).
// Left firing, the merged problem's signal would stay open for ever.
// Dynatrace has no acknowledgement in its notifications.
//
// Severity, from ProblemSeverity:
//
//	AVAILABILITY                                 → CRITICAL
//	ERROR                                        → ERROR
//	PERFORMANCE, RESOURCE_CONTENTION,
//	CUSTOM_ALERT, MONITORING_UNAVAILABLE         → WARNING
//	INFO                                         → INFO
//	missing or anything else                     → WARNING
//
// Title is ProblemTitle. Resource is the first impacted entity's name, else
// ImpactedEntityNames, else ImpactedEntity. Description is
// ProblemDetailsText. Labels are the Tags ("key:value" as key=value, a bare
// tag as key=""), then problem_id, problem_severity and problem_impact,
// which win over tags of the same name. Annotations hold ImpactedEntity and
// the impacted entities as "name (ENTITY-ID)". Link is ProblemURL when it
// is an absolute http(s) URL. StartsAt
// and, for resolved signals, EndsAt come from the problem details'
// startTime and endTime (milliseconds). RawPayload is the whole body.
//
// Fingerprint contract (stored in dedup claims and incidents, so it must not
// change without a migration of both):
//
//   - When PID is 1-128 ASCII letters, digits or "-_.:" (as Dynatrace's
//     problem ids are), "dt:" followed by PID unchanged.
//   - Otherwise "dthash:" followed by HashFields of {"pid": PID}, which
//     keeps odd ids short and free of separators.
//
// PID is Dynatrace's internal id of one problem, kept by every notification
// about it (open, resolved or merged); ProblemID, the short number shown in
// the UI, is the ExternalId and a label.
type Dynatrace struct{}

// The two branches of the Dynatrace recipe (see Dynatrace).
var (
	dynatraceOwnRecipe  = Recipe{Name: DynatraceSource, Prefix: "dt", Version: 1}
	dynatraceHashRecipe = Recipe{Name: DynatraceSource, Prefix: "dthash", Version: 1}
)

var dynatracePIDPattern = regexp.MustCompile(`^[0-9A-Za-z_.:-]{1,128}$`)

// dynatraceEntity is one element of {ImpactedEntities}.
type dynatraceEntity struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Entity string `json:"entity"`
}

// dynatraceProblem is the notification after reading.
type dynatraceProblem struct {
	pid, problemID, state, title string
	severity, impact             string
	impactedEntity, entityNames  string
	url, tags, details           string
	entities                     []dynatraceEntity
	startsAt, endsAt             *timestamppb.Timestamp
}

// Normalise implements Normaliser. Headers are not used: they are the
// custom headers configured in the integration, the same for every problem.
func (Dynatrace) Normalise(payload []byte, _ map[string]string, received time.Time) ([]*signalv1.Signal, error) {
	p, err := readDynatraceProblem(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: Dynatrace problem notification: %v", ErrInvalidPayload, err)
	}
	status, err := dynatraceStatus(p.state)
	if err != nil {
		return nil, fmt.Errorf("%w: Dynatrace problem notification: %v", ErrInvalidPayload, err)
	}
	sig := &signalv1.Signal{
		Source:      DynatraceSource,
		Status:      status,
		Severity:    dynatraceSeverity(p.severity),
		Title:       cmp.Or(p.title, "Dynatrace problem "+cmp.Or(p.problemID, p.pid)),
		Description: p.details,
		Resource:    cmp.Or(dynatraceFirstEntityName(p.entities), p.entityNames, p.impactedEntity),
		Labels:      dynatraceLabels(p),
		Annotations: dynatraceAnnotations(p),
		StartsAt:    p.startsAt,
		ReceivedAt:  timestamppb.New(received),
		ExternalId:  p.problemID,
		Link:        httpLink(p.url),
		RawPayload:  bytes.Clone(payload),
	}
	if status == signalv1.Status_STATUS_RESOLVED {
		sig.EndsAt = p.endsAt
	}
	if dynatracePIDPattern.MatchString(p.pid) {
		dynatraceOwnRecipe.Apply(sig, p.pid)
	} else {
		dynatraceHashRecipe.Apply(sig, HashFields(map[string]string{"pid": p.pid}))
	}
	return []*signalv1.Signal{sig}, nil
}

func readDynatraceProblem(payload []byte) (dynatraceProblem, error) {
	f, err := decodeObjectFields(payload)
	if err != nil {
		return dynatraceProblem{}, err
	}
	p := dynatraceProblem{
		pid: f.text("PID"), problemID: f.text("ProblemID"), state: f.text("State"),
		title: f.text("ProblemTitle"), severity: f.text("ProblemSeverity"),
		impact: f.text("ProblemImpact"), impactedEntity: f.text("ImpactedEntity"),
		entityNames: f.text("ImpactedEntityNames"),
		url:         cmp.Or(f.text("ProblemURL"), f.text("Problem URL")),
		tags:        f.text("Tags"), details: f.text("ProblemDetailsText"),
	}
	if f.err != nil {
		return dynatraceProblem{}, f.err
	}
	if p.pid == "" {
		return dynatraceProblem{}, errors.New("PID is missing")
	}
	if err := dynatraceEmbeddedJSON(f.raw["ImpactedEntities"], &p.entities); err != nil {
		return dynatraceProblem{}, fmt.Errorf("ImpactedEntities: %w", err)
	}
	details, ok := f.raw["ProblemDetailsJSON"]
	if !ok {
		details = f.raw["ProblemDetailsJSONv2"]
	}
	if p.startsAt, p.endsAt, err = dynatraceTimes(details); err != nil {
		return dynatraceProblem{}, fmt.Errorf("ProblemDetailsJSON: %w", err)
	}
	return p, nil
}

func dynatraceStatus(state string) (signalv1.Status, error) {
	switch strings.ToUpper(strings.TrimSpace(state)) {
	case "OPEN":
		return signalv1.Status_STATUS_FIRING, nil
	case "RESOLVED", "MERGED":
		return signalv1.Status_STATUS_RESOLVED, nil
	case "":
		return 0, errors.New("State is missing")
	default:
		return 0, errors.New(`State is none of "OPEN", "RESOLVED" and "MERGED"`)
	}
}

// dynatraceSeverity maps ProblemSeverity; see Dynatrace for the table.
func dynatraceSeverity(severity string) signalv1.Severity {
	switch strings.ToUpper(strings.TrimSpace(severity)) {
	case "AVAILABILITY":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "ERROR":
		return signalv1.Severity_SEVERITY_ERROR
	case "INFO":
		return signalv1.Severity_SEVERITY_INFO
	default:
		return signalv1.Severity_SEVERITY_WARNING
	}
}

// dynatraceEmbeddedJSON decodes a JSON placeholder into v. Dynatrace wants
// {ImpactedEntities} and {ProblemDetailsJSON} written without quotes, but a
// quoted one arrives as a string holding the JSON, so both are read.
// Absent, null and "" leave v alone.
func dynatraceEmbeddedJSON(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if !jsonPresent(raw) {
		return nil
	}
	if raw[0] == '"' {
		inner, err := optionalString(raw)
		if err != nil {
			return err
		}
		if strings.TrimSpace(inner) == "" {
			return nil
		}
		raw = []byte(inner)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errors.New("not the JSON Dynatrace documents for it")
	}
	return nil
}

// dynatraceTimes reads startTime and endTime, in milliseconds since the
// epoch, from the problem details (API v1 and v2 name them alike). An
// endTime of -1 means the problem is still open.
func dynatraceTimes(details json.RawMessage) (start, end *timestamppb.Timestamp, err error) {
	var d struct {
		StartTime json.RawMessage `json:"startTime"`
		EndTime   json.RawMessage `json:"endTime"`
	}
	if err := dynatraceEmbeddedJSON(details, &d); err != nil {
		return nil, nil, err
	}
	if start, err = dynatraceMillis(d.StartTime); err != nil {
		return nil, nil, fmt.Errorf("startTime: %w", err)
	}
	if end, err = dynatraceMillis(d.EndTime); err != nil {
		return nil, nil, fmt.Errorf("endTime: %w", err)
	}
	return start, end, nil
}

// dynatraceMillis reads one of those times; -1 (like any count of zero or
// less) yields nil.
func dynatraceMillis(raw json.RawMessage) (*timestamppb.Timestamp, error) {
	text, err := scalarText(raw)
	if err != nil || text == "" {
		return nil, err
	}
	ms, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return nil, errors.New("not whole milliseconds")
	}
	return epochTime(ms, time.Millisecond)
}

func dynatraceFirstEntityName(entities []dynatraceEntity) string {
	for _, e := range entities {
		if e.Name != "" {
			return e.Name
		}
	}
	return ""
}

// dynatraceLabels flattens the comma-separated {Tags} ("key:value" or a
// bare "key", with an optional "[Context]" prefix kept in the key).
func dynatraceLabels(p dynatraceProblem) map[string]string {
	tags := tagValues{}
	for part := range strings.SplitSeq(p.tags, ",") {
		tags.add(splitTag(part))
	}
	labels := tags.labels()
	if labels == nil {
		labels = map[string]string{}
	}
	setLabel(labels, "problem_id", p.problemID)
	setLabel(labels, "problem_severity", p.severity)
	setLabel(labels, "problem_impact", p.impact)
	return labels
}

func dynatraceAnnotations(p dynatraceProblem) map[string]string {
	annotations := map[string]string{}
	setLabel(annotations, "impacted_entity", p.impactedEntity)
	names := make([]string, 0, len(p.entities))
	for _, e := range p.entities {
		if e.Entity != "" {
			names = append(names, cmp.Or(e.Name, e.Entity)+" ("+e.Entity+")")
		} else if e.Name != "" {
			names = append(names, e.Name)
		}
	}
	setLabel(annotations, "impacted_entities", strings.Join(names, ", "))
	return annotations
}
