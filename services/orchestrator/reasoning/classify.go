package reasoning

import (
	"fmt"
	"strconv"
	"strings"

	reasoningv1 "github.com/alexus-platform/alexus/gen/alexus/reasoning/v1"
	signalv1 "github.com/alexus-platform/alexus/gen/alexus/signal/v1"
)

// Shorter names for the values the rules return.
const (
	intentIncident = reasoningv1.Intent_INTENT_INCIDENT
	intentCMDB     = reasoningv1.Intent_INTENT_CMDB_QUESTION
	intentChange   = reasoningv1.Intent_INTENT_CHANGE_NOTICE
	intentNoise    = reasoningv1.Intent_INTENT_NOISE

	sevUnspecified = signalv1.Severity_SEVERITY_UNSPECIFIED
	sevInfo        = signalv1.Severity_SEVERITY_INFO
	sevWarning     = signalv1.Severity_SEVERITY_WARNING
	sevError       = signalv1.Severity_SEVERITY_ERROR
	sevCritical    = signalv1.Severity_SEVERITY_CRITICAL
)

// strength is how decisive the rule that settled the intent is.
type strength int

const (
	// byDefault: no rule matched; the signal is taken as an incident.
	byDefault strength = iota
	// weakRule: a rule matched, but it is a judgement call (a deprecation
	// warning, flapping said to be expected, a conversational question).
	weakRule
	// strongRule: a rule matched that leaves little doubt (a vendor's test
	// button, a heartbeat, "what depends on X?", "Deployment ... started").
	strongRule
	// explicitLabel: the sender said so with alexus_intent.
	explicitLabel
)

// Intent rules. Each table is read by classifyIntent in the order the
// package documentation gives.
var (
	// testMarkers are how vendors and people mark a test notification:
	// Datadog's "[TEST]" title prefix, Kibana's "[test]" connector test,
	// "Test notification" (GCP, Azure action groups, Grafana's "Notification
	// test"), "Test alert" (Opsgenie, Splunk), "Test incident" (PagerDuty),
	// "Test problem notification" (Dynatrace), "Test workflow notification"
	// (New Relic), Sentry's sample event and "please ignore".
	testMarkers = mustPattern(`(?i)\[test\]|\btest(?:ing)?\s+(?:\w+\s+)?(?:notification|alert|incident|problem|event|message|page|webhook|connector|trigger)s?\b|\b(?:notification|alert|webhook)\s+test\b|\bplease ignore\b|\bthis is a test\b|\bexample (?:\w+\s+)?exception\b|\bsample event\b|^\s*test\s*$`)
	// qualifiedTests are tests that are checks of a real system, not of
	// the notification path: a failing smoke test is an incident.
	qualifiedTests = words("synthetic test*", "smoke test*", "load test*", "integration test*", "e2e test*", "end to end test*", "unit test*", "canary test*", "failover test*", "dr test*")
	// testLabels are labels that mark a test or sample event.
	testLabels = []string{"sample_event", "test", "is_test"}

	// heartbeatNames are alerts that fire on purpose to prove the alerting
	// pipeline works, or that exist only to inhibit others (names after
	// normText, so "DeadMansSwitch" reads "dead mans switch").
	heartbeatNames = words("watchdog", "info inhibitor", "dead mans switch", "deadmansswitch", "dead mans snitch", "deadmanssnitch", "always firing", "heartbeat")
	// heartbeatPhrases describe such an alert in prose.
	heartbeatPhrases = words("heartbeat*", "dead man's switch", "dead man switch", "should always be firing", "always be firing", "alerting pipeline is functional", "canary alarm", "used to inhibit")
	// heartbeatMissed turns a heartbeat into an incident: the thing that
	// should beat has stopped.
	heartbeatMissed = words("expired", "missed", "missing", "not received", "stopped", "has not been pinged", "not been pinged", "overdue", "late", "no heartbeat")

	// questionOpeners start a question.
	// Without a question mark only a wh-word followed by a space counts, so
	// "Can't reach db" and "Has restarted 5 times" are not questions.
	questionOpeners = mustPattern(`(?i)^\s*(?:what|which|who|whom|whose|where|why|how|anyone know|does anyone)\s`)
	// cmdbTopics are what configuration questions ask about:
	// dependencies, owners, placement and impact.
	cmdbTopics = words("depend*", "owns", "owner*", "own", "on call", "on-call", "team", "runs on", "run on", "running on", "hosted", "host*", "which services", "what services", "use*", "used by", "upstream", "downstream", "blast radius", "impact*", "store*", "located", "where", "version", "what changed", "connected to", "talks to", "cluster", "configured", "configuration")
	// conversational openers make a question a chat message rather than a
	// query, so the rules are less sure what is asked.
	conversational = words("can someone", "could someone", "can anyone", "could anyone", "does anyone", "anyone know", "quick question", "any idea", "help me")

	// changeWords name a planned or performed change.
	changeWords = words("deploy*", "release", "released to", "rollout*", "roll out", "rolled out", "rolling out", "rolling update", "maintenance", "upgrade*", "feature flag*", "flag enabled", "config change*", "configuration change*", "change window", "scheduled change", "planned change", "change audit", "change request", "terraform apply", "helm upgrade", "migration window", "change event")
	// changeLabelValues are values of the type, category, component and
	// kind labels that mark a change event.
	changeLabelValues = words("change*", "deploy*", "release*", "maintenance", "rollout")
	// changeFailed turns a change into an incident: it failed and is
	// causing errors.
	changeFailed = words("failed", "failing", "failure*", "error*", "5xx", "crash*", "outage", "broke*", "aborted", "degraded")
	// changeFaults in the headline say the alert is about the state of a
	// deployed object, not a change event: Kubernetes'
	// KubeDeploymentReplicasMismatch or KubeDeploymentRolloutStuck.
	changeFaults = words("mismatch*", "stuck", "stalled", "not ready", "unhealthy", "unavailable", "down", "timed out", "timeout", "not rolled out", "replicas")

	// routineReports are scheduled reports and digests.
	routineReports = mustPattern(`(?i)\b(?:daily|weekly|monthly|nightly|hourly)\b.*\b(?:report|digest|summary)\b|\busage report\b|\bdigest\b`)
	// outsideProduction are things no on-call engineer looks after.
	outsideProduction = words("printer", "toner", "paper jam")
	// nonProdEnvs are environment label values outside production.
	nonProdEnvs = map[string]bool{"dev": true, "development": true, "test": true, "testing": true, "ci": true, "sandbox": true, "qa": true, "lab": true}
	// deprecations are warnings about future breakage, not faults.
	deprecations = words("deprecation*", "deprecated")
	// flapping and expectedPhrasing together are flapping the text itself
	// calls expected.
	flapping         = words("flapping", "flap*")
	expectedPhrasing = words("expected", "known to", "is normal", "are normal", "benign", "by design", "harmless")
	// insufficientData is CloudWatch's "cannot evaluate" state.
	insufficientData = words("insufficient data")
)

// classifyIntent decides what sig is. It returns the intent, a reason, how
// decisive the rule was, and notes that lower the confidence.
func classifyIntent(sig Signal, labels map[string]string, t textOf) (reasoningv1.Intent, string, strength, []string) {
	switch v := strings.ToLower(labels[IntentLabel]); v {
	case "incident":
		return intentIncident, "label alexus_intent=incident", explicitLabel, nil
	case "cmdb_question", "cmdb":
		return intentCMDB, "label alexus_intent=" + v, explicitLabel, nil
	case "change_notice", "change":
		return intentChange, "label alexus_intent=" + v, explicitLabel, nil
	case "noise":
		return intentNoise, "label alexus_intent=noise", explicitLabel, nil
	}
	all := t.all()

	// 1. A vendor's test button or a person's test message.
	for _, k := range testLabels {
		if v := strings.ToLower(labels[k]); v == "yes" || v == "true" || v == "1" {
			return intentNoise, fmt.Sprintf("label %s=%s marks a test event", k, labels[k]), strongRule, nil
		}
	}
	if m := testMarkers.FindString(t.headline + " . " + t.detail); m != "" && !qualifiedTests.MatchString(all) {
		return intentNoise, fmt.Sprintf("test notification (%q)", strings.TrimSpace(m)), strongRule, nil
	}

	// 2. Heartbeats and dead man's switches, unless the beat has stopped.
	name := normText(ruleName(labels))
	if heartbeatNames.MatchString(name) || heartbeatPhrases.MatchString(all) {
		if m := cmpOr(firstMatch(heartbeatMissed, all), firstMatch(errorWords, all)); m != "" {
			return intentIncident, fmt.Sprintf("a heartbeat that stopped (%q)", m), byDefault, []string{"a missed heartbeat says the check-in stopped, not what broke"}
		}
		return intentNoise, "a heartbeat or dead man's switch", strongRule, nil
	}

	// 3. Questions about configuration items.
	if q := strings.TrimSpace(sig.Title); strings.HasSuffix(q, "?") || questionOpeners.MatchString(q) && sig.Description == "" {
		var notes []string
		st := strongRule
		why := "the title is a question"
		if m := cmdbTopics.FindString(t.title); m != "" {
			why = fmt.Sprintf("a question about configuration items (%q)", m)
		} else {
			st = weakRule
			notes = append(notes, "a question with no configuration topic")
		}
		if conversational.MatchString(t.title) {
			st = weakRule
			notes = append(notes, "a conversational question")
		}
		if critical.MatchString(t.title) {
			st = weakRule
			notes = append(notes, "the question mentions an outage")
		}
		return intentCMDB, why, st, notes
	}

	// 4. Changes, unless they failed.
	changeBy := ""
	for _, k := range []string{"type", "category", "component", "kind", "event_type"} {
		if v := labels[k]; v != "" && changeLabelValues.MatchString(normText(v)) {
			changeBy = fmt.Sprintf("label %s=%s", k, v)
			break
		}
	}
	if m := changeWords.FindString(t.headline); changeBy == "" && m != "" {
		changeBy = fmt.Sprintf("the title or rule names a change (%q)", m)
	}
	if changeBy != "" {
		if m := cmpOr(firstMatch(changeFailed, all), changeFaults.FindString(t.headline)); m != "" {
			return intentIncident, fmt.Sprintf("a change that failed or a deployed object in a bad state (%q)", m), strongRule, nil
		}
		if sig.Resource == "" && t.detail == "" {
			return intentChange, changeBy + "; nothing says what changed", weakRule, []string{"a change notice that does not say what changed"}
		}
		return intentChange, changeBy, strongRule, nil
	}

	// 5. Other noise.
	if m := routineReports.FindString(t.title); m != "" {
		return intentNoise, fmt.Sprintf("a routine report (%q)", m), strongRule, nil
	}
	if m := outsideProduction.FindString(all); m != "" {
		return intentNoise, fmt.Sprintf("about something outside production (%q)", m), strongRule, nil
	}
	if flapping.MatchString(all) && expectedPhrasing.MatchString(all) {
		return intentNoise, "flapping that the alert calls expected", weakRule, []string{"flapping judged expected"}
	}
	if m := deprecations.FindString(t.headline); m != "" {
		return intentNoise, fmt.Sprintf("a deprecation warning (%q)", m), weakRule, []string{"a deprecation warning"}
	}
	if insufficientData.MatchString(all) || strings.EqualFold(sig.Annotations["new_state"], "INSUFFICIENT_DATA") {
		return intentNoise, "the alarm has insufficient data to evaluate", weakRule, []string{"insufficient data is not an alarm"}
	}
	for _, k := range []string{"env", "environment"} {
		if v := strings.ToLower(labels[k]); nonProdEnvs[v] {
			return intentNoise, fmt.Sprintf("label %s=%s is outside production", k, labels[k]), weakRule, nil
		}
	}

	if !sig.Firing {
		return intentIncident, "a resolved or acknowledged alert (kept as an incident for the record)", byDefault, nil
	}
	return intentIncident, "a firing alert", byDefault, nil
}

// Severity rules, from most to least severe evidence.
var (
	// critical is evidence of an outage or loss.
	critical = mustPattern(`(?i)\b(?:outage|data loss|loss of data|kernel panic|unreachable|unavailable|is down|are down|went down|goes down|down|cannot be reached|can't be reached|no healthy|0 healthy|zero healthy|recovery is impossible|unrecoverable|not running)\b`)
	// allScope says a failure hits everyone.
	allScope = mustPattern(`(?i)\b(?:for all|from all|in all|all (?:requests|regions|locations|probes|users|customers)|every (?:request|location|region|probe)|for everyone|100% of requests|(\d+)\s*/\s*(\d+) locations|(\d+) of (\d+) (?:regions|locations|probes))\b`)
	// userBlocked says customers or users cannot do what the service is for.
	userBlocked = mustPattern(`(?i)\b(?:customers|users|clients)\s+(?:\w+\s+)?(?:cannot|can't|can not|are unable to)\b|\bcannot (?:pay|log in|login|check out|be placed|reach|read or write)\b`)
	// downHedges and monitoringSubjects guard "down" and "unavailable":
	// "may be down", "will be unavailable during maintenance" and
	// "monitoring unavailable" are not outages.
	downHedges         = mustPattern(`(?i)\b(?:may|might|could|would|will|if|whether|in case|expected to)\b`)
	monitoringSubjects = mustPattern(`(?i)\b(?:monitoring|agent|one agent|oneagent|exporter|collector|telemetry|metrics|scrape|daemon ?set|log pipeline)\b`)
	downNotOutage      = mustPattern(`(?i)\b(?:slow(?:ed|s)?|scal(?:e|ed|ing)|shut|wind|step(?:ped)?|turn(?:ed)?|count|drill|break|cool|calm|settle)\s+down\b|\bdown\s+(?:\d|by\b|from\b|to\b)`)

	// errorWords are failures that are not total: failed jobs, error rates,
	// crash loops, security events.
	errorWords = words("error*", "5xx", "50[0-4]", "exception*", "failing", "failed", "failure*", "crash*", "restarting repeatedly", "restart loop", "oom*", "out of memory", "timed out", "timeout*", "dropped", "dropping", "blocked", "mismatch*", "corrupt*", "health is red", "malware", "ransomware", "brute force", "credential stuffing", "compromised", "intrusion", "exfiltration", "not exported", "not generated", "not being updated")
	// warningWords are degradations and risks with no failure yet.
	warningWords = words("latency", "slow*", "degrad*", "lag", "lagging", "behind", "backlog*", "queue depth", "delayed", "saturat*", "pressure", "almost full", "filling", "will fill", "running out", "space is low", "low disk", "high cpu", "cpu high", "cpu utilization", "high memory", "memory high", "usage high", "utilization high", "utilisation high", "expires", "expiring", "expiry", "flapping", "anomal*", "unusual", "suspicious", "stale", "retried", "retries", "rate limit*", "429s", "out of sync", "apdex", "throttled", "temperature")

	// partialFailure words describe a failure as a spike rather than an
	// outage; with no outage evidence a critical vendor severity reads as
	// error.
	partialFailure = words("spike*", "burst*", "elevated", "increase*", "increased")
	// resourcePressure is a resource nearing a limit: a warning whatever
	// the vendor says, unless the text also reports a failure.
	resourcePressure = mustPattern(`(?i)\b(?:cpu|memory|heap|disk|storage|filesystem|slot|swap|inode)s?\b.*\b(?:usage|utili[sz]ation|above|over|saturat\w*|pressure|high|full|\d+(?:\.\d+)?%)|\b(?:usage|utili[sz]ation|saturation)\b.*\b(?:cpu|memory|heap|disk|slot)s?\b`)
	// monitoringBlind is an alert about the monitoring rather than the
	// system: lost visibility is a warning.
	monitoringBlind = words("no data", "nodata", "not reporting", "stopped reporting", "monitoring unavailable", "agent is not available", "agent not available", "agent unavailable", "lost connection", "datasource no data")
	// expiryIn reads "expires in 6 days"; within two weeks is a warning,
	// further ahead a reminder (info).
	expiryIn = mustPattern(`(?i)\bexpir\w*\s+in\s+(\d+)\s+(hour|day|week|month)s?\b`)
	// costWords are cost and budget reports: info.
	costWords = words("budget", "spend", "cost report", "billing alert", "capacity report", "license usage")
)

// severityLabelKeys are the label conventions that state a severity.
var severityLabelKeys = []string{"severity", "priority", "sev", "level", "alert_priority"}

// conventionSeverity reads the first severity label convention the signal
// carries, from its labels or annotations, through severityFromLabel
// (words, P1–P5, SEV0–SEV4 and Splunk's 1–6 scale). It returns
// UNSPECIFIED when there is none.
func conventionSeverity(sig Signal, labels map[string]string) (signalv1.Severity, string) {
	for _, k := range severityLabelKeys {
		v := labels[k]
		if v == "" {
			v = strings.TrimSpace(sig.Annotations[k])
		}
		if v == "" {
			continue
		}
		if s := severityFromLabel(strings.ToLower(v)); s != sevUnspecified {
			return s, fmt.Sprintf("%s=%s", k, v)
		}
	}
	return sevUnspecified, ""
}

// classifySeverity decides how bad an incident is. See the package
// documentation for the order the rules apply in.
//
// evidenced is true when a label convention states the severity or the
// text supports it, rather than the source's field alone.
func classifySeverity(sig Signal, labels map[string]string, t textOf) (sev signalv1.Severity, why string, evidenced bool, notes []string) {
	conv, convWhy := conventionSeverity(sig, labels)
	prior, priorWhy := sig.Severity, "the source's severity "+severityName(sig.Severity)
	if prior == sevUnspecified {
		prior, priorWhy = conv, "label "+convWhy
	}
	// A recovery keeps the severity of the fault it ends; vendors often send
	// recoveries as info, so a stated label says more.
	if !sig.Firing && conv > prior {
		prior, priorWhy = conv, "label "+convWhy
	}
	weak := false
	if conv == sevUnspecified && labels["urgency"] != "" && labels["priority"] == "" {
		// PagerDuty's high/low urgency is a paging choice, not a severity.
		weak = true
	}
	stated := conv != sevUnspecified
	all := t.all()

	if m := firstMatch(monitoringBlind, t.headline); m != "" {
		return sevWarning, fmt.Sprintf("warning: the alert is about lost monitoring (%q)", m), true, []string{"about the monitoring rather than the system"}
	}
	if m := outage(all); m != "" {
		return sevCritical, fmt.Sprintf("critical: the text reports an outage or loss (%q)", m), true, nil
	}
	if m := expiryIn.FindStringSubmatch(all); m != nil {
		if expiryDays(m[1], m[2]) <= 14 {
			return sevWarning, fmt.Sprintf("warning: %q is within two weeks", m[0]), true, nil
		}
		return sevInfo, fmt.Sprintf("info: %q is a reminder weeks ahead", m[0]), true, nil
	}
	if m := costWords.FindString(all); m != "" && firstMatch(errorWords, all) == "" {
		return sevInfo, fmt.Sprintf("info: a cost or capacity report (%q)", m), true, nil
	}

	headErr := firstMatch(errorWords, t.headline)
	detailErr := firstMatch(errorWords, t.detail)
	warn := firstMatch(warningWords, all)
	if hedged(warn, all) {
		warn = ""
	}
	switch {
	case prior == sevUnspecified || weak:
		if warn == "" && resourcePressure.MatchString(t.headline) {
			warn = "resource usage"
		}
		if m := cmpOr(headErr, detailErr); m != "" {
			return sevError, fmt.Sprintf("error: the text reports a failure (%q)", m), true, nil
		}
		if warn != "" {
			return sevWarning, fmt.Sprintf("warning: the text reports a degradation (%q)", warn), true, nil
		}
		return sevWarning, "no severity given; assumed warning", stated, nil
	case prior == sevCritical:
		if m := partialFailure.FindString(t.headline); m != "" {
			return sevError, fmt.Sprintf("error: %s, but the text describes a %q and no outage", priorWhy, m), true, []string{"the source's severity and the text disagree"}
		}
	case prior < sevError && headErr != "":
		return sevError, fmt.Sprintf("error: %s, but the title reports a failure (%q)", priorWhy, headErr), true, nil
	case prior == sevInfo && detailErr != "":
		return sevError, fmt.Sprintf("error: %s, but the text reports a failure (%q)", priorWhy, detailErr), true, nil
	case prior == sevInfo && warn != "":
		return sevWarning, fmt.Sprintf("warning: %s, but the text reports a degradation (%q)", priorWhy, warn), true, nil
	}
	if prior > sevWarning && resourcePressure.MatchString(t.headline) && headErr == "" && detailErr == "" {
		return sevWarning, fmt.Sprintf("warning: %s, but the alert is resource pressure with no failure", priorWhy), true, nil
	}
	agree := prior == sevError && cmpOr(headErr, detailErr) != "" || prior == sevWarning && warn != ""
	return prior, priorWhy, stated || agree, nil
}

// outage returns the outage phrase text holds, or "".
func outage(text string) string {
	for _, c := range clauses(text) {
		if pastOrNormal.MatchString(c) {
			continue
		}
		for _, loc := range critical.FindAllStringIndex(c, -1) {
			m := c[loc[0]:loc[1]]
			before := c[max(0, loc[0]-30):loc[0]]
			lm := strings.ToLower(m)
			if strings.Contains(lm, "down") || strings.Contains(lm, "unavailable") || strings.Contains(lm, "unreachable") || strings.Contains(lm, "not running") {
				if downHedges.MatchString(before) || monitoringSubjects.MatchString(before) || strings.Contains(before, "maintenance") {
					continue
				}
				if lm == "down" && downNotOutage.MatchString(c[max(0, loc[0]-12):min(len(c), loc[1]+6)]) {
					continue
				}
			}
			return strings.Join(strings.Fields(m), " ")
		}
		if m := userBlocked.FindString(c); m != "" {
			return strings.Join(strings.Fields(m), " ")
		}
		if m := allScope.FindStringSubmatch(c); m != nil && errorWords.MatchString(c) {
			if (m[1] != "" && m[1] != m[2]) || (m[3] != "" && m[3] != m[4]) {
				continue
			}
			return strings.Join(strings.Fields(m[0]), " ")
		}
	}
	return ""
}

// hedged reports whether phrase only appears hedged ("may run slower").
func hedged(phrase, text string) bool {
	if phrase == "" {
		return false
	}
	for _, c := range clauses(text) {
		i := strings.Index(c, phrase)
		if i < 0 {
			continue
		}
		if !downHedges.MatchString(c[max(0, i-20):i]) {
			return false
		}
	}
	return true
}

func expiryDays(n, unit string) int {
	v, _ := strconv.Atoi(n)
	switch unit {
	case "hour":
		return 0
	case "week":
		return v * 7
	case "month":
		return v * 30
	}
	return v
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
