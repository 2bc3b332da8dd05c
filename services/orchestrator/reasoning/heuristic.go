package reasoning

import (
	"cmp"
	"fmt"
	"math"
	"strings"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// Signal is what the heuristics read of an alert.
type Signal struct {
	// Firing is false for resolved or acknowledged alerts.
	Firing bool
	// Severity is the source's severity as ingest mapped it; UNSPECIFIED
	// when the source gave none.
	Severity    signalv1.Severity
	Title       string
	Description string
	Resource    string
	Labels      map[string]string
	Annotations map[string]string
}

// Classification is the result of Classify.
type Classification struct {
	Intent     reasoningv1.Intent
	Severity   signalv1.Severity
	Confidence float64
	Rationale  string
}

// Action is an action a diagnosis recommends.
type Action struct {
	Kind    string
	Target  string
	Summary string
}

// Diagnosis is the result of Diagnose.
type Diagnosis struct {
	Branch        reasoningv1.Branch
	ProbableCause string
	// Evidence lists what the diagnosis rests on; every item here comes from
	// the signal itself, so none has a document ID.
	Evidence []string
	// Action is nil when nothing should be done automatically.
	Action     *Action
	Confidence float64
	Answer     string
}

// Thresholds are the confidence levels a decision is taken against.
type Thresholds struct {
	ExecuteAt float64
	ClarifyAt float64
}

// Decision is the result of Decide.
type Decision struct {
	Decision   reasoningv1.Decision
	Confidence float64
	Thresholds Thresholds
	Reason     string
}

// maxConfidence caps every heuristic confidence: rules over one alert are
// never certain, and leaving headroom lets a model's answer rank above them.
const maxConfidence = 0.95

// Names of the webhook action and target that diagnoses recommend. The
// target is a name the tenant registers, never a URL.
const (
	ActionKindWebhook    = "webhook"
	DefaultWebhookTarget = "default"
)

// IntentLabel lets a sender state the intent outright, e.g. a chat bridge
// forwarding a question as alexus_intent=cmdb_question.
const IntentLabel = "alexus_intent"

// noiseAlertnames are alerts that fire on purpose to prove the alerting
// pipeline works, or that exist only to inhibit others.
var noiseAlertnames = map[string]bool{
	"watchdog":       true,
	"infoinhibitor":  true,
	"deadmansswitch": true,
	"deadmanssnitch": true,
	"alwaysfiring":   true,
	"heartbeat":      true,
}

var cmdbPrefixes = []string{"what depends on", "who owns", "what runs on", "which services", "where does", "what is the owner"}

var changeWords = []string{"deploy", "deployment", "rollout", "roll-out", "release", "maintenance", "change window", "scheduled change", "migration window"}

// severityWords infer a severity from free text, most severe first, so the
// first matching group wins.
var severityWords = []struct {
	sev   signalv1.Severity
	words []string
}{
	{signalv1.Severity_SEVERITY_CRITICAL, []string{"outage", " down", "is down", "unreachable", "data loss", "unavailable"}},
	{signalv1.Severity_SEVERITY_ERROR, []string{"error rate", "errors", "failing", "failed", "failure", "5xx", "crash", "exception"}},
	{signalv1.Severity_SEVERITY_WARNING, []string{"latency", "slow", "degraded", "high", "saturat", "almost full", "pressure"}},
}

// Classify decides what sig is, how bad it is, and how sure the rules are.
//
// Confidence starts at 0.5 and grows with each thing the signal states
// rather than leaves to inference: an explicit intent or severity label, an
// alertname, a resource, a summary or description. An alert that says all
// of that (the common, well-labelled Alertmanager alert) reaches the cap.
func Classify(sig Signal) Classification {
	labels := lower(sig.Labels)
	var used []string
	conf := 0.5

	intent, why, explicit := classifyIntent(sig, labels)
	used = append(used, why)
	if explicit {
		conf += 0.1
	}
	if intent == reasoningv1.Intent_INTENT_NOISE && noiseAlertnames[strings.ToLower(labels["alertname"])] {
		// A known heartbeat alert is noise beyond reasonable doubt.
		conf += 0.2
	}

	sev, sevWhy, sevExplicit := classifySeverity(sig, labels, intent)
	used = append(used, sevWhy)
	if sevExplicit {
		conf += 0.15
	}
	if name := labels["alertname"]; name != "" {
		conf += 0.1
		used = append(used, fmt.Sprintf("alertname %q", name))
	}
	if sig.Resource != "" {
		conf += 0.1
		used = append(used, fmt.Sprintf("resource %q", sig.Resource))
	}
	if summaryOf(sig) != "" {
		conf += 0.1
		used = append(used, "the alert's summary")
	}
	return Classification{
		Intent:     intent,
		Severity:   sev,
		Confidence: capConfidence(conf),
		Rationale:  "heuristic: " + strings.Join(used, "; "),
	}
}

func classifyIntent(sig Signal, labels map[string]string) (intent reasoningv1.Intent, why string, explicit bool) {
	switch v := strings.ToLower(labels[IntentLabel]); v {
	case "incident":
		return reasoningv1.Intent_INTENT_INCIDENT, "label alexus_intent=incident", true
	case "cmdb_question", "cmdb":
		return reasoningv1.Intent_INTENT_CMDB_QUESTION, "label alexus_intent=" + v, true
	case "change_notice", "change":
		return reasoningv1.Intent_INTENT_CHANGE_NOTICE, "label alexus_intent=" + v, true
	case "noise":
		return reasoningv1.Intent_INTENT_NOISE, "label alexus_intent=noise", true
	}
	title := strings.ToLower(strings.TrimSpace(sig.Title))
	for _, p := range cmdbPrefixes {
		if strings.HasPrefix(title, p) {
			return reasoningv1.Intent_INTENT_CMDB_QUESTION, fmt.Sprintf("title starts with %q", p), false
		}
	}
	name := strings.ToLower(labels["alertname"])
	if noiseAlertnames[name] {
		return reasoningv1.Intent_INTENT_NOISE, fmt.Sprintf("alertname %q is a known heartbeat/inhibitor alert", labels["alertname"]), false
	}
	if labels["severity"] == "none" {
		return reasoningv1.Intent_INTENT_NOISE, "severity label is none", false
	}
	if kind := labels["type"] + " " + labels["category"]; strings.Contains(kind, "change") || strings.Contains(kind, "deploy") {
		return reasoningv1.Intent_INTENT_CHANGE_NOTICE, "type/category label names a change", false
	}
	text := name + " " + title
	for _, w := range changeWords {
		if strings.Contains(text, w) {
			return reasoningv1.Intent_INTENT_CHANGE_NOTICE, fmt.Sprintf("alertname or title mentions %q", w), false
		}
	}
	if !sig.Firing {
		return reasoningv1.Intent_INTENT_INCIDENT, "a non-firing alert (kept as an incident for the record)", false
	}
	return reasoningv1.Intent_INTENT_INCIDENT, "a firing alert", false
}

// classifySeverity prefers what the source said. Ingest fills a default
// severity when the source gives no label, so without a severity label the
// alert's text is consulted first and the signal's severity is the fallback.
func classifySeverity(sig Signal, labels map[string]string, intent reasoningv1.Intent) (signalv1.Severity, string, bool) {
	if l := labels["severity"]; l != "" {
		sev := sig.Severity
		if sev == signalv1.Severity_SEVERITY_UNSPECIFIED {
			sev = severityFromLabel(l)
		}
		if sev != signalv1.Severity_SEVERITY_UNSPECIFIED {
			return sev, fmt.Sprintf("severity label %q", l), true
		}
	}
	text := " " + strings.ToLower(strings.Join([]string{sig.Title, sig.Description, summaryOf(sig)}, " "))
	for _, g := range severityWords {
		for _, w := range g.words {
			if strings.Contains(text, w) {
				return g.sev, fmt.Sprintf("severity %s inferred from %q in the text", severityName(g.sev), strings.TrimSpace(w)), false
			}
		}
	}
	if sig.Severity != signalv1.Severity_SEVERITY_UNSPECIFIED {
		return sig.Severity, "the signal's severity " + severityName(sig.Severity), false
	}
	if intent == reasoningv1.Intent_INTENT_INCIDENT {
		// Something fired with no hint of how bad it is; assume it matters
		// enough to be looked at.
		return signalv1.Severity_SEVERITY_WARNING, "no severity given; assumed warning", false
	}
	return signalv1.Severity_SEVERITY_INFO, "no severity given; assumed info", false
}

// Diagnose follows the incident-or-CMDB branch for a classified signal.
//
// For incidents the probable cause is what the alert says about itself (its
// summary, else its description, else its title), and every piece of the
// signal that supports it is listed as evidence. Only firing incidents of
// at least WARNING severity get a recommended action: notifying the
// tenant's default webhook target. Noise and change notices get none.
//
// CMDB questions get a plain answer that the configuration graph is not
// connected yet, at low confidence, so the confidence check hands them to a
// human.
func Diagnose(sig Signal, c Classification) Diagnosis {
	if c.Intent == reasoningv1.Intent_INTENT_CMDB_QUESTION {
		return Diagnosis{
			Branch:     reasoningv1.Branch_BRANCH_CMDB,
			Answer:     fmt.Sprintf("The configuration graph is not connected yet, so Alexus cannot answer %q automatically; a person will follow up.", sig.Title),
			Evidence:   []string{fmt.Sprintf("question: %q", sig.Title)},
			Confidence: 0.2,
		}
	}
	labels := lower(sig.Labels)
	d := Diagnosis{Branch: reasoningv1.Branch_BRANCH_INCIDENT}
	if s := summaryOf(sig); s != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("summary: %q", s))
	}
	if desc := cmp.Or(strings.TrimSpace(sig.Description), strings.TrimSpace(sig.Annotations["description"])); desc != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("description: %q", desc))
	}
	if name := labels["alertname"]; name != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("alertname: %q", name))
	}
	if sig.Resource != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("resource: %q", sig.Resource))
	}
	if l := labels["severity"]; l != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("severity label: %q", l))
	}
	if rb := sig.Annotations["runbook_url"]; rb != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("runbook: %s", rb))
	}
	cause := cmp.Or(summaryOf(sig), strings.TrimSpace(sig.Description), strings.TrimSpace(sig.Annotations["description"]), strings.TrimSpace(sig.Title))
	switch c.Intent {
	case reasoningv1.Intent_INTENT_NOISE:
		d.ProbableCause = "Classified as noise; nothing appears to be broken: " + cause
		d.Confidence = c.Confidence
		return d
	case reasoningv1.Intent_INTENT_CHANGE_NOTICE:
		d.ProbableCause = "A planned change rather than a fault: " + cause
		d.Confidence = c.Confidence
		return d
	}
	d.ProbableCause = cause
	if sig.Resource != "" && !strings.Contains(cause, sig.Resource) {
		d.ProbableCause = fmt.Sprintf("%s (on %s)", cause, sig.Resource)
	}
	d.Confidence = capConfidence(0.4 + 0.15*float64(len(d.Evidence)))
	if sig.Firing && c.Severity >= signalv1.Severity_SEVERITY_WARNING {
		d.Action = &Action{
			Kind:    ActionKindWebhook,
			Target:  DefaultWebhookTarget,
			Summary: fmt.Sprintf("Notify the %q webhook target about the %s alert %q", DefaultWebhookTarget, severityName(c.Severity), sig.Title),
		}
	}
	return d
}

// Decide takes the confidence check's decision.
//
// The combined confidence is the lower of the classification's and the
// diagnosis's: a decision is only as sure as its weakest stage.
//
//   - With a recommended action: execute at or above ExecuteAt, clarify
//     (ask a person to confirm the action) at or above ClarifyAt, escalate
//     below.
//   - Without one (noise, change notices, informational incidents, CMDB
//     answers): there is nothing to execute, so a middling confidence
//     (between the thresholds) clarifies, asking a person whether the
//     alert needs attention after all; a confident one escalates with
//     "no action to take", handing it to a person to close; a low one
//     escalates because the rules could not make sense of it. Escalating
//     confident noise rather than clarifying it keeps the triage queue for
//     questions that need an answer.
func Decide(c Classification, d Diagnosis, th Thresholds) Decision {
	conf := math.Min(c.Confidence, d.Confidence)
	out := Decision{Confidence: conf, Thresholds: th}
	switch {
	case d.Action != nil && conf >= th.ExecuteAt:
		out.Decision = reasoningv1.Decision_DECISION_EXECUTE
		out.Reason = fmt.Sprintf("confidence %.2f is at or above %.2f; %s", conf, th.ExecuteAt, d.Action.Summary)
	case conf >= th.ClarifyAt && conf < th.ExecuteAt:
		out.Decision = reasoningv1.Decision_DECISION_CLARIFY
		if d.Action != nil {
			out.Reason = fmt.Sprintf("confidence %.2f is below %.2f; confirm before acting: %s", conf, th.ExecuteAt, d.Action.Summary)
		} else {
			out.Reason = fmt.Sprintf("no action recommended and confidence %.2f is below %.2f; does this need attention?", conf, th.ExecuteAt)
		}
	case d.Action == nil && conf >= th.ExecuteAt:
		out.Decision = reasoningv1.Decision_DECISION_ESCALATE
		out.Reason = "no action to take"
	default:
		out.Decision = reasoningv1.Decision_DECISION_ESCALATE
		out.Reason = fmt.Sprintf("confidence %.2f is below %.2f; a person should look", conf, th.ClarifyAt)
	}
	return out
}

// severityFromLabel maps a severity label the same way ingest's normalisers
// do, for signals that arrive with a label but no mapped severity.
func severityFromLabel(l string) signalv1.Severity {
	switch l {
	case "critical", "page", "emergency", "fatal", "p1":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "error", "high", "major", "p2":
		return signalv1.Severity_SEVERITY_ERROR
	case "warning", "warn", "medium", "minor", "p3":
		return signalv1.Severity_SEVERITY_WARNING
	case "info", "low", "none", "informational", "p4", "p5":
		return signalv1.Severity_SEVERITY_INFO
	}
	return signalv1.Severity_SEVERITY_UNSPECIFIED
}

func summaryOf(sig Signal) string {
	return strings.TrimSpace(sig.Annotations["summary"])
}

func lower(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels))
	for k, v := range labels {
		out[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	if s, ok := out["severity"]; ok {
		out["severity"] = strings.ToLower(s)
	}
	return out
}

func capConfidence(c float64) float64 {
	// Round to two decimals so sums of increments compare exactly against
	// thresholds (0.5+0.1+0.1+0.1 is not 0.8 in floating point).
	c = math.Round(c*100) / 100
	return math.Min(c, maxConfidence)
}

func severityName(s signalv1.Severity) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "SEVERITY_"))
}
