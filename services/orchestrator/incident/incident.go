package incident

import (
	"errors"
	"strings"
	"time"

	orchestratorv1 "github.com/alexus-platform/alexus/gen/alexus/orchestrator/v1"
	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// Stage names a step an incident went through, as stored in
// incident_transitions.stage.
type Stage string

// The stages. The pipeline stages happen at most once per incident (a
// partial unique index enforces it). Repeated, and the status changes
// (resolved, acknowledged, reopened) with the quality gate's verdict on
// each resolution, may happen any number of times: a reopened incident is
// resolved again.
const (
	StageReceived   Stage = "received"
	StageClassify   Stage = "classify"
	StageBranch     Stage = "branch"
	StageConfidence Stage = "confidence"
	StageExecute    Stage = "execute"
	StageClarify    Stage = "clarify"
	StageEscalate   Stage = "escalate"
	StageRepeated   Stage = "repeated"
	StageResolved   Stage = "resolved"
	// StageAnswered is the confidence check rerun with a person's answer
	// to the clarify question.
	StageAnswered Stage = "answered"
	// StageQualityGate is the quality gate's verdict on the resolution, a
	// while after it (see package gate).
	StageQualityGate Stage = "quality_gate"
	// StageAcknowledged is a person, or the incident's ticket, saying
	// someone is on the incident (SetStatus).
	StageAcknowledged Stage = "acknowledged"
	// StageReopened is a person, or the incident's ticket, reopening a
	// resolved or acknowledged incident (SetStatus).
	StageReopened Stage = "reopened"
)

// Once reports whether s can happen only once per incident.
func (s Stage) Once() bool {
	switch s {
	case StageRepeated, StageResolved, StageQualityGate, StageAcknowledged, StageReopened:
		return false
	}
	return true
}

// statusStage reports whether s changes the incident's status.
func statusStage(s Stage) bool {
	return s == StageResolved || s == StageAcknowledged || s == StageReopened
}

// Proto returns the API enum of s.
func (s Stage) Proto() orchestratorv1.Stage {
	return orchestratorv1.Stage(orchestratorv1.Stage_value["STAGE_"+strings.ToUpper(string(s))])
}

// Status is an incident's lifecycle state, as stored.
type Status string

// The statuses.
const (
	StatusOpen     Status = "open"
	StatusResolved Status = "resolved"
	// StatusAcknowledged is an unresolved incident someone is on.
	StatusAcknowledged Status = "acknowledged"
)

// Proto returns the API enum of s.
func (s Status) Proto() orchestratorv1.IncidentStatus {
	return orchestratorv1.IncidentStatus(orchestratorv1.IncidentStatus_value["INCIDENT_STATUS_"+strings.ToUpper(string(s))])
}

// ParseStatus is the stored form of the API status s; ok is false for
// INCIDENT_STATUS_UNSPECIFIED and values the API does not define.
func ParseStatus(s orchestratorv1.IncidentStatus) (Status, bool) {
	switch s {
	case orchestratorv1.IncidentStatus_INCIDENT_STATUS_OPEN:
		return StatusOpen, true
	case orchestratorv1.IncidentStatus_INCIDENT_STATUS_ACKNOWLEDGED:
		return StatusAcknowledged, true
	case orchestratorv1.IncidentStatus_INCIDENT_STATUS_RESOLVED:
		return StatusResolved, true
	}
	return "", false
}

// Quality is what the quality gate made of an incident's resolution, as
// stored in incidents.resolution_quality.
type Quality string

// The qualities. An incident resolved without a gate scheduled (no
// ResolveHook) keeps QualityNone.
const (
	QualityNone        Quality = ""
	QualityPending     Quality = "pending"
	QualityValidated   Quality = "validated"
	QualityIneffective Quality = "ineffective"
)

// Proto returns the API enum of q.
func (q Quality) Proto() orchestratorv1.ResolutionQuality {
	return orchestratorv1.ResolutionQuality(orchestratorv1.ResolutionQuality_value["RESOLUTION_QUALITY_"+strings.ToUpper(string(q))])
}

// Incident is one alert's journey through the pipeline, joined with the
// signal that opened it.
type Incident struct {
	ID              string
	SignalID        string
	Fingerprint     string
	Source          string
	Title           string
	Resource        string
	Status          Status
	Severity        signalv1.Severity
	Intent          reasoningv1.Intent
	Decision        reasoningv1.Decision
	Stage           Stage
	OccurrenceCount int64
	CreatedAt       time.Time
	LastSeenAt      time.Time
	// ResolvedAt is nil while the incident is open.
	ResolvedAt *time.Time
	// ResolutionQuality is the quality gate's verdict on the resolution.
	ResolutionQuality Quality
}

// Transition is one stage an incident passed.
type Transition struct {
	IncidentID string
	Sequence   int64
	Stage      Stage
	Summary    string
	// Details are stage-specific key/value pairs. The pipeline keeps each
	// stage's full response under DetailResponse so that a redelivered
	// entry can resume without running the stage again.
	Details map[string]string
	At      time.Time
}

// DetailResponse is the details key holding a stage's response as proto
// JSON.
const DetailResponse = "response"

// DetailLatencyMS is the details key holding how long a stage took to run,
// in milliseconds, before it was stored.
const DetailLatencyMS = "latency_ms"

// Result is what a write did: the transition it stored (or found already
// stored) and the incident as it stands afterwards.
type Result struct {
	Incident   Incident
	Transition Transition
	// New is false when the transition had been stored before, by an
	// earlier delivery of the same stream entry.
	New bool
}

// Errors the store returns.
var (
	// ErrNotFound reports an incident that does not exist for the tenant.
	ErrNotFound = errors.New("incident not found")
	// ErrSignalNotFound reports an event about a signal the store has not
	// seen yet, e.g. a repeat overtaking its first occurrence across
	// replicas. It is worth retrying.
	ErrSignalNotFound = errors.New("signal not found")
	// ErrBadPageToken reports a page token this store did not issue.
	ErrBadPageToken = errors.New("invalid page token")
	// ErrStatusChange reports a status change the incident's status does
	// not allow, such as acknowledging a resolved incident.
	ErrStatusChange = errors.New("status change not allowed")
	// ErrResolutionChanged reports a quality gate verdict on a resolution
	// the incident no longer has: it was reopened, and maybe resolved
	// again, since the gate read it.
	ErrResolutionChanged = errors.New("the resolution was reopened")
)

// SeverityText is the stored form of s, e.g. "critical".
func SeverityText(s signalv1.Severity) string { return EnumText(s.String(), "SEVERITY_") }

// IntentText is the stored form of i, e.g. "incident".
func IntentText(i reasoningv1.Intent) string { return EnumText(i.String(), "INTENT_") }

// DecisionText is the stored form of d, e.g. "execute".
func DecisionText(d reasoningv1.Decision) string { return EnumText(d.String(), "DECISION_") }

func parseSeverity(s string) signalv1.Severity {
	return signalv1.Severity(signalv1.Severity_value["SEVERITY_"+strings.ToUpper(s)])
}

func parseIntent(s string) reasoningv1.Intent {
	return reasoningv1.Intent(reasoningv1.Intent_value["INTENT_"+strings.ToUpper(s)])
}

func parseDecision(s string) reasoningv1.Decision {
	return reasoningv1.Decision(reasoningv1.Decision_value["DECISION_"+strings.ToUpper(s)])
}

// EnumText is the stored form of a proto enum value name: lower case,
// without its type's prefix, e.g. EnumText("SEVERITY_CRITICAL", "SEVERITY_")
// is "critical".
func EnumText(name, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}

func statusText(s signalv1.Status) string {
	switch s {
	case signalv1.Status_STATUS_RESOLVED:
		return "resolved"
	case signalv1.Status_STATUS_ACKNOWLEDGED:
		return "acknowledged"
	default:
		return "firing"
	}
}

func parseStatus(s string) signalv1.Status {
	switch s {
	case "resolved":
		return signalv1.Status_STATUS_RESOLVED
	case "acknowledged":
		return signalv1.Status_STATUS_ACKNOWLEDGED
	default:
		return signalv1.Status_STATUS_FIRING
	}
}
