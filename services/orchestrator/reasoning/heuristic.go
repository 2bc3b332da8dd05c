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
	// Link is the source's link back to the alert, if any.
	Link string
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
	// Runbook is the runbook link the signal carries, if any.
	Runbook string
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

// Confidence weights; see the package documentation's table.
const (
	confBase           = 0.5
	confExplicit       = 0.3
	confStrongRule     = 0.3
	confWeakRule       = 0.1
	confTitle          = 0.1
	confBareTitle      = -0.25
	confDetail         = 0.1
	confResource       = 0.1
	confSeverity       = 0.1
	confRuleName       = 0.05
	confLink           = 0.05
	confPartialCap     = 0.7
	confAnomalyOnlyCap = 0.45
)

// bareTitles are titles that say nothing about what is wrong.
var bareTitles = map[string]bool{
	"alert": true, "alarm": true, "problem": true, "incident": true, "notification": true, "event": true,
	"warning": true, "error": true, "issue": true, "triggered": true, "firing": true, "something": true,
	"happened": true, "wrong": true, "unknown": true, "new": true, "a": true, "an": true, "the": true,
	"is": true, "has": true, "there": true, "went": true, "check": true, "this": true,
}

// partialMarkers make an incident's impact plausible but uncertain: the
// confidence is capped below ExecuteAt so a person confirms.
var partialMarkers = []struct {
	re   *pattern
	note string
}{
	{words("flapping", "flapped", "flaps"), "flapping"},
	{words("possible", "possibly", "suspected", "suspicious", "anomaly", "anomalous", "unusual"), "a suspected rather than confirmed problem"},
	{words("rate limit*", "429s", "429 responses", "requests throttled", "throttled requests"), "rate limiting: the limiter may be doing its job"},
}

// syntheticCheck names a synthetic or browser check; one that failed with
// no statement of user impact may be the script rather than the system.
var syntheticCheck = words("synthetic monitor", "browser monitor", "synthetic check", "scripted browser")

// anomalyScore is an anomaly score; alone it is too little to go on.
var anomalyScore = mustPattern(`(?i)\banomaly\b.*\bscore\b|\bscore\s+\d+`)

// Classify decides what sig is, how bad it is, and how sure the rules are.
// The rules, and how confidence is built, are tabled in the package
// documentation.
func Classify(sig Signal) Classification {
	labels := lower(sig.Labels)
	t := readText(sig, labels)

	intent, why, st, notes := classifyIntent(sig, labels, t)
	used := []string{why}
	sev := sevInfo
	sevEvidenced := false
	if intent == intentIncident {
		var sevWhy string
		var sevNotes []string
		sev, sevWhy, sevEvidenced, sevNotes = classifySeverity(sig, labels, t)
		used = append(used, sevWhy)
		notes = append(notes, sevNotes...)
	} else {
		used = append(used, "info: "+intentName(intent)+" is always info")
	}

	conf := confBase
	switch st {
	case explicitLabel:
		conf += confExplicit
	case strongRule:
		conf += confStrongRule
	case weakRule:
		conf += confWeakRule
	}
	var ev []string
	switch {
	case isBare(sig.Title) && t.detail == "" && intent == intentIncident:
		// Nothing says what is wrong.
		conf += confBareTitle
		notes = append(notes, "nothing says what is wrong")
	case isBare(sig.Title):
		// A short title earns nothing, but for noise, changes and
		// questions it is what the intent rule read, so it costs nothing.
	default:
		conf += confTitle
		ev = append(ev, "title")
	}
	if t.detail != "" {
		conf += confDetail
		ev = append(ev, "details")
	}
	if sig.Resource != "" {
		conf += confResource
		ev = append(ev, fmt.Sprintf("resource %q", sig.Resource))
	}
	if sevEvidenced || (intent == intentIncident && sig.Severity != sevUnspecified && sig.Severity == sev) {
		conf += confSeverity
		ev = append(ev, "a stated severity")
	}
	if n := ruleName(labels); n != "" {
		conf += confRuleName
		ev = append(ev, fmt.Sprintf("rule %q", n))
	}
	if sig.Link != "" || runbook(sig, labels) != "" {
		conf += confLink
		ev = append(ev, "a link")
	}
	if intent == intentIncident {
		all := t.all()
		for _, p := range partialMarkers {
			if p.re.MatchString(all) {
				notes = append(notes, p.note)
			}
		}
		if syntheticCheck.MatchString(all) && firstMatch(errorWords, all) != "" && outage(all) == "" {
			notes = append(notes, "a synthetic check failed with no stated user impact")
		}
	}
	if st == weakRule {
		notes = append(notes, "the intent rule is a judgement call")
	}
	if len(notes) > 0 {
		conf = math.Min(conf, confPartialCap)
	}
	if intent == intentIncident && anomalyScore.MatchString(t.detail) && firstMatch(errorWords, t.all()) == "" {
		conf = math.Min(conf, confAnomalyOnlyCap)
		notes = append(notes, "an anomaly score alone")
	}
	if len(ev) > 0 {
		used = append(used, "evidence: "+strings.Join(ev, ", "))
	}
	if len(notes) > 0 {
		used = append(used, "less sure: "+strings.Join(dedupe(notes), ", "))
	}
	return Classification{
		Intent:     intent,
		Severity:   sev,
		Confidence: capConfidence(conf),
		Rationale:  "heuristic: " + strings.Join(used, "; "),
	}
}

// isBare reports whether title is a single token (a rule or metric name
// such as "DatasourceNoData") or a generic word such as "Alert".
func isBare(title string) bool {
	if len(strings.Fields(title)) <= 1 {
		return true
	}
	for _, w := range strings.Fields(normText(title)) {
		if !bareTitles[strings.Trim(w, ".:!,")] {
			return false
		}
	}
	return true
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func intentName(i reasoningv1.Intent) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(i.String(), "INTENT_")), "_", " ")
}

// Diagnose follows the incident-or-CMDB branch for a classified signal.
//
// For incidents the probable cause is what the alert says about itself (its
// summary, else its description, else its title), and every piece of the
// signal that supports it is listed as evidence: the summary, the
// description or the vendor's free-text fields, the rule that fired, the
// resource, a stated severity and a runbook link, whichever source sent
// them. Only firing incidents of at least WARNING severity get a
// recommended action: notifying the tenant's default webhook target. Noise
// and change notices get none.
//
// CMDB questions get a plain answer that the configuration graph is not
// connected yet. The answer adds no certainty of its own, so the
// diagnosis's confidence is the classification's: the confidence check
// then hands a clear question to a person ("no action to take") and asks
// about an unclear one, as it does for other signals without an action.
func Diagnose(sig Signal, c Classification) Diagnosis {
	if c.Intent == reasoningv1.Intent_INTENT_CMDB_QUESTION {
		return Diagnosis{
			Branch:     reasoningv1.Branch_BRANCH_CMDB,
			Answer:     fmt.Sprintf("The configuration graph is not connected yet, so Alexus cannot answer %q automatically; a person will follow up.", sig.Title),
			Evidence:   []string{fmt.Sprintf("question: %q", sig.Title)},
			Confidence: c.Confidence,
		}
	}
	labels := lower(sig.Labels)
	d := Diagnosis{Branch: reasoningv1.Branch_BRANCH_INCIDENT}
	if s := summaryOf(sig); s != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("summary: %q", s))
	} else if !isBare(sig.Title) {
		// Sources without a summary field say what is wrong in the title.
		d.Evidence = append(d.Evidence, fmt.Sprintf("title: %q", strings.TrimSpace(sig.Title)))
	}
	if desc := detailOf(sig); desc != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("description: %q", desc))
	}
	if name := ruleName(labels); name != "" {
		key := "rule"
		if labels["alertname"] != "" {
			key = "alertname"
		}
		d.Evidence = append(d.Evidence, fmt.Sprintf("%s: %q", key, name))
	}
	if sig.Resource != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("resource: %q", sig.Resource))
	}
	if l := labels["severity"]; l != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("severity label: %q", l))
	} else if _, conv := conventionSeverity(sig, labels); conv != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("severity: %s", conv))
	} else if sig.Severity != signalv1.Severity_SEVERITY_UNSPECIFIED {
		d.Evidence = append(d.Evidence, fmt.Sprintf("source severity: %s", severityName(sig.Severity)))
	}
	if rb := runbook(sig, labels); rb != "" {
		d.Evidence = append(d.Evidence, fmt.Sprintf("runbook: %s", rb))
		d.Runbook = rb
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

// detailOf is the alert's description, else the first of the vendors'
// free-text annotations it carries.
func detailOf(sig Signal) string {
	if d := strings.TrimSpace(sig.Description); d != "" {
		return d
	}
	for _, k := range detailAnnotations {
		if k == "summary" {
			continue
		}
		if v := strings.TrimSpace(sig.Annotations[k]); v != "" && v != sig.Title {
			return v
		}
	}
	return ""
}

// Decide takes the confidence check's decision.
//
// The combined confidence is the lower of the classification's and the
// diagnosis's: a decision is only as sure as its weakest stage.
//
//   - A critical incident without a runbook always escalates, however
//     confident: nobody has written down how to act on it safely.
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
	case c.Intent == reasoningv1.Intent_INTENT_INCIDENT && c.Severity == signalv1.Severity_SEVERITY_CRITICAL && d.Runbook == "":
		out.Decision = reasoningv1.Decision_DECISION_ESCALATE
		out.Reason = "a critical incident without a runbook is always handed to a person"
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

// severityFromLabel maps a severity label convention's value, for signals
// that arrive with a label but no mapped severity (and for recoveries,
// which vendors often send as info). l is lower case.
//
//	critical, crit, page, emergency, fatal, disaster, p1, sev0, sev1, 5, 6 → critical
//	error, high, major, severe, p2, sev2, 4                                → error
//	warning, warn, medium, minor, average, moderate, p3, sev3, 3            → warning
//	info, low, none, informational, information, not classified, p4, p5,
//	sev4, 1, 2                                                              → info
//
// The numbers are Splunk's alert severity scale (1 debug ... 6 fatal);
// SEV0–SEV4 is the incident-response convention where SEV1 is an outage.
func severityFromLabel(l string) signalv1.Severity {
	switch strings.TrimSpace(l) {
	case "critical", "crit", "page", "emergency", "fatal", "disaster", "p1", "sev0", "sev1", "sev-0", "sev-1", "5", "6":
		return signalv1.Severity_SEVERITY_CRITICAL
	case "error", "high", "major", "severe", "p2", "sev2", "sev-2", "4":
		return signalv1.Severity_SEVERITY_ERROR
	case "warning", "warn", "medium", "minor", "average", "moderate", "p3", "sev3", "sev-3", "3":
		return signalv1.Severity_SEVERITY_WARNING
	case "info", "low", "none", "informational", "information", "not classified", "p4", "p5", "sev4", "sev-4", "1", "2":
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
